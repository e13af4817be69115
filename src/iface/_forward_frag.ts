/**
 * IPv4 fragments through NAT: held in a {@linkcode Reassembler} until their datagram is whole,
 * then rebuilt and handed to the interface's ingress again, where the forwarder translates it
 * like any packet and fragments it again to the outgoing MTU (reassemble-then-translate, as
 * Linux's conntrack does). Internal to the iface folder.
 *
 * @module
 */

import { emitEthernet, EthernetFrame, EtherType } from "../wire/ethernet.ts";
import { Ipv4Packet } from "../wire/ipv4.ts";
import type { ForwardCounters } from "./forward.ts";
import { ETH_LEN, type IfaceCore } from "./iface_state.ts";
import { receiveFrame } from "./ingress.ts";
import type { Reassembler } from "./reassembly.ts";

/**
 * An IPv4 fragment that must pass NAT: held until its datagram is whole (the ports are only in
 * the first fragment, and later fragments may come first), then the rebuilt datagram goes
 * through the interface's ingress again, is translated like any packet and, on the way out,
 * fragmented again to the outgoing MTU. Always consumes the fragment.
 */
export function natReassemble(
  reasm: Reassembler,
  scratch: Uint8Array,
  c: ForwardCounters,
  core: IfaceCore,
  ip: Ipv4Packet,
  packet: Uint8Array,
): boolean {
  const offset = ip.fragOffset;
  const res = reasm.add({
    src: ip.src,
    dst: ip.dst,
    protocol: ip.protocol,
    ident: ip.ident,
    offset,
    more: ip.moreFrags,
    data: ip.payload,
    packet: offset === 0 ? packet : null,
  }, core.now);
  c.natFragment += reasm.takeEvicted();
  if (res === null) return true; // held
  if (typeof res === "string") {
    c.natFragment++;
    return true;
  }
  const first = res.firstPacket;
  const hl = first === null ? 0 : (first[0]! & 0xf) * 4;
  const total = hl + res.payload.length;
  if (first === null || hl < 20 || first.length < hl || total > 65535) {
    c.natFragment++;
    return true;
  }
  const link = core.medium === "ethernet" ? ETH_LEN : 0;
  const frame = scratch.subarray(0, link + total);
  if (link !== 0) {
    emitEthernet(
      { src: core.hw, dst: core.hw, etherType: EtherType.Ipv4, vlan: null },
      new EthernetFrame(frame),
    );
  }
  const whole = frame.subarray(link);
  whole.set(first.subarray(0, hl));
  whole.set(res.payload, hl);
  const w = new Ipv4Packet(whole);
  w.totalLen = total;
  w.moreFrags = false;
  w.fragOffset = 0;
  w.fillChecksum();
  c.natReassembled++;
  receiveFrame(core, frame); // not a fragment now: taken by the forwarder or delivered locally
  return true;
}
