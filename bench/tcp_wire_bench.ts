/**
 * parseTcp / emitTcp of a full-sized data segment (1460 bytes of payload, timestamps option),
 * with and without the checksum.
 *
 * @module
 */

import { Ipv4Address } from "../src/wire/address.ts";
import {
  emitTcp,
  parseTcp,
  tcpBufferLen,
  TcpFlags,
  TcpPacket,
  type TcpRepr,
} from "../src/wire/tcp.ts";

const SRC = Ipv4Address.parse("192.0.2.1");
const DST = Ipv4Address.parse("192.0.2.2");

const payload = new Uint8Array(1460);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;

const REPR: TcpRepr = {
  srcPort: 49152,
  dstPort: 80,
  seq: 0x12345678,
  ack: 0x9abcdef0,
  flags: TcpFlags.ACK | TcpFlags.PSH,
  window: 502,
  urgent: 0,
  mss: null,
  windowScale: null,
  sackPermitted: false,
  sackBlocks: [],
  timestamp: { tsVal: 123456, tsEcr: 654321 },
  payload,
};

const packet = new TcpPacket(new Uint8Array(tcpBufferLen(REPR)));
emitTcp(REPR, packet, SRC, DST);

/** Written by every parse so the result is not optimised away. */
export let sink = 0;

Deno.bench(
  { name: "parseTcp 1460 B + timestamps, checksum on", group: "parse", baseline: true },
  () => {
    sink ^= parseTcp(packet, SRC, DST).seq;
  },
);

Deno.bench({ name: "parseTcp 1460 B + timestamps, checksum off", group: "parse" }, () => {
  sink ^= parseTcp(packet, SRC, DST, { verifyChecksum: false }).seq;
});

const out = new TcpPacket(new Uint8Array(tcpBufferLen(REPR)));
const NO_CHECKSUM = { fillChecksum: false } as const;

Deno.bench(
  { name: "emitTcp 1460 B + timestamps, checksum on", group: "emit", baseline: true },
  () => {
    emitTcp(REPR, out, SRC, DST);
  },
);

Deno.bench({ name: "emitTcp 1460 B + timestamps, checksum off", group: "emit" }, () => {
  emitTcp(REPR, out, SRC, DST, NO_CHECKSUM);
});
