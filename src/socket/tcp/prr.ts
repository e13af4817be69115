/**
 * Proportional Rate Reduction (RFC 6937) for the window of a SACK connection in fast recovery,
 * whatever the congestion controller (NewReno or CUBIC only choose `ssthresh`): while the pipe
 * is above `ssthresh`, data leaves in proportion to the data delivered (ssthresh / RecoverFS of
 * it), so the window comes down smoothly instead of stopping and bursting; at or below it,
 * the slow start reduction bound (PRR-SSRB) lets the pipe grow back to `ssthresh` by at most
 * one segment more than was delivered per ACK. Counts are in bytes, rounded up to whole
 * segments as Linux's `tcp_cwnd_reduction` counts packets.
 *
 * @module
 */

/** PRR state of one connection; fields are public to the tcp folder only. */
export class Prr {
  /** RecoverFS: the flight when recovery began. */
  recoverFs = 1;
  /** prr_delivered: bytes the peer received since recovery began. */
  delivered = 0;
  /** prr_out: bytes sent since recovery began. */
  out = 0;
  /** sndcnt of the last ACK less what was sent since: what may leave now. */
  allowance = 0;
  /** SND.UNA and SACKed bytes before the ACK being processed (for DeliveredData). */
  unaBefore = 0;
  sackedBefore = 0;

  /** RFC 6937 §3: recovery begins with a flight of `recoverFs` bytes. */
  begin(recoverFs: number): void {
    this.recoverFs = recoverFs > 0 ? recoverFs : 1;
    this.delivered = 0;
    this.out = 0;
    this.allowance = 0;
  }

  /**
   * RFC 6937 §3, on each ACK in recovery: `deliveredData` bytes newly delivered (cumulatively
   * or by SACK), `pipe` bytes in the network now.
   */
  onAck(deliveredData: number, pipe: number, ssthresh: number, mss: number): void {
    if (deliveredData > 0) this.delivered += deliveredData;
    let sndcnt: number;
    if (pipe > ssthresh) {
      // Proportional rate reduction: CEIL(prr_delivered · ssthresh / RecoverFS) − prr_out.
      sndcnt = Math.ceil((this.delivered * ssthresh) / (this.recoverFs * mss)) * mss - this.out;
    } else {
      // PRR-SSRB: MIN(ssthresh − pipe, MAX(prr_delivered − prr_out, DeliveredData) + MSS).
      const d = this.delivered - this.out;
      const limit = (d > deliveredData ? d : deliveredData) + mss;
      const gap = ssthresh - pipe;
      sndcnt = gap < limit ? gap : limit;
    }
    this.allowance = sndcnt > 0 ? sndcnt : 0;
  }

  /** `len` bytes left during recovery (prr_out). */
  onSent(len: number): void {
    this.out += len;
    this.allowance = this.allowance > len ? this.allowance - len : 0;
  }
}
