/**
 * Builds one frame of every protocol with smolnet's emit functions, writes them to a pcap file and
 * has tshark decode them with checksum validation on: tshark must see the protocol we meant, with
 * no malformed packet, no bad checksum and no expert error.
 */
import assert from "node:assert/strict";
import {
  EthernetAddress,
  type IpAddress,
  Ipv4Address,
  Ipv6Address,
} from "../../src/wire/address.ts";
import { ArpOperation, ArpPacket, emitArp } from "../../src/wire/arp.ts";
import {
  emitEthernet,
  ethernetBufferLen,
  EthernetFrame,
  type EthernetRepr,
  EtherType,
} from "../../src/wire/ethernet.ts";
import {
  emitIcmpv4,
  icmpv4BufferLen,
  Icmpv4Packet,
  type Icmpv4Repr,
} from "../../src/wire/icmpv4.ts";
import {
  emitIcmpv6,
  icmpv6BufferLen,
  Icmpv6Packet,
  type Icmpv6Repr,
} from "../../src/wire/icmpv6.ts";
import { IpProtocol } from "../../src/wire/ip.ts";
import { emitIpv4, Ipv4Packet, type Ipv4Repr } from "../../src/wire/ipv4.ts";
import { emitIpv6, Ipv6Packet, type Ipv6Repr } from "../../src/wire/ipv6.ts";
import {
  emitIpv6Fragment,
  IPV6_FRAGMENT_HEADER_LEN,
  Ipv6FragmentHeader,
} from "../../src/wire/ipv6_ext.ts";
import { emitTcp, tcpBufferLen, TcpFlags, TcpPacket, type TcpRepr } from "../../src/wire/tcp.ts";
import { emitUdp, udpBufferLen, UdpPacket } from "../../src/wire/udp.ts";
import { pcapGlobalHeader, PcapLinkType, writePcapRecord } from "../../src/phy/pcap_writer.ts";

function commandWorks(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false; // not installed, or no --allow-run
  }
}

const hasTshark = commandWorks("tshark", ["--version"]);
if (!hasTshark) {
  console.warn(
    "tshark_test: tshark is not installed (or --allow-run is missing); the tshark check is " +
      "ignored. Install it with `DEBIAN_FRONTEND=noninteractive apt-get install -y tshark`.",
  );
}

const MAC_A = EthernetAddress.parse("02:00:00:00:00:01");
const MAC_B = EthernetAddress.parse("02:00:00:00:00:02");
const V4_A = Ipv4Address.parse("192.0.2.1");
const V4_B = Ipv4Address.parse("192.0.2.2");
const V6_A = Ipv6Address.parse("2001:db8::1");
const V6_B = Ipv6Address.parse("2001:db8::2");

/** Ethernet frame with room for `payloadLen` bytes; `fill` writes the payload. */
function ethernet(
  etherType: number,
  payloadLen: number,
  fill: (payload: Uint8Array) => void,
  vlan: EthernetRepr["vlan"] = null,
  dst: EthernetAddress = MAC_B,
): Uint8Array {
  const repr: EthernetRepr = { src: MAC_A, dst, etherType, vlan };
  const frame = new EthernetFrame(new Uint8Array(ethernetBufferLen(repr, payloadLen)));
  emitEthernet(repr, frame);
  fill(frame.payload);
  return frame.buffer;
}

function ipv4Repr(protocol: number, payloadLen: number, extra: Partial<Ipv4Repr> = {}): Ipv4Repr {
  return {
    src: V4_A,
    dst: V4_B,
    protocol,
    payloadLen,
    ttl: 64,
    dscp: 0,
    ecn: 0,
    ident: 0x1234,
    dontFrag: true,
    moreFrags: false,
    fragOffset: 0,
    ...extra,
  };
}

/** Ethernet + IPv4 with the upper layer written by `fill(payload, src, dst)`. */
function ipv4Frame(
  protocol: number,
  payloadLen: number,
  fill: (payload: Uint8Array, src: IpAddress, dst: IpAddress) => void,
  extra: Partial<Ipv4Repr> = {},
  vlan: EthernetRepr["vlan"] = null,
): Uint8Array {
  const repr = ipv4Repr(protocol, payloadLen, extra);
  return ethernet(EtherType.Ipv4, 20 + payloadLen, (b) => {
    const packet = new Ipv4Packet(b);
    emitIpv4(repr, packet);
    fill(packet.payload, repr.src, repr.dst);
  }, vlan);
}

/** Ethernet + IPv6 with the upper layer written by `fill(payload, src, dst)`. */
function ipv6Frame(
  nextHeader: number,
  payloadLen: number,
  fill: (payload: Uint8Array, src: IpAddress, dst: IpAddress) => void,
  dstAddr: Ipv6Address = V6_B,
  dstMac: EthernetAddress = MAC_B,
  hopLimit = 64,
): Uint8Array {
  const repr: Ipv6Repr = {
    src: V6_A,
    dst: dstAddr,
    nextHeader,
    payloadLen,
    hopLimit,
    trafficClass: 0,
    flowLabel: 0x12345,
  };
  return ethernet(
    EtherType.Ipv6,
    40 + payloadLen,
    (b) => {
      const packet = new Ipv6Packet(b);
      emitIpv6(repr, packet);
      fill(packet.payload, repr.src, repr.dst);
    },
    null,
    dstMac,
  );
}

function tcp(repr: TcpRepr): (b: Uint8Array, src: IpAddress, dst: IpAddress) => void {
  return (b, src, dst) => emitTcp(repr, new TcpPacket(b), src, dst);
}

function udp(payload: Uint8Array): (b: Uint8Array, src: IpAddress, dst: IpAddress) => void {
  return (b, src, dst) =>
    emitUdp({ srcPort: 50000, dstPort: 50001 }, payload, new UdpPacket(b), src, dst);
}

const TCP_SYN: TcpRepr = {
  srcPort: 50000,
  dstPort: 50001,
  seq: 0xfffffff0,
  ack: 0,
  flags: TcpFlags.SYN,
  window: 64240,
  urgent: 0,
  mss: 1460,
  windowScale: 7,
  sackPermitted: true,
  sackBlocks: [],
  timestamp: { tsVal: 1, tsEcr: 0 },
  payload: new Uint8Array(0),
};

const TCP_DATA: TcpRepr = {
  ...TCP_SYN,
  seq: 1001,
  ack: 5001,
  flags: TcpFlags.ACK | TcpFlags.PSH,
  window: 502,
  mss: null,
  windowScale: null,
  sackPermitted: false,
  sackBlocks: [[7001, 8001], [9001, 9501]],
  timestamp: { tsVal: 100, tsEcr: 99 },
  payload: new TextEncoder().encode("hello from smolnet\n"),
};

const UDP_PAYLOAD = new TextEncoder().encode("ping");

interface Case {
  readonly name: string;
  readonly frame: Uint8Array;
  /** What `frame.protocols` must start with. */
  readonly protocols: string;
  /** How many checksums tshark must verify as good (IPv4 header, TCP, UDP, ICMP, ICMPv6). */
  readonly checksums: number;
}

function cases(): Case[] {
  const list: Case[] = [];
  const add = (name: string, protocols: string, checksums: number, frame: Uint8Array) =>
    list.push({ name, protocols, checksums, frame });

  add(
    "Ethernet + ARP request",
    "eth:ethertype:arp",
    0,
    ethernet(
      EtherType.Arp,
      28,
      (b) =>
        emitArp({
          operation: ArpOperation.Request,
          senderHardwareAddr: MAC_A,
          senderProtocolAddr: V4_A,
          targetHardwareAddr: EthernetAddress.ZERO,
          targetProtocolAddr: V4_B,
        }, new ArpPacket(b)),
      null,
      EthernetAddress.BROADCAST,
    ),
  );
  const echo: Icmpv4Repr = {
    kind: "echoRequest",
    ident: 0x1234,
    seqNo: 1,
    data: new Uint8Array(56).map((_, i) => i),
  };
  add(
    "IPv4 + ICMP echo request",
    "eth:ethertype:ip:icmp:data",
    2,
    ipv4Frame(IpProtocol.Icmp, icmpv4BufferLen(echo), (b) => emitIcmpv4(echo, new Icmpv4Packet(b))),
  );
  add(
    "IPv4 + UDP",
    "eth:ethertype:ip:udp:data",
    2,
    ipv4Frame(
      IpProtocol.Udp,
      udpBufferLen({ srcPort: 1, dstPort: 1 }, UDP_PAYLOAD.length),
      udp(UDP_PAYLOAD),
    ),
  );
  add(
    "IPv4 + TCP SYN with all options",
    "eth:ethertype:ip:tcp",
    2,
    ipv4Frame(IpProtocol.Tcp, tcpBufferLen(TCP_SYN), tcp(TCP_SYN)),
  );
  add(
    "IPv4 + TCP data with SACK",
    "eth:ethertype:ip:tcp:data",
    2,
    ipv4Frame(IpProtocol.Tcp, tcpBufferLen(TCP_DATA), tcp(TCP_DATA)),
  );
  add(
    "802.1Q VLAN + IPv4 + UDP",
    "eth:ethertype:vlan:ethertype:ip:udp:data",
    2,
    ipv4Frame(
      IpProtocol.Udp,
      udpBufferLen({ srcPort: 1, dstPort: 1 }, UDP_PAYLOAD.length),
      udp(UDP_PAYLOAD),
      {},
      { id: 10, pcp: 3 },
    ),
  );
  add(
    "IPv4 first fragment",
    "eth:ethertype:ip:data",
    1,
    ipv4Frame(IpProtocol.Udp, 64, (b) => b.fill(0x5a), {
      dontFrag: false,
      moreFrags: true,
      ident: 0x4242,
    }),
  );
  const icmp6 = (repr: Icmpv6Repr) => (b: Uint8Array, src: IpAddress, dst: IpAddress) =>
    emitIcmpv6(repr, new Icmpv6Packet(b), src as Ipv6Address, dst as Ipv6Address);
  const ns: Icmpv6Repr = {
    kind: "ndisc",
    repr: { kind: "neighborSolicit", target: V6_B, sourceLinkAddr: MAC_A },
  };
  const solicited = Ipv6Address.solicitedNode(V6_B);
  add(
    "IPv6 + ICMPv6 neighbor solicitation",
    "eth:ethertype:ipv6:icmpv6",
    1,
    ipv6Frame(
      IpProtocol.Icmpv6,
      icmpv6BufferLen(ns),
      icmp6(ns),
      solicited,
      EthernetAddress.parse("33:33:ff:00:00:02"),
      255,
    ),
  );
  const na: Icmpv6Repr = {
    kind: "ndisc",
    repr: {
      kind: "neighborAdvert",
      router: false,
      solicited: true,
      override: true,
      target: V6_A,
      targetLinkAddr: MAC_A,
    },
  };
  add(
    "IPv6 + ICMPv6 neighbor advertisement",
    "eth:ethertype:ipv6:icmpv6",
    1,
    ipv6Frame(IpProtocol.Icmpv6, icmpv6BufferLen(na), icmp6(na), V6_B, MAC_B, 255),
  );
  const echo6: Icmpv6Repr = {
    kind: "echoRequest",
    ident: 0x4321,
    seqNo: 7,
    data: new Uint8Array(56).map((_, i) => 255 - i),
  };
  add(
    "IPv6 + ICMPv6 echo request",
    "eth:ethertype:ipv6:icmpv6:data",
    1,
    ipv6Frame(IpProtocol.Icmpv6, icmpv6BufferLen(echo6), icmp6(echo6)),
  );
  add(
    "IPv6 + UDP",
    "eth:ethertype:ipv6:udp:data",
    1,
    ipv6Frame(
      IpProtocol.Udp,
      udpBufferLen({ srcPort: 1, dstPort: 1 }, UDP_PAYLOAD.length),
      udp(UDP_PAYLOAD),
    ),
  );
  add(
    "IPv6 + TCP SYN-ACK with all options",
    "eth:ethertype:ipv6:tcp",
    1,
    ipv6Frame(
      IpProtocol.Tcp,
      tcpBufferLen(TCP_SYN),
      tcp({ ...TCP_SYN, flags: TcpFlags.SYN | TcpFlags.ACK, ack: 1 }),
    ),
  );
  add(
    "IPv6 + fragment header (first fragment)",
    "eth:ethertype:ipv6:ipv6.fraghdr",
    0,
    ipv6Frame(IpProtocol.Ipv6Frag, IPV6_FRAGMENT_HEADER_LEN + 64, (b) => {
      const h = new Ipv6FragmentHeader(b);
      emitIpv6Fragment({
        nextHeader: IpProtocol.Udp,
        fragOffset: 0,
        moreFrags: true,
        ident: 0xdeadbeef,
      }, h);
      h.payload.fill(0xa5);
    }),
  );
  return list;
}

function writePcap(path: string, frames: readonly Uint8Array[]): void {
  const parts: Uint8Array[] = [pcapGlobalHeader(PcapLinkType.Ethernet, 65535)];
  frames.forEach((frame, i) => {
    const rec = new Uint8Array(16 + frame.length);
    writePcapRecord(rec, frame, { now: 1_700_000_000_000 + i });
    parts.push(rec);
  });
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  Deno.writeFileSync(path, out);
}

const CHECKS = [
  "-o",
  "tcp.check_checksum:TRUE",
  "-o",
  "udp.check_checksum:TRUE",
  "-o",
  "ip.check_checksum:TRUE",
];

function tshark(args: string[]): string {
  const out = new Deno.Command("tshark", { args, stdout: "piped", stderr: "piped" }).outputSync();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(
    out.success,
    `tshark ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`,
  );
  return text;
}

Deno.test({
  name: "tshark decodes every frame smolnet emits, with good checksums and no expert errors",
  ignore: !hasTshark,
  fn() {
    const list = cases();
    const dir = Deno.makeTempDirSync({ prefix: "smolnet-tshark-" });
    try {
      const path = `${dir}/frames.pcap`;
      writePcap(path, list.map((c) => c.frame));

      const protocols = tshark(["-r", path, "-T", "fields", "-e", "frame.protocols", ...CHECKS])
        .trimEnd().split("\n");
      assert.equal(protocols.length, list.length);
      list.forEach((c, i) => {
        assert.ok(
          protocols[i]!.startsWith(c.protocols),
          `${c.name}: tshark says ${protocols[i]}, expected ${c.protocols}`,
        );
      });

      const verbose = tshark(["-r", path, "-V", ...CHECKS]);
      const frames = verbose.split(/^(?=Frame \d+: )/m).filter((s) => s.startsWith("Frame "));
      assert.equal(frames.length, list.length);
      frames.forEach((text, i) => {
        const { name, checksums } = list[i]!;
        for (
          const bad of [
            "Malformed",
            "[Bad",
            "incorrect",
            "Expert Info (Error",
            "Checksum Status: Bad",
          ]
        ) {
          assert.ok(!text.includes(bad), `${name}: tshark reports "${bad}":\n${text}`);
        }
        // The checksums were really verified, not skipped as "Unverified".
        const good = (text.match(/[Cc]hecksum [Ss]tatus: Good/g) ?? []).length;
        assert.equal(good, checksums, `${name}: ${good} checksums verified:\n${text}`);
      });
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
