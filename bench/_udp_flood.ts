/**
 * bench/_udp_flood.ts — a UDP sender strong enough to saturate a router: libc `sendmmsg` through
 * Deno FFI, `--batch` datagrams per system call from one connected socket (bench/router.ts runs
 * it in the inside host's namespace, like its python3 sender, with the same protocol).
 *
 * ```sh
 * deno run --allow-ffi bench/_udp_flood.ts DST PORT SECONDS SIZE [BATCH]
 * ```
 *
 * Prints `ready`, waits for a line on stdin, sends for SECONDS, then prints the number of
 * datagrams the kernel accepted (a datagram the kernel refused, e.g. ENOBUFS when the device
 * queue is full, is not counted and the call is retried with the next batch) and the process's
 * CPU seconds (user + system).
 *
 * @module
 */

import process from "node:process";

const AF_INET = 2, SOCK_DGRAM = 2;
/** sizeof(struct mmsghdr) on 64-bit Linux: struct msghdr (56) + msg_len (4) + padding (4). */
const MMSGHDR = 64;

function ptr(buf: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

if (import.meta.main) {
  const [dst, port, secs, size, batchArg] = Deno.args;
  const batch = Number(batchArg ?? 64);
  if (dst === undefined || !(Number(secs) > 0) || !(Number(size) >= 0) || !(batch >= 1)) {
    throw new TypeError("usage: _udp_flood.ts DST PORT SECONDS SIZE [BATCH]");
  }
  const lib = Deno.dlopen("libc.so.6", {
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  const fd = lib.symbols.socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) throw new Error("socket() failed");
  const sa = new Uint8Array(16);
  const dv = new DataView(sa.buffer);
  dv.setUint16(0, AF_INET, true);
  dv.setUint16(2, Number(port), false);
  dst.split(".").forEach((b, i) => sa[4 + i] = Number(b));
  if (lib.symbols.connect(fd, sa, 16) !== 0) throw new Error(`connect(${dst}) failed`);
  // One payload, one iovec, `batch` message headers all pointing at it (the socket is connected:
  // no msg_name).
  const payload = new Uint8Array(Math.max(1, Number(size))).fill(0x78);
  const iov = new BigUint64Array([ptr(payload), BigInt(Number(size))]);
  const iovPtr = ptr(new Uint8Array(iov.buffer));
  const msgs = new Uint8Array(MMSGHDR * batch);
  const mv = new DataView(msgs.buffer);
  for (let i = 0; i < batch; i++) {
    mv.setBigUint64(i * MMSGHDR + 16, iovPtr, true); // msg_iov
    mv.setBigUint64(i * MMSGHDR + 24, 1n, true); // msg_iovlen
  }
  console.log("ready");
  const buf = new Uint8Array(64);
  await Deno.stdin.read(buf);
  let sent = 0;
  const end = performance.now() + Number(secs) * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 16; k++) {
      const n = lib.symbols.sendmmsg(fd, msgs, batch, 0);
      if (n > 0) sent += n;
    }
  }
  const cpu = process.cpuUsage();
  console.log(`${sent} ${((cpu.user + cpu.system) / 1e6).toFixed(3)}`);
  lib.symbols.close(fd);
  lib.close();
  // Keep iov and payload alive until here (the kernel read them through raw pointers).
  if (iov[0] === 0n || payload.length === 0) console.error("unreachable");
}
