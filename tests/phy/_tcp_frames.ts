// Hand-built TCP frames for the ACK coalescing tests (checksums left zero: nothing verifies them).

/** What {@linkcode segment} builds. */
export interface Seg {
  ack?: number;
  flags?: number;
  /** TCP option bytes (padded to 4 by the caller). */
  options?: number[];
  payload?: number;
  srcPort?: number;
  v6?: boolean;
  ethernet?: boolean;
  /** IPv4 flags+fragment offset field. */
  frag?: number;
  dstLast?: number;
}

/** NOP NOP timestamps. */
export const TS = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2];
/** NOP NOP one SACK block. */
export const SACK = [1, 1, 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0];

/** An IPv4 or IPv6 TCP segment 198.51.100.1:srcPort -> 192.0.2.x:80 (checksums left zero). */
export function segment(s: Seg = {}): Uint8Array {
  const opts = s.options ?? TS;
  const tcpLen = 20 + opts.length;
  const payload = s.payload ?? 0;
  const l2 = s.ethernet ? 14 : 0;
  const ipLen = s.v6 ? 40 : 20;
  const f = new Uint8Array(l2 + ipLen + tcpLen + payload);
  if (s.ethernet) {
    f.set([2, 0, 0x5e, 0, 0x53, 1, 2, 0, 0x5e, 0, 0x53, 2]);
    f[12] = s.v6 ? 0x86 : 0x08;
    f[13] = s.v6 ? 0xdd : 0x00;
  }
  const dstLast = s.dstLast ?? 2;
  if (s.v6) {
    f[l2] = 0x60;
    f[l2 + 4] = (tcpLen + payload) >> 8;
    f[l2 + 5] = (tcpLen + payload) & 0xff;
    f[l2 + 6] = 6;
    f[l2 + 7] = 64;
    f.set([0x20, 0x01, 0x0d, 0xb8], l2 + 8);
    f[l2 + 23] = 1;
    f.set([0x20, 0x01, 0x0d, 0xb8], l2 + 24);
    f[l2 + 39] = dstLast;
  } else {
    const total = 20 + tcpLen + payload;
    f[l2] = 0x45;
    f[l2 + 2] = total >> 8;
    f[l2 + 3] = total & 0xff;
    const frag = s.frag ?? 0x4000; // DF
    f[l2 + 6] = frag >> 8;
    f[l2 + 7] = frag & 0xff;
    f[l2 + 8] = 64;
    f[l2 + 9] = 6;
    f.set([198, 51, 100, 1, 192, 0, 2, dstLast], l2 + 12);
  }
  const t = l2 + ipLen;
  const sp = s.srcPort ?? 40000;
  f.set([sp >> 8, sp & 0xff, 0, 80], t);
  f.set([0, 0, 0x10, 0], t + 4); // seq
  const ack = s.ack ?? 1000;
  f.set([ack >>> 24, (ack >>> 16) & 0xff, (ack >>> 8) & 0xff, ack & 0xff], t + 8);
  f[t + 12] = (tcpLen / 4) << 4;
  f[t + 13] = s.flags ?? 0x10;
  f[t + 14] = 0xff;
  f[t + 15] = 0xff;
  f.set(opts, t + 20);
  return f;
}
