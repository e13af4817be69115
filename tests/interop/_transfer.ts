/**
 * The bulk transfer shared by the interop tests: a NetStack on a {@linkcode KernelPeer}'s device
 * moves bytes to or from a python3 peer in the namespace; both SHA-256 digests must agree.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FaultInjector } from "../../src/phy/fault_injector.ts";
import {
  KERNEL_V4,
  KernelPeer,
  mbps,
  peerResult,
  PY_PEER,
  readHash,
  withTimeout,
  writeHashed,
} from "./_kernel_peer.ts";

/** The faults of the lossy runs: 5 % drop and 5 % reordering, both ways. */
export const FAULTS = { seed: 6, dropRate: 0.05, reorderRate: 0.05, reorderDelay: 3 } as const;

/** Generous time for `bytes`: at least 2 minutes, or 100 kB/s. */
function budget(bytes: number): number {
  return Math.max(120_000, bytes / 100);
}

/**
 * Moves `bytes` one way between a NetStack on `peer`'s device and a python3 peer in the
 * namespace, and checks both SHA-256 digests.
 */
export async function transfer(
  direction: "download" | "upload",
  bytes: number,
  faults: boolean,
  makePeer: () => Promise<KernelPeer> = () => KernelPeer.create(),
): Promise<void> {
  await using peer = await makePeer();
  const injector = faults ? new FaultInjector(peer.device, FAULTS) : null;
  const stack = peer.stack(injector !== null ? { device: injector } : {});
  const port = direction === "download" ? 5001 : 5002;
  const server = direction === "download"
    ? peer.python(PY_PEER, ["send", String(port), String(bytes)])
    : peer.python(PY_PEER, ["recv", String(port)]);
  await peer.waitListening(port);
  const conn = await stack.connect({ hostname: KERNEL_V4, port });
  const t0 = performance.now();
  let ours: { bytes: number; sha256: string };
  try {
    if (direction === "download") {
      ours = await withTimeout(readHash(conn), budget(bytes), "download");
      await conn.closeWrite();
    } else {
      const sha256 = await withTimeout(writeHashed(conn, bytes), budget(bytes), "upload");
      ours = { bytes, sha256 };
      // The server closes after EOF: wait for its FIN so every byte was acknowledged.
      await withTimeout(conn.read(new Uint8Array(1)), 30_000, "peer FIN");
    }
  } finally {
    conn.close();
  }
  const ms = performance.now() - t0;
  const theirs = peerResult(await withTimeout(server.output, 30_000, "kernel peer exit"));
  assert.equal(ours.bytes, bytes);
  assert.equal(theirs.bytes, bytes);
  assert.equal(ours.sha256, theirs.sha256, "SHA-256 differs");
  const f = injector?.stats;
  const faultNote = f === undefined ? "" : ` (faults: rx dropped ${f.rx.dropped} reordered ` +
    `${f.rx.reordered}, tx dropped ${f.tx.dropped} reordered ${f.tx.reordered})`;
  console.log(
    `${direction} ${(bytes / 1048576).toFixed(1)} MiB over ${peer.mode} ` +
      `${faults ? "with" : "without"} faults: ` +
      `${ms.toFixed(0)} ms, ${mbps(bytes, ms)} MB/s${faultNote}`,
  );
  if (f !== undefined) {
    assert.ok(f.rx.dropped > 0 && f.tx.dropped > 0 && f.rx.reordered > 0 && f.tx.reordered > 0);
  }
}
