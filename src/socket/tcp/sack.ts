/**
 * SACK constants shared by the duplicate ACK path (RFC 5681, RFC 6582) and RACK (RFC 8985).
 * The sender's SACK state itself lives in the segment log (`seg_log.ts`).
 *
 * @module
 */

/** RFC 6675 §2: DupThresh. */
export const DUP_THRESH = 3;
