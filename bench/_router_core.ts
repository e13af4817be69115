/**
 * bench/_router_core.ts — the in-process cost of forwarding one packet: a `Forwarder` with two
 * interfaces over `linkPair` (no devices, no system calls), 64-byte UDP datagrams of one flow
 * pushed in batches of 64 and drained on the far side, process CPU time per packet. Used by
 * `bench/router.ts --core`, which runs this checkout's and a baseline's code alternately, one
 * process per run (`--core-one ROOT PACKETS NAT`).
 *
 * @module
 */

import process from "node:process";

/** One run: CPU nanoseconds per forwarded packet with the tree at `root` (ends in `/`). */
export async function forwardCost(root: string, packets: number, nat: boolean): Promise<number> {
  const iface = await import(`${root}src/iface/mod.ts`);
  const phy = await import(`${root}src/phy/mod.ts`);
  const [hostIn, routerIn] = phy.linkPair({ medium: "ip", queueLen: 128 });
  const [routerOut, hostOut] = phy.linkPair({ medium: "ip", queueLen: 128 });
  const inside = new iface.Interface({ addresses: ["192.0.2.1/24"], seed: 1 });
  const outside = new iface.Interface({ addresses: ["198.51.100.1/24"], seed: 2 });
  const fwd = new iface.Forwarder({ allowDocumentation: true });
  fwd.attach(inside, routerIn);
  fwd.attach(
    outside,
    routerOut,
    nat ? { nat: new iface.NatTable({ externalAddress: "198.51.100.1" }) } : {},
  );
  const none = new iface.SocketSet();
  const pkt = udp4();
  const batch = 64;
  const run = (n: number, now: number): void => {
    for (let done = 0; done < n; done += batch) {
      for (let i = 0; i < batch; i++) {
        const b = hostIn.transmit(now, pkt.length)!;
        b.set(pkt);
        hostIn.commit();
      }
      inside.poll(now, routerIn, none);
      outside.poll(now, routerOut, none);
      let got = 0;
      while (hostOut.receive(now) !== null) got++;
      if (got !== batch) throw new Error(`forwarded ${got} of ${batch}`);
    }
  };
  run(200_000, 0); // warm-up: let V8 optimise
  const c0 = process.cpuUsage();
  run(packets, 1);
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / packets;
}

/** An IPv4/UDP datagram, 192.0.2.10:5000 → 198.51.100.20:9000, 64 bytes of payload. */
function udp4(): Uint8Array {
  const p = new Uint8Array(20 + 8 + 64).fill(0x78);
  const v = new DataView(p.buffer);
  v.setUint16(0, 0x4500);
  v.setUint16(2, p.length);
  v.setUint32(4, 0x00004000); // ident 0, DF
  v.setUint16(8, (64 << 8) | 17); // TTL 64, UDP
  v.setUint16(10, 0);
  p.set([192, 0, 2, 10, 198, 51, 100, 20], 12);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(10, ~sum & 0xffff);
  v.setUint16(20, 5000);
  v.setUint16(22, 9000);
  v.setUint16(24, 8 + 64);
  v.setUint16(26, 0); // no UDP checksum (IPv4 allows it)
  return p;
}
