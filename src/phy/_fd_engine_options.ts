/**
 * Internal: the options of `FdEngine` (`_fd_engine.ts`) and the receive and transmit paths an
 * adapter plugs into it (the AF_PACKET `recvmsg` path, the TUN offload header).
 *
 * @module
 */

import type { DeviceCapabilities } from "./device.ts";
import type { FrameQueue } from "./link.ts";
import type { Libc, MutableHostDeviceStats } from "./_libc.ts";

/**
 * A receive path other than plain `read` (the AF_PACKET `recvmsg` path), created once by the
 * engine with its counters and slot size.
 */
export interface FrameReceiver {
  /**
   * Receives one frame into `slot` (a whole ring slot, reserved); returns its length, -1 on error
   * (errno set) or -2 when the frame was handled otherwise (skipped, dropped and counted, or
   * staged).
   */
  read(slot: Uint8Array): number;
  /** Whether frames wait to be appended by `flush` (a super-frame being segmented). */
  readonly staged: boolean;
  /** Appends staged frames to `rx` until none is left or the ring is full. */
  flush(rx: FrameQueue): void;
  /** The `gso_size` of the TCP super-frame `read` accepted last, else 0 (kept as its stamp). */
  readonly segmentSize?: number;
}

/**
 * A transmit path that puts a header in front of each frame (the TUN offload header): the engine
 * hands out `buffer[headroom, headroom + len)` and, on commit, writes what `prepare` returns.
 */
export interface FrameSender {
  /** Bytes reserved in front of each frame. */
  readonly headroom: number;
  /** The largest frame `transmit` accepts (the MTU, or more with segmentation offload). */
  readonly maxLen: number;
  /**
   * Fills the header in front of the frame of `len` bytes at `headroom` in `buffer`; returns the
   * number of bytes to write, or -1 to drop the frame (counted by the sender).
   */
  prepare(buffer: Uint8Array, len: number): number;
}

/** Options of {@linkcode FdEngine}. */
export interface FdEngineOptions {
  /** Owned library handle (closed by `close`). */
  readonly lib: Libc;
  /** Owned non-blocking device fd (closed by `close`). */
  readonly fd: number;
  /** The device's capabilities (its MTU bounds delivered frames). */
  readonly capabilities: DeviceCapabilities;
  /** Receive ring length in frames. */
  readonly rxQueueLen: number;
  /** Builds the receive path; without it frames are read with `read(2)`. */
  readonly receiver?:
    | ((stats: MutableHostDeviceStats, slotSize: number) => FrameReceiver)
    | undefined;
  /** The largest frame the receive path delivers (default: the MTU). */
  readonly rxFrameSize?: number | undefined;
  /** Builds the transmit path; without it frames are written as they are. */
  readonly sender?: ((stats: MutableHostDeviceStats) => FrameSender) | undefined;
  /** For messages: `TUN device "tun0"`. */
  readonly label: string;
  /**
   * Called when poll reports POLLERR/POLLHUP/POLLNVAL or a read fails with `code`: return the
   * fatal error that ends the loop, or `null` to count it and continue.
   */
  readonly classify: (revents: number, code: number) => Error | null;
  /** Called once with the fatal error. */
  readonly onError?: ((error: Error) => void) | undefined;
  /**
   * Hold each pure TCP ACK until the stack has drained the receive ring or sends another frame,
   * and drop it when a newer ACK of the same connection supersedes it (`_ack_filter.ts`).
   * Default `false`.
   */
  readonly coalesceAcks?: boolean | undefined;
  /**
   * Do not start the reader loop: the adapter then calls `useReader` (a reader thread) or
   * `startLoop`. Default `false`.
   */
  readonly deferLoop?: boolean | undefined;
}
