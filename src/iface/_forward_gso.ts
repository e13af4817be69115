/**
 * Software segmentation of a forwarded TCP super-frame (a packet the ingress device coalesced,
 * GRO) for an outgoing device that cannot segment TCP itself, and the checksum completion a
 * forwarded TCP packet needs when the ingress device left its checksum to offload and the
 * outgoing one does not offload it. Internal to the iface folder.
 *
 * @module
 */

import type { IpAddress } from "../wire/address.ts";
import { Ipv4Packet } from "../wire/ipv4.ts";
import { Ipv6Packet } from "../wire/ipv6.ts";
import { IpProtocol } from "../wire/ip.ts";
import { TcpFlags, TcpPacket } from "../wire/tcp.ts";
import { sendIpTo } from "./egress.ts";
import type { IfaceCore } from "./iface_state.ts";
import type { Device } from "../phy/device.ts";

/** A device that says the segment size of the super-frame it handed over last (a TUN device). */
export interface SegmentSizeSource {
  /** The `gso_size` of the frame `receive` returned last; 0 when it was not a super-frame. */
  readonly receivedSegmentSize: number;
}

/** `device` when it reports segment sizes, else `null`. */
export function segmentSource(device: Device): SegmentSizeSource | null {
  const d = device as Device & Partial<SegmentSizeSource>;
  return typeof d.receivedSegmentSize === "number" ? d as SegmentSizeSource : null;
}

/**
 * Whether the segments coalesced into a TCP super-frame were larger than `mtu`: its IP and TCP
 * headers plus the segment size the ingress device reported (as Linux's
 * skb_gso_validate_network_len). Without a report the segments are taken to fit (they fitted
 * the ingress link; the frame is cut again to the outgoing MTU).
 */
export function segmentsExceed(
  from: SegmentSizeSource | null,
  packet: Uint8Array,
  mtu: number,
): boolean {
  const seg = from === null ? 0 : from.receivedSegmentSize;
  if (seg <= 0) return false;
  const hl = ipHeaderLen(packet);
  return hl + (packet[hl + 12]! >>> 4) * 4 + seg > mtu;
}

/** The IP header length of a TCP packet (IPv6 carries TCP with no extension header here). */
function ipHeaderLen(packet: Uint8Array): number {
  return packet[0]! >>> 4 === 4 ? new Ipv4Packet(packet).headerLen : 40;
}

/**
 * Writes the full TCP checksum of `packet` (the ingress device may have left a partial one, a
 * virtio NEEDS_CSUM frame, for a device that offloads it; this outgoing device does not).
 */
export function completeTcpChecksum(packet: Uint8Array): void {
  const hl = ipHeaderLen(packet);
  const v4 = packet[0]! >>> 4 === 4;
  const ip4 = v4 ? new Ipv4Packet(packet) : null;
  const ip6 = v4 ? null : new Ipv6Packet(packet);
  const src: IpAddress = ip4 !== null ? ip4.src : ip6!.src;
  const dst: IpAddress = ip4 !== null ? ip4.dst : ip6!.dst;
  new TcpPacket(packet.subarray(hl)).fillChecksum(src, dst);
}

/**
 * Cuts a TCP super-frame into segments that fit `oc`'s MTU, as the host would have (RFC 9293
 * sequence numbers advanced, FIN and PSH on the last segment only, CWR on the first only, IPv4
 * identification counted up), fills every checksum and sends each to `hop`. `false` when the
 * device filled up before the last segment (the rest is lost, as for a fragmented datagram).
 */
export function sendSegmented(
  oc: IfaceCore,
  packet: Uint8Array,
  hop: IpAddress,
  scratch: Uint8Array,
): boolean {
  const v4 = packet[0]! >>> 4 === 4;
  const hl = ipHeaderLen(packet);
  const tcp = new TcpPacket(packet.subarray(hl));
  const headers = hl + tcp.headerLen;
  const seg = oc.ipMtu - headers;
  const data = packet.subarray(headers);
  if (seg <= 0) return true;
  const flags = tcp.flags, seq = tcp.seq;
  const ident = v4 ? new Ipv4Packet(packet).ident : 0;
  const lastFlags = TcpFlags.FIN | TcpFlags.PSH;
  for (let off = 0, i = 0; off < data.length; off += seg, i++) {
    const n = Math.min(seg, data.length - off);
    const out = scratch.subarray(0, headers + n);
    out.set(packet.subarray(0, headers));
    out.set(data.subarray(off, off + n), headers);
    let src: IpAddress, dst: IpAddress;
    if (v4) {
      const ip = new Ipv4Packet(out);
      ip.totalLen = headers + n;
      ip.ident = (ident + i) & 0xffff;
      ip.fillChecksum();
      src = ip.src;
      dst = ip.dst;
    } else {
      const ip = new Ipv6Packet(out);
      ip.payloadLen = headers + n - 40;
      src = ip.src;
      dst = ip.dst;
    }
    const t = new TcpPacket(out.subarray(hl));
    t.seq = (seq + off) >>> 0;
    let f = flags;
    if (off + n < data.length) f &= ~lastFlags;
    if (i > 0) f &= ~TcpFlags.CWR;
    t.flags = f;
    t.fillChecksum(src, dst);
    if (!sendIpTo(oc, out, hop)) return false;
  }
  return true;
}

/**
 * A TCP packet larger than the ingress MTU: a super-frame the ingress device coalesced (GRO; a
 * device hands one over only with segmentation metadata). Its segments each fitted the link it
 * came from; forwarded whole to a device with segmentation offload, the host cuts it again to
 * the outgoing MTU.
 */
export function isSuperFrame(core: IfaceCore, packet: Uint8Array): boolean {
  return packet.length > core.ipMtu && isTcp(packet);
}

/** A TCP segment that is not a fragment (IPv6: without extension headers). */
export function isTcp(packet: Uint8Array): boolean {
  if (packet[0]! >>> 4 === 6) return new Ipv6Packet(packet).nextHeader === IpProtocol.Tcp;
  const ip = new Ipv4Packet(packet);
  return ip.protocol === IpProtocol.Tcp && !ip.moreFrags && ip.fragOffset === 0;
}
