/**
 * Packet captures in the classic libpcap format (magic `0xa1b2c3d4`, version 2.4, microsecond
 * time stamps, written little-endian) that Wireshark and tshark open: pure helpers to build the
 * file header and records, and {@linkcode PcapWriter}, a device wrapper that records every frame.
 *
 * @module
 */

import { DeviceWrapper } from "./wrapper.ts";
import { Medium } from "./device.ts";
import type { Device } from "./device.ts";
import type { Instant } from "../time.ts";

/**
 * libpcap link types: what each record holds.
 *
 * @example
 * ```ts
 * import { PcapLinkType } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(PcapLinkType.Raw, 101);
 * ```
 */
export const PcapLinkType = { Ethernet: 1, Raw: 101 } as const;

/**
 * One of the values of {@linkcode PcapLinkType} (other numbers are accepted as is).
 *
 * @example
 * ```ts
 * import { pcapGlobalHeader } from "@smol/net/phy";
 * import type { PcapLinkType } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const t: PcapLinkType = 1;
 * assert.equal(pcapGlobalHeader(t, 65535)[20], 1); // the link type field, little-endian
 * ```
 */
export type PcapLinkType = typeof PcapLinkType[keyof typeof PcapLinkType];

/**
 * The size of the pcap file header.
 *
 * @example
 * ```ts
 * import { PCAP_GLOBAL_HEADER_LEN, pcapGlobalHeader } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(pcapGlobalHeader(1, 65535).length, PCAP_GLOBAL_HEADER_LEN);
 * ```
 */
export const PCAP_GLOBAL_HEADER_LEN = 24;

/**
 * The size of a pcap record header (time stamp, captured and original lengths).
 *
 * @example
 * ```ts
 * import { PCAP_RECORD_HEADER_LEN } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * assert.equal(PCAP_RECORD_HEADER_LEN, 16);
 * ```
 */
export const PCAP_RECORD_HEADER_LEN = 16;

const MAGIC = 0xa1b2c3d4;
const DEFAULT_SNAPLEN = 65535;

/** Writes `v` as a little-endian u32 at `o`. */
function writeU32Le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/**
 * The 24-byte pcap file header.
 *
 * @param linkType What the records hold: {@linkcode PcapLinkType}.
 * @param snaplen The largest number of bytes captured per frame.
 * @returns A fresh header.
 *
 * @example
 * ```ts
 * import { pcapGlobalHeader, PcapLinkType } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const h = pcapGlobalHeader(PcapLinkType.Ethernet, 65535);
 * assert.deepEqual(h.subarray(0, 4), new Uint8Array([212, 195, 178, 161]));
 * ```
 */
export function pcapGlobalHeader(linkType: number, snaplen: number): Uint8Array {
  const h = new Uint8Array(PCAP_GLOBAL_HEADER_LEN);
  writeU32Le(h, 0, MAGIC);
  h[4] = 2; // version major
  h[6] = 4; // version minor
  // thiszone (8) and sigfigs (12) stay 0
  writeU32Le(h, 16, snaplen);
  writeU32Le(h, 20, linkType);
  return h;
}

/**
 * Options for {@linkcode writePcapRecord}.
 *
 * @example
 * ```ts
 * import { writePcapRecord } from "@smol/net/phy";
 * import type { PcapRecordOptions } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const opts: PcapRecordOptions = { now: 1500.25, snaplen: 4 };
 * const out = new Uint8Array(64);
 * assert.equal(writePcapRecord(out, new Uint8Array(10), opts), 16 + 4); // cut to the snap length
 * assert.equal(out[0], 1); // seconds
 * assert.equal(out[8], 4); // captured length; the original length (10) follows
 * ```
 */
export interface PcapRecordOptions {
  /** The frame's time stamp in milliseconds (split into seconds and microseconds). */
  now: Instant;
  /** Capture at most this many bytes of the frame; default 65535. */
  snaplen?: number;
}

/**
 * Writes one pcap record (16-byte header, then at most `snaplen` bytes of `frame`) into `out`.
 * Pure and allocation-free.
 *
 * @param out The destination; needs `16 + min(frame.length, snaplen)` bytes.
 * @param frame The frame as sent or received.
 * @param options The time stamp and snap length.
 * @returns The number of bytes written.
 * @throws {RangeError} When `out` is too small.
 *
 * @example
 * ```ts
 * import { writePcapRecord } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const out = new Uint8Array(64);
 * const n = writePcapRecord(out, new Uint8Array(10), { now: 2_000.5 });
 * assert.equal(n, 26);
 * assert.equal(out[0], 2);
 * assert.equal(out[4], 244);
 * assert.equal(out[5], 1);
 * ```
 */
export function writePcapRecord(
  out: Uint8Array,
  frame: Uint8Array,
  options: PcapRecordOptions,
): number {
  return writeRecord(out, frame, options.now, options.snaplen ?? DEFAULT_SNAPLEN);
}

/** {@linkcode writePcapRecord} with positional arguments, for the per-frame path. */
function writeRecord(out: Uint8Array, frame: Uint8Array, time: Instant, snaplen: number): number {
  const capLen = frame.length < snaplen ? frame.length : snaplen;
  const total = PCAP_RECORD_HEADER_LEN + capLen;
  if (out.length < total) {
    throw new RangeError(`Invalid pcap output length ${out.length}: the record needs ${total}`);
  }
  const now = time > 0 ? time : 0;
  let sec = Math.floor(now / 1000);
  let usec = Math.round((now - sec * 1000) * 1000);
  if (usec >= 1_000_000) {
    sec++;
    usec -= 1_000_000;
  }
  writeU32Le(out, 0, sec);
  writeU32Le(out, 4, usec);
  writeU32Le(out, 8, capLen);
  writeU32Le(out, 12, frame.length);
  out.set(capLen === frame.length ? frame : frame.subarray(0, capLen), PCAP_RECORD_HEADER_LEN);
  return total;
}

/**
 * Where {@linkcode PcapWriter} puts bytes: a synchronous sink that takes the whole array (the
 * array is reused after the call returns, so a sink that keeps bytes copies them).
 *
 * @example
 * ```ts
 * import { linkPair, PcapWriter } from "@smol/net/phy";
 * import type { PcapSink } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * let total = 0;
 * const counting: PcapSink = { write: (bytes) => void (total += bytes.length) };
 * const dev = new PcapWriter(linkPair()[0], counting);
 * dev.transmit(0, 20);
 * dev.commit();
 * assert.equal(total, 24 + 16 + 20); // global header, record header, frame
 * ```
 */
export interface PcapSink {
  /**
   * Takes all of `bytes`.
   *
   * @param bytes The bytes to write; valid only during the call.
   */
  write(bytes: Uint8Array): void;
}

/**
 * A sink that keeps everything in memory, in a buffer that doubles as it fills.
 *
 * @example
 * ```ts
 * import { MemorySink } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const sink = new MemorySink();
 * sink.write(new Uint8Array([1, 2]));
 * assert.deepEqual(sink.bytes(), new Uint8Array([1, 2]));
 * ```
 */
export class MemorySink implements PcapSink {
  #buf = new Uint8Array(4096);
  #len = 0;

  /**
   * Appends a copy of `bytes`.
   *
   * @param bytes The bytes to keep.
   *
   * @example
   * ```ts
   * import { MemorySink } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const sink = new MemorySink();
   * sink.write(new Uint8Array(3));
   * assert.equal(sink.length, 3);
   * ```
   */
  write(bytes: Uint8Array): void {
    const need = this.#len + bytes.length;
    if (need > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < need) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(bytes, this.#len);
    this.#len = need;
  }

  /** The number of bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /**
   * Everything written so far, as a view (valid until the next `write`).
   *
   * @returns The captured bytes.
   *
   * @example
   * ```ts
   * import { MemorySink } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * assert.equal(new MemorySink().bytes().length, 0);
   * ```
   */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}

/**
 * A {@linkcode PcapSink} writing to a file, with `close()`.
 *
 * @example
 * ```ts
 * import { fileSink } from "@smol/net/phy";
 * import type { PcapFileSink } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const path = Deno.makeTempFileSync({ suffix: ".pcap" });
 * {
 *   using sink: PcapFileSink = fileSink(path); // closed at the end of the scope
 *   sink.write(new Uint8Array([1, 2, 3]));
 * }
 * assert.equal(Deno.statSync(path).size, 3);
 * Deno.removeSync(path);
 * ```
 */
export interface PcapFileSink extends PcapSink, Disposable {
  /** Closes the file; later writes throw. */
  close(): void;
}

/**
 * Opens (creates or truncates) `path` and returns a sink that writes to it synchronously.
 * Needs `--allow-write`.
 *
 * @param path The file to write.
 * @returns The sink; call `close()` (or use `using`) when done.
 *
 * @example
 * ```ts
 * import { fileSink, linkPair, PcapWriter } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const path = Deno.makeTempFileSync({ suffix: ".pcap" });
 * const sink = fileSink(path);
 * const dev = new PcapWriter(linkPair()[0], sink);
 * dev.transmit(0, 20); // ... run the stack over `dev`, then:
 * dev.commit();
 * sink.close();
 * assert.equal(Deno.statSync(path).size, 24 + 16 + 20);
 * Deno.removeSync(path);
 * ```
 */
export function fileSink(path: string | URL): PcapFileSink {
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    file.close();
  };
  return {
    write(bytes: Uint8Array): void {
      let off = 0;
      while (off < bytes.length) {
        off += file.writeSync(off === 0 ? bytes : bytes.subarray(off));
      }
    },
    close,
    [Symbol.dispose]: close,
  };
}

/**
 * Options for {@linkcode PcapWriter}.
 *
 * @example
 * ```ts
 * import { Loopback, MemorySink, PcapWriter } from "@smol/net/phy";
 * import type { PcapWriterOptions } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 * const opts: PcapWriterOptions = { mode: "rx", snaplen: 128 };
 * const sink = new MemorySink();
 * const dev = new PcapWriter(new Loopback(), sink, opts);
 * dev.transmit(0, 200);
 * dev.commit(); // not recorded
 * assert.equal(sink.length, 24);
 * dev.receive(0); // recorded, cut to 128 bytes
 * assert.equal(sink.length, 24 + 16 + 128);
 * ```
 */
export interface PcapWriterOptions {
  /** Which frames to record: received, transmitted or both (default). */
  mode?: "both" | "rx" | "tx";
  /** Capture at most this many bytes per frame; default 65535. */
  snaplen?: number;
}

/**
 * A device wrapper that records frames into a pcap stream. The file header goes to the sink at
 * construction; each frame becomes one `sink.write` of a whole record, time-stamped with the
 * `now` given to `receive` / `transmit`. The link type follows the inner medium (Ethernet → 1,
 * IP → 101 raw IP). Readiness and deadlines are forwarded to the inner device.
 *
 * @example
 * ```ts
 * import { linkPair, MemorySink, PcapWriter } from "@smol/net/phy";
 * import assert from "node:assert/strict";
 *
 * const sink = new MemorySink();
 * const [a, b] = linkPair();
 * const dev = new PcapWriter(a, sink);
 * dev.transmit(1_000, 20)!.fill(0x45, 0, 1);
 * dev.commit();
 * assert.equal(sink.length, 60); // 24 + 16 + 20
 * ```
 */
export class PcapWriter extends DeviceWrapper {
  readonly #sink: PcapSink;
  readonly #rx: boolean;
  readonly #tx: boolean;
  readonly #snaplen: number;
  readonly #scratch: Uint8Array;
  /** The last record view handed to the sink, reused when the next record has its length. */
  #recordView: Uint8Array = new Uint8Array(0);
  #pending: Uint8Array | null = null;
  #pendingNow: Instant = 0;

  /**
   * Wraps `inner` and writes the pcap file header to `sink`.
   *
   * @param inner The device to record.
   * @param sink Where the capture goes.
   * @param options Which directions, and the snap length.
   * @throws {RangeError} When `snaplen` is not a positive integer.
   */
  constructor(inner: Device, sink: PcapSink, options: PcapWriterOptions = {}) {
    super(inner);
    const mode = options.mode ?? "both";
    const snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) {
      throw new RangeError(`Invalid snaplen ${snaplen}: expected a positive integer`);
    }
    this.#sink = sink;
    this.#rx = mode !== "tx";
    this.#tx = mode !== "rx";
    this.#snaplen = snaplen;
    const maxCap = Math.min(snaplen, inner.capabilities.mtu);
    this.#scratch = new Uint8Array(PCAP_RECORD_HEADER_LEN + maxCap);
    const linkType = inner.capabilities.medium === Medium.Ethernet
      ? PcapLinkType.Ethernet
      : PcapLinkType.Raw;
    sink.write(pcapGlobalHeader(linkType, snaplen));
  }

  /**
   * The inner device's next frame, recorded when the mode includes `rx`.
   *
   * @param now The current instant, also the record's time stamp.
   * @returns The frame or `null`.
   *
   * @example
   * ```ts
   * import { Loopback, MemorySink, PcapWriter } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const sink = new MemorySink();
   * const dev = new PcapWriter(new Loopback(), sink, { mode: "rx" });
   * dev.transmit(0, 8);
   * dev.commit();
   * dev.receive(0);
   * assert.equal(sink.length, 48);
   * ```
   */
  override receive(now: Instant): Uint8Array | null {
    const frame = this.inner.receive(now);
    if (frame !== null && this.#rx) this.#record(now, frame);
    return frame;
  }

  /**
   * The inner device's buffer; the frame is recorded at `commit`, once filled.
   *
   * @param now The current instant, also the record's time stamp.
   * @param len The frame length.
   * @returns The buffer or `null`.
   *
   * @example
   * ```ts
   * import { Loopback, MemorySink, PcapWriter } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const dev = new PcapWriter(new Loopback({ mtu: 100 }), new MemorySink());
   * assert.equal(dev.transmit(0, 200), null);
   * ```
   */
  override transmit(now: Instant, len: number): Uint8Array | null {
    const buf = this.inner.transmit(now, len);
    this.#pending = buf;
    this.#pendingNow = now;
    return buf;
  }

  /**
   * Records the filled frame (when the mode includes `tx`) and commits it to the inner device.
   *
   * @example
   * ```ts
   * import { Loopback, MemorySink, PcapWriter } from "@smol/net/phy";
   * import assert from "node:assert/strict";
   * const sink = new MemorySink();
   * const dev = new PcapWriter(new Loopback(), sink, { mode: "tx" });
   * dev.transmit(0, 4);
   * dev.commit();
   * assert.equal(sink.length, 44);
   * ```
   */
  override commit(): void {
    const buf = this.#pending;
    if (buf === null) return;
    this.#pending = null;
    if (this.#tx) this.#record(this.#pendingNow, buf);
    this.inner.commit();
  }

  #record(now: Instant, frame: Uint8Array): void {
    const n = writeRecord(this.#scratch, frame, now, this.#snaplen);
    let view = this.#recordView;
    if (view.length !== n) {
      view = this.#scratch.subarray(0, n);
      this.#recordView = view;
    }
    this.#sink.write(view);
  }
}
