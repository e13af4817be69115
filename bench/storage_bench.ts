/**
 * Micro-benchmarks of the storage layer on the per-segment paths: RingBuffer copies of one
 * Ethernet-sized TCP payload (1460 bytes) in a 64 KiB ring (not a multiple of 1460, so copies
 * regularly split at the wrap), Assembler bookkeeping for reordered segments, and PacketBuffer
 * datagram cycling. `memcpy 1460 bytes` is the floor: one `Uint8Array.prototype.set`.
 *
 * Run with `deno bench bench/storage_bench.ts`.
 *
 * @module
 */

import { Assembler, PacketBuffer, RingBuffer } from "../src/storage/mod.ts";

const MSS = 1460;
const RING = 65536;
const segment = new Uint8Array(MSS).map((_, i) => i);
const sink = new Uint8Array(MSS);

// --- RingBuffer -------------------------------------------------------------------------------

const flat = new Uint8Array(RING);
let flatAt = 0;
Deno.bench("memcpy 1460 bytes", { group: "ring", baseline: true }, () => {
  flat.set(segment, flatAt);
  flatAt = flatAt + 2 * MSS > RING ? 0 : flatAt + MSS;
});

const steady = new RingBuffer(RING);
steady.enqueueSlice(new Uint8Array(RING / 2));
Deno.bench(
  "RingBuffer enqueueSlice + dequeueSlice 1460 bytes (wrapping)",
  { group: "ring" },
  () => {
    steady.enqueueSlice(segment);
    steady.dequeueSlice(sink);
  },
);

const sendBuf = new RingBuffer(RING);
sendBuf.enqueueUnallocated(1000); // start off-alignment so reads cross the wrap
sendBuf.dequeueAllocated(1000);
sendBuf.enqueueUnallocated(RING);
let readAt = 0;
Deno.bench("RingBuffer readAllocated 1460 bytes (retransmit)", { group: "ring" }, () => {
  sendBuf.readAllocated(readAt, sink);
  readAt = readAt + 2 * MSS > RING ? 0 : readAt + MSS;
});

let viewAt = 0;
Deno.bench("RingBuffer getAllocated up to 1460 bytes (view)", { group: "ring" }, () => {
  const view = sendBuf.getAllocated(viewAt, MSS);
  viewAt = viewAt + view.length + MSS > RING ? 0 : viewAt + view.length;
});

const rxBuf = new RingBuffer(RING);
Deno.bench("RingBuffer writeUnallocated + enqueueUnallocated + dequeueSlice 1460 bytes", {
  group: "ring",
}, () => {
  rxBuf.writeUnallocated(0, segment);
  rxBuf.enqueueUnallocated(MSS);
  rxBuf.dequeueSlice(sink);
});

// --- Assembler --------------------------------------------------------------------------------

/** Arrival order of 8 consecutive segments: every other pair swapped, the first one late. */
const ORDER = [1, 3, 2, 5, 4, 7, 6, 0];
const reorder = new Assembler();
Deno.bench("Assembler 8 segments out of order (add, then rebase + removeFront)", {
  group: "assembler",
}, () => {
  for (const k of ORDER) {
    if (k === 0) {
      reorder.rebase(MSS);
      if (reorder.removeFront() !== 7 * MSS) throw new Error("bad reassembly");
    } else {
      reorder.add(k * MSS, MSS);
    }
  }
});

const addFront = new Assembler();
Deno.bench("Assembler 8 segments out of order (add, then add(0) + removeFront)", {
  group: "assembler",
}, () => {
  for (const k of ORDER) {
    addFront.add(k * MSS, MSS);
    if (k === 0 && addFront.removeFront() !== 8 * MSS) throw new Error("bad reassembly");
  }
});

const holes = new Assembler();
Deno.bench("Assembler 16 segments with 8 holes, filled in reverse", { group: "assembler" }, () => {
  for (let k = 15; k >= 1; k -= 2) holes.add(k * MSS, MSS);
  for (let k = 14; k >= 2; k -= 2) holes.add(k * MSS, MSS);
  holes.rebase(MSS);
  if (holes.removeFront() !== 15 * MSS) throw new Error("bad reassembly");
});

const inOrder = new Assembler();
Deno.bench("Assembler 8 segments in order (rebase + removeFront)", {
  group: "assembler",
  baseline: true,
}, () => {
  for (let k = 0; k < 8; k++) {
    inOrder.rebase(MSS);
    inOrder.removeFront();
  }
});

// --- PacketBuffer -----------------------------------------------------------------------------

const datagrams = new PacketBuffer<number>({ slots: 64, bytes: RING });
for (let i = 0; i < 32; i++) datagrams.enqueue(512, i);
let meta = 0;
Deno.bench("PacketBuffer enqueue + dequeue 512-byte datagram", { group: "packet" }, () => {
  datagrams.enqueue(512, meta++)!.set(segment.subarray(0, 512));
  datagrams.dequeue();
});
