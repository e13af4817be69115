/**
 * The storage layer: the buffers sockets keep their data in. No I/O, no clock, and no allocation
 * per operation beyond the views it hands out.
 *
 * - {@linkcode RingBuffer}: a fixed-capacity byte ring for TCP send and receive buffers. Queued
 *   bytes can be read without being consumed (retransmission), and free space can be written
 *   ahead of the queue's end and committed later (out-of-order data lands in its final place).
 *   Its memory is taken on the first write, so idle connections cost almost nothing.
 * - {@linkcode Assembler}: a bounded set of byte ranges that arrived beyond a base offset, for
 *   TCP reassembly and SACK blocks.
 * - {@linkcode PacketBuffer}: a ring of datagrams with metadata, bounded by slots and bytes, for
 *   UDP, ICMP and raw sockets.
 *
 * @example Receive a TCP stream out of order
 * ```ts
 * import { Assembler, RingBuffer } from "@smol/net/storage";
 * import assert from "node:assert/strict";
 *
 * const rx = new RingBuffer(64);
 * const asm = new Assembler();
 * const text = new TextEncoder();
 *
 * // "world" arrives first, 6 bytes beyond RCV.NXT: place it and remember the range.
 * rx.writeUnallocated(6, text.encode("world"));
 * asm.add(6, 5);
 * // "hello " arrives in order: place it, move the base, and commit all that is contiguous.
 * rx.writeUnallocated(0, text.encode("hello "));
 * asm.rebase(6);
 * rx.enqueueUnallocated(6 + asm.removeFront());
 *
 * const out = new Uint8Array(rx.length);
 * rx.dequeueSlice(out);
 * assert.equal(new TextDecoder().decode(out), "hello world");
 * ```
 *
 * @example Queue datagrams with their sender
 * ```ts
 * import { PacketBuffer } from "@smol/net/storage";
 * import assert from "node:assert/strict";
 *
 * const rx = new PacketBuffer<string>({ slots: 8, bytes: 4096 });
 * rx.enqueue(2, "192.0.2.1:53")?.set([0xbe, 0xef]);
 * const d = rx.dequeue();
 * assert.equal(d?.meta, "192.0.2.1:53");
 * assert.equal(d?.payload.length, 2);
 * ```
 *
 * @module
 */

export { RingBuffer } from "./ring_buffer.ts";
export { Assembler } from "./assembler.ts";
export { PacketBuffer, type PacketBufferEntry, type PacketBufferOptions } from "./packet_buffer.ts";
