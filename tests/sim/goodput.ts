/**
 * The goodput matrix of issue 8: receive buffer × loss rate at 100 ms RTT, bytes per second of
 * virtual time, with the baseline file and smoltcp's reference figures.
 *
 * Link model of every cell: 50 ms each way, 100 Mbit/s, a 1 MiB drop-tail queue, the loss rate
 * applied to the data direction (the ACK path is clean). Goodput is the payload size divided by
 * the virtual time from the client reaching ESTABLISHED to the server application reading the
 * last byte.
 *
 * @module
 */

import { Simulator, twoNodes } from "./sim.ts";
import { startBulk } from "./bulk.ts";

/** Receive buffers of the matrix, in KiB. */
export const BUFFERS_KIB = [4, 32, 256] as const;
/** Loss rates of the matrix, in percent. */
export const LOSS_PCT = [0, 0.1, 1, 2, 5, 10, 20, 30] as const;
/** The seed every cell uses (the cell's figures are a pure function of it). */
export const MATRIX_SEED = 8;

/** smoltcp's figures (B/s) given in issue 8, keyed like {@linkcode cellKey}. */
export const SMOLTCP_REFERENCE: Readonly<Record<string, number>> = {
  "32KiB@0%": 322_945,
  "32KiB@1%": 219_671,
  "32KiB@10%": 37_775,
  "4KiB@0%": 35_062,
  "4KiB@10%": 7_871,
};

/** `"32KiB@1%"`. */
export function cellKey(bufKiB: number, lossPct: number): string {
  return `${bufKiB}KiB@${lossPct}%`;
}

/** The outcome of one cell. */
export interface CellResult {
  key: string;
  bytes: number;
  goodput: number;
  virtualMs: number;
  retransmits: number;
  rtos: number;
  fastRetransmits: number;
  wallMs: number;
  intact: boolean;
}

/** Runs one cell; throws (naming the seed) when the transfer does not finish or is corrupted. */
export function runCell(bufKiB: number, lossPct: number, bytes: number): CellResult {
  const sim = new Simulator(MATRIX_SEED);
  const pair = twoNodes(sim, {
    latency: 50,
    bandwidth: 100_000_000,
    queueBytes: 1 << 20,
    loss: lossPct / 100,
    reverse: { loss: 0 },
  });
  const rx = bufKiB * 1024;
  const bulk = startBulk(pair, {
    aToB: bytes,
    socket: { rxBufferSize: rx, txBufferSize: Math.max(64 * 1024, 2 * rx) },
  });
  const t0 = performance.now();
  sim.runOrFail(bulk.done, 1e9, `goodput cell ${cellKey(bufKiB, lossPct)}`);
  const wallMs = performance.now() - t0;
  const virtualMs = bulk.b.sink.doneAt - bulk.a.establishedAt;
  const info = bulk.a.socket.info;
  return {
    key: cellKey(bufKiB, lossPct),
    bytes,
    goodput: Math.round(bytes / (virtualMs / 1000)),
    virtualMs,
    retransmits: info.retransmits,
    rtos: info.rtos,
    fastRetransmits: info.fastRetransmits,
    wallMs,
    intact: bulk.a.sentDigest() === bulk.b.receivedDigest(),
  };
}

/** A Markdown table of goodput (B/s): one row per buffer, one column per loss rate. */
export function matrixTable(results: ReadonlyMap<string, CellResult>): string {
  const head = `| rx buffer | ${LOSS_PCT.map((l) => `${l} %`).join(" | ")} |`;
  const sep = `|---|${LOSS_PCT.map(() => "---:").join("|")}|`;
  const rows = BUFFERS_KIB.map((b) =>
    `| ${b} KiB | ${
      LOSS_PCT.map((l) => {
        const r = results.get(cellKey(b, l));
        return r === undefined ? "" : r.goodput.toLocaleString("en-US");
      }).join(" | ")
    } |`
  );
  return [head, sep, ...rows].join("\n");
}
