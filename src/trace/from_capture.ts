/**
 * TCP connections out of a packet capture: every frame is decoded with the wire layer, grouped by
 * connection and turned into {@linkcode TraceSegment}s with relative sequence numbers, scaled
 * windows and a retransmission mark, the way tcptrace and Wireshark present them.
 *
 * @module
 */

import type { IpAddress } from "../wire/address.ts";
import { formatEndpoint } from "../wire/cidr.ts";
import { EthernetFrame, EtherType, parseEthernet } from "../wire/ethernet.ts";
import { IpProtocol } from "../wire/ip.ts";
import { Ipv4Packet, parseIpv4 } from "../wire/ipv4.ts";
import { Ipv6Packet, parseIpv6, walkIpv6Headers } from "../wire/ipv6.ts";
import { parseTcp, TcpFlags, TcpPacket, type TcpRepr } from "../wire/tcp.ts";
import type { ConnectionTrace, TraceDirection, TraceSegment } from "./events.ts";
import { SegmentNumbering } from "./_numbering.ts";
import { type CapturedFrame, CaptureLinkType } from "./pcap_reader.ts";

const NO_VERIFY = { verifyChecksum: false } as const;

interface Building {
  a: string;
  b: string;
  numbering: SegmentNumbering;
  segments: TraceSegment[];
}

/** One decoded TCP segment with its endpoints. */
interface Decoded {
  src: IpAddress;
  dst: IpAddress;
  tcp: TcpRepr;
}

/**
 * The TCP segment in one captured frame, or `null` when the frame is not TCP (ARP, UDP, a
 * non-first fragment) or does not parse (a capture may hold anything).
 */
function decodeTcpFrame(frame: CapturedFrame): Decoded | null {
  try {
    return decode(frame);
  } catch {
    return null;
  }
}

function decode(frame: CapturedFrame): Decoded | null {
  let ip: Uint8Array;
  const d = frame.data;
  switch (frame.linkType) {
    case CaptureLinkType.Ethernet: {
      const eth = new EthernetFrame(d);
      const repr = parseEthernet(EthernetFrame.newChecked(d));
      if (repr.etherType !== EtherType.Ipv4 && repr.etherType !== EtherType.Ipv6) return null;
      ip = eth.payload;
      break;
    }
    case CaptureLinkType.Raw:
    case CaptureLinkType.Ipv4:
    case CaptureLinkType.Ipv6:
      ip = d;
      break;
    case CaptureLinkType.LinuxSll:
      ip = d.subarray(16);
      break;
    case CaptureLinkType.LinuxSll2:
      ip = d.subarray(20);
      break;
    default:
      return null;
  }
  if (ip.length === 0) return null;
  const version = ip[0]! >> 4;
  if (version === 4) {
    const packet = Ipv4Packet.newChecked(ip);
    const repr = parseIpv4(packet, NO_VERIFY);
    if (repr.protocol !== IpProtocol.Tcp || repr.fragOffset !== 0 || repr.moreFrags) return null;
    const tcp = parseTcp(TcpPacket.newChecked(packet.payload), repr.src, repr.dst, NO_VERIFY);
    return { src: repr.src, dst: repr.dst, tcp };
  }
  if (version === 6) {
    const packet = Ipv6Packet.newChecked(ip);
    const repr = parseIpv6(packet);
    const chain = walkIpv6Headers(packet);
    if (chain.upperLayer !== IpProtocol.Tcp || chain.fragment !== null) return null;
    const bytes = packet.payload.subarray(chain.upperLayerOffset);
    const tcp = parseTcp(TcpPacket.newChecked(bytes), repr.src, repr.dst, NO_VERIFY);
    return { src: repr.src, dst: repr.dst, tcp };
  }
  return null;
}

/**
 * Every TCP connection in a capture, as traces of segments.
 *
 * @param frames The frames, for example from `readCapture`.
 * @returns One trace per connection (4-tuple), in order of first appearance. Endpoint `a` is
 *   the side that sent the first SYN, or else the first sender seen.
 *
 * @example Two segments of a handshake
 * ```ts
 * import { readCapture, tcpTracesFromCapture } from "@smol/net/trace";
 * import { PcapWriter, MemorySink, linkPair } from "@smol/net/phy";
 * import { Interface, SocketSet } from "@smol/net/iface";
 * import { TcpListenSocket, TcpSocket } from "@smol/net/socket";
 * import { Ipv4Address } from "@smol/net";
 * import assert from "node:assert/strict";
 *
 * const [da, db] = linkPair();
 * const sink = new MemorySink();
 * const capture = new PcapWriter(db, sink);
 * const a = new Interface({ addresses: ["192.0.2.1/24"] }), sa = new SocketSet();
 * const b = new Interface({ addresses: ["192.0.2.2/24"] }), sb = new SocketSet();
 * a.listenTcp(sa, new TcpListenSocket({ addr: Ipv4Address.UNSPECIFIED, port: 80 }));
 * const client = new TcpSocket();
 * b.connectTcp(sb, client, { addr: Ipv4Address.parse("192.0.2.1"), port: 80 }, {}, 0);
 * for (let now = 0; client.state !== "established"; now++) {
 *   b.poll(now, capture, sb);
 *   a.poll(now, da, sa);
 * }
 * const [trace] = tcpTracesFromCapture(readCapture(sink.bytes()));
 * assert.equal(trace!.b, "192.0.2.1:80");
 * assert.deepEqual(trace!.events.map((e) => e.kind === "segment" && e.dir), ["ab", "ba", "ab"]);
 * ```
 */
export function tcpTracesFromCapture(frames: readonly CapturedFrame[]): ConnectionTrace[] {
  const conns = new Map<string, Building>();
  const order: Building[] = [];
  for (const frame of frames) {
    const seg = decodeTcpFrame(frame);
    if (seg === null) continue;
    const { src, dst, tcp } = seg;
    const from = formatEndpoint({ addr: src, port: tcp.srcPort });
    const to = formatEndpoint({ addr: dst, port: tcp.dstPort });
    const key = from < to ? `${from} ${to}` : `${to} ${from}`;
    let c = conns.get(key);
    const isSyn = (tcp.flags & TcpFlags.SYN) !== 0;
    const isAck = (tcp.flags & TcpFlags.ACK) !== 0;
    const fresh = isSyn && !isAck && c !== undefined && c.a === from &&
      c.numbering.isn("ab") !== tcp.seq;
    if (c === undefined || fresh) {
      // A new connection, or a new incarnation of the same 4-tuple (a SYN with another ISN).
      const aIsFrom = !(isSyn && isAck);
      c = {
        a: aIsFrom ? from : to,
        b: aIsFrom ? to : from,
        numbering: new SegmentNumbering(),
        segments: [],
      };
      order.push(c);
      conns.set(key, c);
    }
    const dir: TraceDirection = from === c.a ? "ab" : "ba";
    c.segments.push(c.numbering.segment(frame.time, dir, tcp));
  }
  return order.map((c) => ({ a: c.a, b: c.b, events: c.segments }));
}
