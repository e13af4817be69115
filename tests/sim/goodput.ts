/**
 * The goodput matrix of issue 8: receive buffer × loss rate at 100 ms RTT, bytes per second of
 * virtual time, with the baseline file and smoltcp's reference figures; and issue 13's extra
 * cells: the same path with 5 % reordering, and the stack's default socket options (no buffer
 * sizes given) on that 100 ms RTT path.
 *
 * Link model of every cell: 50 ms each way, 100 Mbit/s, a 1 MiB drop-tail queue, the loss rate
 * applied to the data direction (the ACK path is clean). A reordering cell holds each frame, in
 * both directions, back by {@linkcode REORDER_DELAY_MS} with probability 5 %, so later frames
 * overtake it (more than three segments at these rates: a sender counting duplicate ACKs
 * retransmits spuriously). Goodput is the payload size divided by the virtual time from the
 * client reaching ESTABLISHED to the server application reading the last byte.
 *
 * @module
 */

import { Simulator, twoNodes } from "./sim.ts";
import { startBulk } from "./bulk.ts";
import { connOf } from "../../src/socket/tcp/_socket_access.ts";

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

/** Reordering of the extra cells, in percent of frames (issue 13). */
export const REORDER_PCT = 5;
/** How long a reordered frame is held back, in ms. */
export const REORDER_DELAY_MS = 10;

/**
 * One cell: receive buffer in KiB (`null`: the stack's default socket options, no buffer size
 * given), loss and reordering in percent.
 */
export interface CellSpec {
  readonly bufKiB: number | null;
  readonly lossPct: number;
  readonly reorderPct: number;
}

/**
 * Issue 13's extra cells at 1 MiB in CI, 10 MiB with `SMOLNET_SIM_FULL=1`: 32 and 256 KiB
 * buffers at 0, 1 and 5 % loss with 5 % reordering; default buffers at the same losses, with
 * and without reordering.
 */
export const EXTRA_CELLS: readonly CellSpec[] = [
  ...[32, 256].flatMap((b) =>
    [0, 1, 5].map((l) => ({ bufKiB: b, lossPct: l, reorderPct: REORDER_PCT }))
  ),
  ...[0, REORDER_PCT].flatMap((r) =>
    [0, 1, 5].map((l) => ({ bufKiB: null, lossPct: l, reorderPct: r }))
  ),
];

/** `"32KiB@1%"`, `"32KiB@1%+reorder5%"`, `"default@1%"`. */
export function cellKey(bufKiB: number | null, lossPct: number, reorderPct = 0): string {
  const buf = bufKiB === null ? "default" : `${bufKiB}KiB`;
  return `${buf}@${lossPct}%${reorderPct > 0 ? `+reorder${reorderPct}%` : ""}`;
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
  /** Frames the link lost on the wire (data direction; both directions under smoltcp's conditions). */
  lost: number;
  /** Frames the link held back, both directions. */
  reordered: number;
  wallMs: number;
  intact: boolean;
}

/** Runs one cell; throws (naming the seed) when the transfer does not finish or is corrupted. */
export function runCell(
  bufKiB: number | null,
  lossPct: number,
  bytes: number,
  reorderPct = 0,
): CellResult {
  const key = cellKey(bufKiB, lossPct, reorderPct);
  const sim = new Simulator(MATRIX_SEED);
  const pair = twoNodes(sim, {
    latency: 50,
    bandwidth: 100_000_000,
    queueBytes: 1 << 20,
    loss: lossPct / 100,
    reorder: reorderPct / 100,
    reorderDelay: REORDER_DELAY_MS,
    reverse: { loss: 0 },
  });
  const rx = bufKiB === null ? null : bufKiB * 1024;
  const bulk = startBulk(pair, {
    aToB: bytes,
    socket: rx === null ? {} : { rxBufferSize: rx, txBufferSize: Math.max(64 * 1024, 2 * rx) },
  });
  const t0 = performance.now();
  sim.runOrFail(bulk.done, 1e9, `goodput cell ${key}`);
  const wallMs = performance.now() - t0;
  const virtualMs = bulk.b.sink.doneAt - bulk.a.establishedAt;
  const info = bulk.a.socket.info;
  return {
    key,
    bytes,
    goodput: Math.round(bytes / (virtualMs / 1000)),
    virtualMs,
    retransmits: info.retransmits,
    rtos: info.rtos,
    fastRetransmits: info.fastRetransmits,
    lost: pair.link.ab.lost,
    reordered: pair.link.ab.reordered + pair.link.ba.reordered,
    wallMs,
    intact: bulk.a.sentDigest() === bulk.b.receivedDigest(),
  };
}

/**
 * One cell under smoltcp's own netsim conditions (smoltcp `tests/netsim.rs`), which differ from
 * {@linkcode runCell}'s: the loss rate applies to both directions (ACKs too, each direction its
 * own random stream), the link has no rate limit and no queue (50 ms each way only), the send
 * buffer equals the receive buffer, and goodput counts from the connect call (handshake
 * included). `congestion: "unbounded"` leaves the congestion window unbounded, which is what
 * smoltcp's netsim measures: it is built with the default features, which select no
 * congestion controller (`NoControl`: send what the peer's window allows, no reduction on
 * loss). That is a comparison device only; no stack option does this.
 */
export function runSmoltcpConditionsCell(
  bufKiB: number,
  lossPct: number,
  bytes: number,
  congestion: "newreno" | "cubic" | "unbounded",
  seed = MATRIX_SEED,
): CellResult {
  const key = `${cellKey(bufKiB, lossPct)} smoltcp conditions ${congestion}`;
  const sim = new Simulator(seed);
  const loss = lossPct / 100;
  const pair = twoNodes(sim, { latency: 50, bandwidth: 1e12, queueBytes: 2 ** 40, loss });
  const buf = bufKiB * 1024;
  const bulk = startBulk(pair, {
    aToB: bytes,
    socket: {
      rxBufferSize: buf,
      txBufferSize: buf,
      congestion: congestion === "cubic" ? "cubic" : "newreno",
    },
  });
  if (congestion === "unbounded") {
    Object.defineProperty(connOf(bulk.a.socket).cc, "cwnd", { get: () => 2 ** 30 });
  }
  const start = sim.now;
  const t0 = performance.now();
  sim.runOrFail(bulk.done, 1e9, `goodput cell ${key}`);
  const wallMs = performance.now() - t0;
  const virtualMs = bulk.b.sink.doneAt - start;
  const info = bulk.a.socket.info;
  return {
    key,
    bytes,
    goodput: Math.round(bytes / (virtualMs / 1000)),
    virtualMs,
    retransmits: info.retransmits,
    rtos: info.rtos,
    fastRetransmits: info.fastRetransmits,
    lost: pair.link.ab.lost + pair.link.ba.lost,
    reordered: pair.link.ab.reordered + pair.link.ba.reordered,
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

/** A Markdown table of the extra cells (B/s): one row per buffer and reordering. */
export function extraTable(results: ReadonlyMap<string, CellResult>): string {
  const losses = [...new Set(EXTRA_CELLS.map((c) => c.lossPct))];
  const rows = [
    ...new Map(EXTRA_CELLS.map((c) => [`${c.bufKiB}/${c.reorderPct}`, c])).values(),
  ];
  const head = `| rx buffer | reorder | ${losses.map((l) => `${l} %`).join(" | ")} |`;
  const sep = `|---|---:|${losses.map(() => "---:").join("|")}|`;
  const body = rows.map((c) =>
    `| ${c.bufKiB === null ? "default" : `${c.bufKiB} KiB`} | ${c.reorderPct} % | ${
      losses.map((l) => {
        const r = results.get(cellKey(c.bufKiB, l, c.reorderPct));
        return r === undefined ? "" : r.goodput.toLocaleString("en-US");
      }).join(" | ")
    } |`
  );
  return [head, sep, ...body].join("\n");
}
