/**
 * Reads packet captures: the classic libpcap format (both byte orders, microsecond and
 * nanosecond time stamps) and pcapng (Section Header, Interface Description, Enhanced and Simple
 * Packet blocks; other blocks are skipped), as written by our {@linkcode PcapWriter}, tcpdump and
 * Wireshark.
 *
 * @module
 */

/**
 * Link types the trace tools understand (libpcap `LINKTYPE_*` numbers).
 *
 * @example
 * ```ts
 * import { CaptureLinkType } from "@smol/net/trace";
 * import assert from "node:assert/strict";
 * assert.equal(CaptureLinkType.Ethernet, 1);
 * ```
 */
export const CaptureLinkType = {
  Ethernet: 1,
  Raw: 101,
  LinuxSll: 113,
  Ipv4: 228,
  Ipv6: 229,
  LinuxSll2: 276,
} as const;

/**
 * One of {@linkcode CaptureLinkType} (other numbers are kept as they are).
 *
 * @example
 * ```ts
 * import { type CaptureLinkType, readCapture } from "@smol/net/trace";
 * import { pcapGlobalHeader, writePcapRecord } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const t: CaptureLinkType = 101; // raw IP
 * const file = new Uint8Array(24 + 16 + 20);
 * file.set(pcapGlobalHeader(t, 65535));
 * writePcapRecord(file.subarray(24), new Uint8Array(20), { now: 0 });
 * assert.equal(readCapture(file)[0]?.linkType, t);
 * ```
 */
export type CaptureLinkType = typeof CaptureLinkType[keyof typeof CaptureLinkType];

/**
 * One captured frame.
 *
 * @example
 * ```ts
 * import { type CapturedFrame, readCapture } from "@smol/net/trace";
 * import { pcapGlobalHeader, writePcapRecord } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const file = new Uint8Array(24 + 16 + 20);
 * file.set(pcapGlobalHeader(101, 65535));
 * writePcapRecord(file.subarray(24), new Uint8Array(20).fill(0x45, 0, 1), { now: 1.5 });
 * const [f]: CapturedFrame[] = readCapture(file);
 * assert.deepEqual({ ...f, data: f?.data.length }, { time: 1.5, linkType: 101, data: 20, originalLength: 20 });
 * ```
 */
export interface CapturedFrame {
  /** Time stamp in milliseconds since the Unix epoch (or since the capture's own zero). */
  readonly time: number;
  /** What the bytes are: one of {@linkcode CaptureLinkType} or another libpcap number. */
  readonly linkType: number;
  /** The captured bytes (a view into the file's bytes; may be shorter than the frame). */
  readonly data: Uint8Array;
  /** The frame's length on the wire. */
  readonly originalLength: number;
}

/** A capture that cannot be read: bad magic, truncated header or record. */
function fail(reason: string, offset: number): never {
  throw new RangeError(`Invalid capture at byte ${offset}: ${reason}`);
}

/**
 * Reads every frame of a pcap or pcapng capture.
 *
 * @param bytes The whole file.
 * @returns The frames in file order. A record cut short by the end of the file ends the list
 *   (a capture still being written is read up to its last whole record).
 * @throws {RangeError} When the file is neither pcap nor pcapng, or a header is corrupt.
 *
 * @example Read back what PcapWriter wrote
 * ```ts
 * import { readCapture } from "@smol/net/trace";
 * import { pcapGlobalHeader, writePcapRecord } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const file = new Uint8Array(24 + 16 + 4);
 * file.set(pcapGlobalHeader(101, 65535));
 * writePcapRecord(file.subarray(24), new Uint8Array([1, 2, 3, 4]), { now: 1500.25 });
 * const [frame] = readCapture(file);
 * assert.equal(frame!.time, 1500.25);
 * assert.deepEqual([...frame!.data], [1, 2, 3, 4]);
 * ```
 */
export function readCapture(bytes: Uint8Array): CapturedFrame[] {
  if (bytes.length < 4) fail("shorter than a file header", 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicBe = dv.getUint32(0, false);
  if (magicBe === 0x0a0d0d0a) return readPcapng(bytes, dv);
  return readPcap(bytes, dv, magicBe);
}

function readPcap(bytes: Uint8Array, dv: DataView, magicBe: number): CapturedFrame[] {
  let little: boolean;
  let nano: boolean;
  switch (magicBe) {
    case 0xa1b2c3d4:
      little = false;
      nano = false;
      break;
    case 0xd4c3b2a1:
      little = true;
      nano = false;
      break;
    case 0xa1b23c4d:
      little = false;
      nano = true;
      break;
    case 0x4d3cb2a1:
      little = true;
      nano = true;
      break;
    default:
      fail(`unknown magic 0x${magicBe.toString(16).padStart(8, "0")}`, 0);
  }
  if (bytes.length < 24) fail("truncated pcap file header", 0);
  const linkType = dv.getUint32(20, little) & 0x0fffffff;
  const frames: CapturedFrame[] = [];
  let o = 24;
  while (o + 16 <= bytes.length) {
    const sec = dv.getUint32(o, little);
    const frac = dv.getUint32(o + 4, little);
    const capLen = dv.getUint32(o + 8, little);
    const origLen = dv.getUint32(o + 12, little);
    if (o + 16 + capLen > bytes.length) break;
    const time = sec * 1000 + (nano ? frac / 1e6 : frac / 1e3);
    frames.push({
      time,
      linkType,
      data: bytes.subarray(o + 16, o + 16 + capLen),
      originalLength: origLen,
    });
    o += 16 + capLen;
  }
  return frames;
}

interface PcapngInterface {
  linkType: number;
  /** Time stamp units per millisecond. */
  unitsPerMs: number;
}

function readPcapng(bytes: Uint8Array, dv: DataView): CapturedFrame[] {
  const frames: CapturedFrame[] = [];
  let little = true;
  let ifaces: PcapngInterface[] = [];
  let o = 0;
  while (o + 12 <= bytes.length) {
    const typeRaw = dv.getUint32(o, little);
    if (dv.getUint32(o, false) === 0x0a0d0d0a) {
      // Section Header Block: the byte-order magic decides the order of everything after it.
      if (o + 28 > bytes.length) fail("truncated section header", o);
      const bom = dv.getUint32(o + 8, true);
      if (bom === 0x1a2b3c4d) little = true;
      else if (bom === 0x4d3c2b1a) little = false;
      else fail("bad byte-order magic", o + 8);
      ifaces = [];
    }
    const type = dv.getUint32(o, false) === 0x0a0d0d0a ? 0x0a0d0d0a : typeRaw;
    const len = dv.getUint32(o + 4, little);
    if (len < 12 || len % 4 !== 0) fail(`bad block length ${len}`, o + 4);
    if (o + len > bytes.length) break;
    if (type === 1) {
      const linkType = dv.getUint16(o + 8, little);
      ifaces.push({ linkType, unitsPerMs: readTsResol(dv, o + 16, o + len - 4, little) });
    } else if (type === 6) {
      const iface = ifaces[dv.getUint32(o + 8, little)];
      if (iface === undefined) fail("packet for an undescribed interface", o + 8);
      const ts = dv.getUint32(o + 12, little) * 2 ** 32 + dv.getUint32(o + 16, little);
      const capLen = dv.getUint32(o + 20, little);
      const origLen = dv.getUint32(o + 24, little);
      if (28 + capLen > len - 4) fail("captured length past the block", o + 20);
      frames.push({
        time: ts / iface.unitsPerMs,
        linkType: iface.linkType,
        data: bytes.subarray(o + 28, o + 28 + capLen),
        originalLength: origLen,
      });
    } else if (type === 3) {
      const iface = ifaces[0];
      if (iface === undefined) fail("packet before any interface", o);
      const origLen = dv.getUint32(o + 8, little);
      const capLen = Math.min(origLen, len - 16);
      frames.push({
        time: 0,
        linkType: iface.linkType,
        data: bytes.subarray(o + 12, o + 12 + capLen),
        originalLength: origLen,
      });
    }
    o += len;
  }
  return frames;
}

/** The `if_tsresol` option of an Interface Description Block, as units per millisecond. */
function readTsResol(dv: DataView, start: number, end: number, little: boolean): number {
  let o = start;
  while (o + 4 <= end) {
    const code = dv.getUint16(o, little);
    const len = dv.getUint16(o + 2, little);
    if (code === 0) break;
    if (code === 9 && len >= 1 && o + 5 <= end) {
      const v = dv.getUint8(o + 4);
      const units = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** (v & 0x7f);
      return units / 1000;
    }
    o += 4 + ((len + 3) & ~3);
  }
  return 1000; // default resolution: microseconds
}
