/**
 * The `virtio_net_hdr` offload header (virtio 1.x §5.1.6, Linux `include/uapi/linux/virtio_net.h`)
 * that a Linux TUN/TAP device opened with `IFF_VNET_HDR` puts in front of every frame: whether the
 * transport checksum is still partial (`NEEDS_CSUM`: the field holds the pseudo-header sum, the
 * sum of the bytes from `csumStart` on goes into `csumStart + csumOffset`) and whether the frame
 * is a segmentation-offload super-frame (`gsoType`, cut into `gsoSize`-byte payloads, each behind
 * the first `hdrLen` bytes of headers).
 *
 * The fields are little-endian: TUN devices use the host's byte order for this header and the
 * hosts we run on (x86_64, aarch64) are little-endian, which is also the virtio 1.x order.
 * The header is 10 bytes, or 12 with the `num_buffers` field (`TUNSETVNETHDRSZ` 12).
 *
 * {@linkcode parseVirtioNetHdr} never trusts the header: a zero `gsoSize` on a super-frame,
 * `hdrLen` or a checksum position beyond the frame, an unknown `gsoType` or unknown flag bits
 * raise a {@linkcode WireError}.
 *
 * @module
 */

import { requireLength, WireError } from "./error.ts";

const FIELD = {
  FLAGS: 0,
  GSO_TYPE: 1,
  HDR_LEN: 2,
  GSO_SIZE: 4,
  CSUM_START: 6,
  CSUM_OFFSET: 8,
  NUM_BUFFERS: 10,
} as const;

/**
 * The length of the basic `virtio_net_hdr`.
 *
 * @example
 * ```ts
 * import { VIRTIO_NET_HDR_LEN } from "@smol/net/wire";
 * console.log(VIRTIO_NET_HDR_LEN); // 10
 * ```
 */
export const VIRTIO_NET_HDR_LEN = 10;

/**
 * The length of `virtio_net_hdr_mrg_rxbuf` (the basic header and `num_buffers`), the virtio 1.x
 * header and what `TUNSETVNETHDRSZ` 12 selects.
 *
 * @example
 * ```ts
 * import { VIRTIO_NET_HDR_MRG_LEN } from "@smol/net/wire";
 * console.log(VIRTIO_NET_HDR_MRG_LEN); // 12
 * ```
 */
export const VIRTIO_NET_HDR_MRG_LEN = 12;

/**
 * Bits of the `flags` field.
 *
 * @example
 * ```ts
 * import { VirtioNetFlags } from "@smol/net/wire";
 * console.log(VirtioNetFlags.NEEDS_CSUM); // 1
 * ```
 */
export const VirtioNetFlags = {
  /** The transport checksum is partial: complete it from `csumStart` into `csumOffset`. */
  NEEDS_CSUM: 0x01,
  /** The sender verified the checksum (receive only). */
  DATA_VALID: 0x02,
  /** `csumStart`/`csumOffset` carry coalescing statistics (receive-side coalescing). */
  RSC_INFO: 0x04,
} as const;

/**
 * One bit of {@linkcode VirtioNetFlags}.
 *
 * @example
 * ```ts
 * import type { VirtioNetFlags } from "@smol/net/wire";
 * const f: VirtioNetFlags = 0x01;
 * ```
 */
export type VirtioNetFlags = typeof VirtioNetFlags[keyof typeof VirtioNetFlags];

/**
 * Values of the `gso_type` field, without the ECN bit (see {@linkcode VIRTIO_NET_GSO_ECN}).
 *
 * @example
 * ```ts
 * import { VirtioNetGsoType } from "@smol/net/wire";
 * console.log(VirtioNetGsoType.TcpV4); // 1
 * ```
 */
export const VirtioNetGsoType = {
  /** Not a super-frame. */
  None: 0,
  /** A TCP over IPv4 super-frame (TSO4). */
  TcpV4: 1,
  /** An IPv4 UDP super-frame cut into IP fragments (UFO, obsolete). */
  Udp: 3,
  /** A TCP over IPv6 super-frame (TSO6). */
  TcpV6: 4,
  /** A UDP super-frame cut into datagrams of `gsoSize` (USO, UDP_SEGMENT). */
  UdpL4: 5,
} as const;

/**
 * One of the values of {@linkcode VirtioNetGsoType}.
 *
 * @example
 * ```ts
 * import type { VirtioNetGsoType } from "@smol/net/wire";
 * const t: VirtioNetGsoType = 4;
 * ```
 */
export type VirtioNetGsoType = typeof VirtioNetGsoType[keyof typeof VirtioNetGsoType];

/**
 * The bit of `gso_type` that says the TCP super-frame carries CWR and the segmenter must set it on
 * the first segment only (TSO_ECN).
 *
 * @example
 * ```ts
 * import { VIRTIO_NET_GSO_ECN } from "@smol/net/wire";
 * console.log(VIRTIO_NET_GSO_ECN); // 128
 * ```
 */
export const VIRTIO_NET_GSO_ECN = 0x80;

const KNOWN_FLAGS = 0x07;

function readU16LE(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

function writeU16LE(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}

/**
 * A zero-copy view of a `virtio_net_hdr` (10 bytes) or `virtio_net_hdr_mrg_rxbuf` (12 bytes) at the
 * start of a buffer.
 *
 * @example
 * ```ts
 * import { VirtioNetHdr } from "@smol/net/wire";
 *
 * const hdr = new VirtioNetHdr(new Uint8Array([1, 1, 52, 0, 0xa8, 5, 20, 0, 16, 0]));
 * console.log(hdr.flags, hdr.gsoType, hdr.hdrLen, hdr.gsoSize, hdr.csumStart, hdr.csumOffset);
 * // 1 1 52 1448 20 16
 * ```
 */
export class VirtioNetHdr {
  /** The underlying bytes, starting at the header. */
  readonly buffer: Uint8Array;

  /**
   * Wraps `buffer` without any check; use {@linkcode VirtioNetHdr.newChecked} for untrusted bytes.
   *
   * @param buffer The bytes, starting at the header.
   */
  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
  }

  /**
   * Wraps `buffer` and checks that the 10-byte header fits.
   *
   * @param buffer The bytes, starting at the header.
   * @returns The view.
   * @throws {WireError} When the buffer is shorter than 10 bytes.
   *
   * @example
   * ```ts
   * import { VirtioNetHdr, WireError } from "@smol/net/wire";
   * import assert from "node:assert/strict";
   * assert.throws(() => VirtioNetHdr.newChecked(new Uint8Array(9)), WireError);
   * ```
   */
  static newChecked(buffer: Uint8Array): VirtioNetHdr {
    const h = new VirtioNetHdr(buffer);
    h.checkLen();
    return h;
  }

  /**
   * Checks that the 10-byte header fits in the buffer.
   *
   * @throws {WireError} When it does not.
   *
   * @example
   * ```ts
   * import { VirtioNetHdr } from "@smol/net/wire";
   * new VirtioNetHdr(new Uint8Array(10)).checkLen(); // fits
   * ```
   */
  checkLen(): void {
    requireLength("virtio_net", this.buffer, VIRTIO_NET_HDR_LEN);
  }

  /**
   * The `flags` byte ({@linkcode VirtioNetFlags} bits).
   *
   * @example
   * ```ts
   * import { VirtioNetHdr } from "@smol/net/wire";
   * const h = new VirtioNetHdr(new Uint8Array(10));
   * h.flags = 1;
   * console.log(h.flags); // 1
   * ```
   */
  get flags(): number {
    return this.buffer[FIELD.FLAGS]!;
  }
  set flags(v: number) {
    this.buffer[FIELD.FLAGS] = v;
  }

  /**
   * The whole `gso_type` byte, ECN bit included.
   *
   * @example
   * ```ts
   * import { VirtioNetHdr } from "@smol/net/wire";
   * const h = new VirtioNetHdr(new Uint8Array(10));
   * h.gsoType = 0x81;
   * console.log(h.gsoType); // 129
   * ```
   */
  get gsoType(): number {
    return this.buffer[FIELD.GSO_TYPE]!;
  }
  set gsoType(v: number) {
    this.buffer[FIELD.GSO_TYPE] = v;
  }

  /**
   * `hdr_len`: the length of the headers in front of each segment's payload (a hint on receive).
   *
   * @example
   * ```ts
   * import { VirtioNetHdr } from "@smol/net/wire";
   * const h = new VirtioNetHdr(new Uint8Array(10));
   * h.hdrLen = 52;
   * console.log(h.hdrLen); // 52
   * ```
   */
  get hdrLen(): number {
    return readU16LE(this.buffer, FIELD.HDR_LEN);
  }
  set hdrLen(v: number) {
    writeU16LE(this.buffer, FIELD.HDR_LEN, v);
  }

  /**
   * `gso_size`: the payload bytes per segment of a super-frame.
   *
   * @example
   * ```ts
   * import { VirtioNetHdr } from "@smol/net/wire";
   * const h = new VirtioNetHdr(new Uint8Array(10));
   * h.gsoSize = 1448;
   * console.log(h.gsoSize); // 1448
   * ```
   */
  get gsoSize(): number {
    return readU16LE(this.buffer, FIELD.GSO_SIZE);
  }
  set gsoSize(v: number) {
    writeU16LE(this.buffer, FIELD.GSO_SIZE, v);
  }

  /**
   * `csum_start`: where the checksummed bytes start (the transport header), from the frame start.
   *
   * @example
   * ```ts
   * import { VirtioNetHdr } from "@smol/net/wire";
   * const h = new VirtioNetHdr(new Uint8Array(10));
   * h.csumStart = 20;
   * console.log(h.csumStart); // 20
   * ```
   */
  get csumStart(): number {
    return readU16LE(this.buffer, FIELD.CSUM_START);
  }
  set csumStart(v: number) {
    writeU16LE(this.buffer, FIELD.CSUM_START, v);
  }

  /**
   * `csum_offset`: where the checksum goes, from `csumStart` (16 for TCP, 6 for UDP).
   *
   * @example
   * ```ts
   * import { VirtioNetHdr } from "@smol/net/wire";
   * const h = new VirtioNetHdr(new Uint8Array(10));
   * h.csumOffset = 16;
   * console.log(h.csumOffset); // 16
   * ```
   */
  get csumOffset(): number {
    return readU16LE(this.buffer, FIELD.CSUM_OFFSET);
  }
  set csumOffset(v: number) {
    writeU16LE(this.buffer, FIELD.CSUM_OFFSET, v);
  }

  /**
   * `num_buffers` of the 12-byte header (0 when the buffer holds only the 10-byte header).
   *
   * @example
   * ```ts
   * import { VirtioNetHdr } from "@smol/net/wire";
   * const h = new VirtioNetHdr(new Uint8Array(12));
   * h.numBuffers = 1;
   * console.log(h.numBuffers); // 1
   * ```
   */
  get numBuffers(): number {
    return this.buffer.length >= VIRTIO_NET_HDR_MRG_LEN
      ? readU16LE(this.buffer, FIELD.NUM_BUFFERS)
      : 0;
  }
  set numBuffers(v: number) {
    if (this.buffer.length >= VIRTIO_NET_HDR_MRG_LEN) {
      writeU16LE(this.buffer, FIELD.NUM_BUFFERS, v);
    }
  }
}

/**
 * The validated content of a `virtio_net_hdr`.
 *
 * @example
 * ```ts
 * import { VirtioNetGsoType } from "@smol/net/wire";
 * import type { VirtioNetHdrRepr } from "@smol/net/wire";
 *
 * const plain: VirtioNetHdrRepr = {
 *   needsCsum: false, dataValid: false, gsoType: VirtioNetGsoType.None, ecn: false,
 *   hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0,
 * };
 * ```
 */
export interface VirtioNetHdrRepr {
  /** `NEEDS_CSUM`: the checksum at `csumStart + csumOffset` holds only the pseudo-header sum. */
  readonly needsCsum: boolean;
  /** `DATA_VALID`: the sender verified the checksum. */
  readonly dataValid: boolean;
  /** The segmentation type. */
  readonly gsoType: VirtioNetGsoType;
  /** The TSO_ECN bit of `gso_type`. */
  readonly ecn: boolean;
  /** Header bytes in front of each segment's payload (0 when not a super-frame). */
  readonly hdrLen: number;
  /** Payload bytes per segment (0 when not a super-frame). */
  readonly gsoSize: number;
  /** Start of the checksummed bytes, from the frame start (0 without `needsCsum`). */
  readonly csumStart: number;
  /** Position of the checksum, from `csumStart` (0 without `needsCsum`). */
  readonly csumOffset: number;
}

function isGsoType(v: number): v is VirtioNetGsoType {
  return v === 0 || v === 1 || v === 3 || v === 4 || v === 5;
}

/**
 * Validates the header in front of a frame of `frameLen` bytes (the bytes after the header) and
 * returns its content.
 *
 * Rejected: flag bits other than `NEEDS_CSUM`, `DATA_VALID` and `RSC_INFO`; an unknown
 * `gso_type`; the ECN bit without a TCP type; a super-frame with `gso_size` 0, without
 * `NEEDS_CSUM`, or with `hdr_len` beyond the frame; a checksum position (`csum_start +
 * csum_offset + 2`) beyond the frame.
 *
 * @param hdr The header view (10 or 12 bytes).
 * @param frameLen The length of the frame that follows the header.
 * @returns The validated representation.
 * @throws {WireError} For any of the above.
 *
 * @example A coalesced TCP/IPv4 super-frame as a TUN device delivers it
 * ```ts
 * import { parseVirtioNetHdr, VirtioNetHdr, WireError } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([1, 1, 52, 0, 0xa8, 5, 20, 0, 16, 0, 0, 0]);
 * const repr = parseVirtioNetHdr(VirtioNetHdr.newChecked(bytes), 65212);
 * assert.equal(repr.gsoSize, 1448);
 * assert.equal(repr.needsCsum, true);
 * bytes.fill(0, 4, 6); // gso_size 0 on a super-frame
 * assert.throws(() => parseVirtioNetHdr(new VirtioNetHdr(bytes), 65212), WireError);
 * ```
 */
export function parseVirtioNetHdr(hdr: VirtioNetHdr, frameLen: number): VirtioNetHdrRepr {
  hdr.checkLen();
  const flags = hdr.flags;
  if ((flags & ~KNOWN_FLAGS) !== 0) {
    throw new WireError("virtio_net.flags", flags, "unknown flag bits");
  }
  const raw = hdr.gsoType;
  const gsoType = raw & ~VIRTIO_NET_GSO_ECN;
  if (!isGsoType(gsoType)) {
    throw new WireError("virtio_net.gsoType", raw, "unknown segmentation type");
  }
  const ecn = (raw & VIRTIO_NET_GSO_ECN) !== 0;
  if (ecn && gsoType !== VirtioNetGsoType.TcpV4 && gsoType !== VirtioNetGsoType.TcpV6) {
    throw new WireError("virtio_net.gsoType", raw, "ECN bit without a TCP segmentation type");
  }
  const needsCsum = (flags & VirtioNetFlags.NEEDS_CSUM) !== 0;
  let hdrLen = 0, gsoSize = 0, csumStart = 0, csumOffset = 0;
  if (needsCsum) {
    csumStart = hdr.csumStart;
    csumOffset = hdr.csumOffset;
    if (csumStart + csumOffset + 2 > frameLen) {
      throw new WireError(
        "virtio_net.csumOffset",
        csumOffset,
        `checksum at ${csumStart}+${csumOffset} beyond the ${frameLen}-byte frame`,
      );
    }
  }
  if (gsoType !== VirtioNetGsoType.None) {
    gsoSize = hdr.gsoSize;
    hdrLen = hdr.hdrLen;
    if (gsoSize === 0) {
      throw new WireError("virtio_net.gsoSize", 0, "segment size 0 on a super-frame");
    }
    if (hdrLen > frameLen) {
      throw new WireError("virtio_net.hdrLen", hdrLen, `beyond the ${frameLen}-byte frame`);
    }
    if (!needsCsum) {
      throw new WireError("virtio_net.flags", flags, "super-frame without NEEDS_CSUM");
    }
  }
  return {
    needsCsum,
    dataValid: (flags & VirtioNetFlags.DATA_VALID) !== 0,
    gsoType,
    ecn,
    hdrLen,
    gsoSize,
    csumStart,
    csumOffset,
  };
}

/**
 * Writes `repr` into the header (all 10 bytes; `num_buffers` of a 12-byte header is set to 0).
 * Fields that do not apply (the checksum position without `needsCsum`, sizes without a
 * segmentation type) are written as 0.
 *
 * @param repr The content.
 * @param hdr The header view to fill (10 or 12 bytes).
 *
 * @example Golden bytes of a TCP/IPv6 GSO header
 * ```ts
 * import { emitVirtioNetHdr, VirtioNetGsoType, VirtioNetHdr } from "@smol/net/wire";
 * import assert from "node:assert/strict";
 *
 * const buf = new Uint8Array(12).fill(0xee);
 * emitVirtioNetHdr({
 *   needsCsum: true, dataValid: false, gsoType: VirtioNetGsoType.TcpV6, ecn: false,
 *   hdrLen: 72, gsoSize: 1428, csumStart: 40, csumOffset: 16,
 * }, new VirtioNetHdr(buf));
 * assert.deepEqual([...buf], [1, 4, 72, 0, 0x94, 5, 40, 0, 16, 0, 0, 0]);
 * ```
 */
export function emitVirtioNetHdr(repr: VirtioNetHdrRepr, hdr: VirtioNetHdr): void {
  const gso = repr.gsoType !== VirtioNetGsoType.None;
  hdr.flags = (repr.needsCsum ? VirtioNetFlags.NEEDS_CSUM : 0) |
    (repr.dataValid ? VirtioNetFlags.DATA_VALID : 0);
  hdr.gsoType = repr.gsoType | (gso && repr.ecn ? VIRTIO_NET_GSO_ECN : 0);
  hdr.hdrLen = gso ? repr.hdrLen : 0;
  hdr.gsoSize = gso ? repr.gsoSize : 0;
  hdr.csumStart = repr.needsCsum ? repr.csumStart : 0;
  hdr.csumOffset = repr.needsCsum ? repr.csumOffset : 0;
  hdr.numBuffers = 0;
}
