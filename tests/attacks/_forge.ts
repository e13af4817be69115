/**
 * Helpers shared by the attack tests: forged TCP/IPv4 packets built with the wire emit functions,
 * and a tap on a simulated port that attributes every frame the interface sends to the frame it
 * was processing at the time (an immediate reply from `process`), so replies to forged frames can
 * be counted on the wire.
 *
 * @module
 */

import type { SimPort } from "../sim/sim.ts";
import { Ipv4Address } from "../../src/wire/address.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { emitIpv4, IPV4_HEADER_LEN, Ipv4Packet } from "../../src/wire/ipv4.ts";
import {
  emitTcp,
  parseTcp,
  tcpBufferLen,
  TcpPacket,
  type TcpRepr,
  type TcpTimestamp,
} from "../../src/wire/tcp.ts";

const EMPTY = new Uint8Array(0);

/** The fields of a forged segment; everything else is a plain header without options. */
export interface Forge {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number | undefined;
  flags: number;
  window?: number;
  timestamp?: TcpTimestamp | null | undefined;
  payload?: Uint8Array | undefined;
}

/** A whole IPv4 packet (IP medium frame) carrying the forged segment from `src` to `dst`. */
export function forgeTcp4(src: Ipv4Address, dst: Ipv4Address, f: Forge, ident = 0): Uint8Array {
  const repr: TcpRepr = {
    srcPort: f.srcPort,
    dstPort: f.dstPort,
    seq: f.seq >>> 0,
    ack: (f.ack ?? 0) >>> 0,
    flags: f.flags,
    window: f.window ?? 65535,
    urgent: 0,
    mss: null,
    windowScale: null,
    sackPermitted: false,
    sackBlocks: [],
    timestamp: f.timestamp ?? null,
    payload: f.payload ?? EMPTY,
  };
  const tcpLen = tcpBufferLen(repr);
  const p = new Uint8Array(IPV4_HEADER_LEN + tcpLen);
  emitIpv4(
    {
      src,
      dst,
      protocol: IpProtocol.Tcp,
      payloadLen: tcpLen,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      ident: ident & 0xffff,
      dontFrag: true,
      moreFrags: false,
      fragOffset: 0,
    },
    new Ipv4Packet(p),
  );
  emitTcp(repr, new TcpPacket(p.subarray(IPV4_HEADER_LEN)), src, dst);
  return p;
}

/** The TCP header of an IPv4 packet (IP medium), or `null` for anything else. */
export function tcpOf(packet: Uint8Array): TcpRepr | null {
  if (packet.length < 40 || packet[0]! >>> 4 !== 4 || packet[9] !== IpProtocol.Tcp) return null;
  const ihl = (packet[0]! & 0xf) * 4;
  const src = Ipv4Address.fromBytes(packet, 12), dst = Ipv4Address.fromBytes(packet, 16);
  try {
    return parseTcp(new TcpPacket(packet.subarray(ihl)), src, dst, { verifyChecksum: false });
  } catch {
    return null;
  }
}

/**
 * Wraps `port` (the victim's device): frames handed out by `receive` that are in `marked` make
 * every frame committed before the next `receive` call count as a reply to them; `onReply` sees
 * each such reply (a copy) with the tag of the frame that caused it. `onSend` sees every frame.
 */
export function tapPort(
  port: SimPort,
  marked: WeakMap<Uint8Array, string>,
  onReply: (tag: string, frame: Uint8Array) => void,
  onSend?: (frame: Uint8Array) => void,
): void {
  let current: string | null = null;
  let buf: Uint8Array | null = null;
  const recv = port.receive.bind(port);
  const transmit = port.transmit.bind(port);
  const commit = port.commit.bind(port);
  port.receive = (now) => {
    const f = recv(now);
    current = f === null ? null : marked.get(f) ?? null;
    return f;
  };
  port.transmit = (now, len) => {
    buf = transmit(now, len);
    return buf;
  };
  port.commit = () => {
    if (buf !== null) {
      if (current !== null) onReply(current, buf.slice());
      onSend?.(buf);
    }
    buf = null;
    commit();
  };
}
