// Bulk TCP transfers between smolnet and the Linux kernel through a TUN device: smolnet downloads
// from and uploads to a python3 server in the namespace, SHA-256 equal both ways; then the same
// with our FaultInjector dropping 5 % and reordering 5 % of frames in both directions.
// SMOLNET_INTEROP_MIB sets the size (default 16 MiB clean, a quarter of it with faults).
import assert from "node:assert/strict";
import { FaultInjector } from "../../src/phy/fault_injector.ts";
import {
  interop,
  interopBytes,
  KERNEL_V4,
  KernelPeer,
  mbps,
  peerResult,
  PY_PEER,
  readHash,
  reportSkip,
  withTimeout,
  writeHashed,
} from "./_kernel_peer.ts";

reportSkip("bulk_transfer_test.ts");

const FAULTS = { seed: 6, dropRate: 0.05, reorderRate: 0.05, reorderDelay: 3 } as const;

async function transfer(
  direction: "download" | "upload",
  bytes: number,
  faults: boolean,
): Promise<void> {
  await using peer = await KernelPeer.create();
  const injector = faults ? new FaultInjector(peer.device, FAULTS) : null;
  const stack = peer.stack(injector !== null ? { device: injector } : {});
  const port = direction === "download" ? 5001 : 5002;
  const server = direction === "download"
    ? peer.python(PY_PEER, ["send", String(port), String(bytes)])
    : peer.python(PY_PEER, ["recv", String(port)]);
  await peer.waitListening(port);
  const conn = await stack.connect({ hostname: KERNEL_V4, port });
  const t0 = performance.now();
  let ours: { bytes: number; sha256: string };
  try {
    if (direction === "download") {
      ours = await withTimeout(readHash(conn), 120_000, "download");
      await conn.closeWrite();
    } else {
      const sha256 = await withTimeout(writeHashed(conn, bytes), 120_000, "upload");
      ours = { bytes, sha256 };
      // The server closes after EOF: wait for its FIN so every byte was acknowledged.
      await withTimeout(conn.read(new Uint8Array(1)), 30_000, "peer FIN");
    }
  } finally {
    conn.close();
  }
  const ms = performance.now() - t0;
  const theirs = peerResult(await withTimeout(server.output, 30_000, "kernel peer exit"));
  assert.equal(ours.bytes, bytes);
  assert.equal(theirs.bytes, bytes);
  assert.equal(ours.sha256, theirs.sha256, "SHA-256 differs");
  const f = injector?.stats;
  const faultNote = f === undefined ? "" : ` (faults: rx dropped ${f.rx.dropped} reordered ` +
    `${f.rx.reordered}, tx dropped ${f.tx.dropped} reordered ${f.tx.reordered})`;
  console.log(
    `${direction} ${(bytes / 1048576).toFixed(1)} MiB ${faults ? "with" : "without"} faults: ` +
      `${ms.toFixed(0)} ms, ${mbps(bytes, ms)} MB/s${faultNote}`,
  );
  if (f !== undefined) {
    assert.ok(f.rx.dropped > 0 && f.tx.dropped > 0 && f.rx.reordered > 0 && f.tx.reordered > 0);
  }
}

Deno.test({
  name: "interop: smolnet downloads from a kernel server through TUN, SHA-256 equal",
  ...interop,
  fn: () => transfer("download", interopBytes(16), false),
});

Deno.test({
  name: "interop: smolnet uploads to a kernel server through TUN, SHA-256 equal",
  ...interop,
  fn: () => transfer("upload", interopBytes(16), false),
});

Deno.test({
  name: "interop: download with 5 % drop and 5 % reordering both ways, SHA-256 equal",
  ...interop,
  fn: () => transfer("download", Math.ceil(interopBytes(16) / 4), true),
});

Deno.test({
  name: "interop: upload with 5 % drop and 5 % reordering both ways, SHA-256 equal",
  ...interop,
  fn: () => transfer("upload", Math.ceil(interopBytes(16) / 4), true),
});
