/**
 * Internal: the control datagrams of {@linkcode UdpTunnelDevice}'s flow control. One is 8 bytes,
 * which no IP packet or Ethernet frame is: `0`, magic `0x5f`, type (credit or probe), whether the
 * sender's reader is paused, and a big-endian u32 count of frames read.
 *
 * @module
 */

/** The length of a control datagram. */
export const CTRL_LEN = 8;
/** Byte 1 of a control datagram. */
export const CTRL_MAGIC = 0x5f;
/** Type: credit (the count of frames the sender has read). */
export const CTRL_CREDIT = 1;
/** Type: probe (a blocked sender asks for credit). */
export const CTRL_PROBE = 2;
/** A blocked sender asks for credit after this long without one. */
export const PROBE_AFTER = 50;

/** Whether the `n` bytes received into `slot` are a control datagram. */
export function isControl(slot: Uint8Array, n: number): boolean {
  return n === CTRL_LEN && slot[0] === 0 && slot[1] === CTRL_MAGIC;
}

/** Big-endian u32 at 4 of a control datagram. */
export function ctrlCount(b: Uint8Array): number {
  return ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
}

/** Fills `out` (`CTRL_LEN` bytes) with a control datagram. */
export function writeControl(out: Uint8Array, type: number, paused: boolean, count: number): void {
  out[0] = 0;
  out[1] = CTRL_MAGIC;
  out[2] = type;
  out[3] = paused ? 1 : 0;
  out[4] = count >>> 24;
  out[5] = (count >>> 16) & 0xff;
  out[6] = (count >>> 8) & 0xff;
  out[7] = count & 0xff;
}
