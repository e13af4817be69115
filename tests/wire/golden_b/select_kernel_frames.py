#!/usr/bin/env python3
# Picks the golden frames out of /tmp/smolnet-gold-b/cap.pcap (made by capture_kernel_frames.sh)
# by tshark display filter and writes tests/wire/golden_b/kernel_frames.ts (run from the repo root,
# then `deno fmt` it).
import textwrap
import subprocess
PCAP = "/tmp/smolnet-gold-b/cap.pcap"
FILTERS = {'MLDV2_REPORT_DAD': 'icmpv6.type==143 && ipv6.src==:: && icmpv6.mldr.nb_mcast_records==4', 'NS_DAD': 'icmpv6.type==135 && ipv6.src==:: && icmpv6.nd.ns.target_address==2001:db8:b::2', 'RS': 'icmpv6.type==133', 'ICMPV4_ECHO_REQUEST': 'icmp.type==8 && ip.dst==198.51.100.2', 'ICMPV4_ECHO_REPLY': 'icmp.type==0', 'NS': 'icmpv6.type==135 && ipv6.src==2001:db8:b::1 && icmpv6.nd.ns.target_address==2001:db8:b::2', 'NA': 'icmpv6.type==136 && ipv6.src==2001:db8:b::2', 'ICMPV6_ECHO_REQUEST': 'icmpv6.type==128 && ipv6.dst==2001:db8:b::2', 'ICMPV6_ECHO_REPLY': 'icmpv6.type==129', 'UDP4': 'udp.srcport==40001 && !icmp', 'ICMPV4_PORT_UNREACHABLE': 'icmp.type==3 && icmp.code==3 && udp.srcport==40001', 'UDP4_NO_CHECKSUM': 'udp.srcport==40002 && !icmp', 'UDP6': 'udp.srcport==40003 && !icmpv6', 'ICMPV6_PORT_UNREACHABLE': 'icmpv6.type==1 && icmpv6.code==4', 'ICMPV4_TIME_EXCEEDED': 'icmp.type==11', 'ICMPV6_TIME_EXCEEDED': 'icmpv6.type==3', 'ICMPV4_FRAG_REQUIRED': 'icmp.type==3 && icmp.code==4', 'ICMPV6_PKT_TOO_BIG': 'icmpv6.type==2', 'ICMPV4_PROTO_UNREACHABLE': 'icmp.type==3 && icmp.code==2', 'ICMPV6_PARAM_PROBLEM': 'icmpv6.type==4', 'ICMPV4_PARAM_PROBLEM': 'icmp.type==12', 'ICMPV4_REDIRECT': 'icmp.type==5', 'NA_NO_OPTION': 'icmpv6.type==136 && ipv6.src==2001:db8:b::1 && frame.len==78', 'ICMPV4_HOST_UNREACHABLE': 'icmp.type==3 && icmp.code==1', 'NDISC_REDIRECT': 'icmpv6.type==137 && ipv6.dst==2001:db8:b::1', 'ICMPV6_ADDR_UNREACHABLE': 'icmpv6.type==1 && icmpv6.code==3 && ipv6.dst==2001:db8:b::1', 'MLDV1_REPORT': 'icmpv6.type==131 && ipv6.dst==ff05::1:3', 'MLDV1_DONE': 'icmpv6.type==132', 'MLDV2_REPORT_ALLOW': 'icmpv6.type==143 && icmpv6.mldr.mar.record_type==5', 'MLDV2_QUERY': 'icmpv6.type==130 && frame.len==90', 'MLDV1_QUERY': 'icmpv6.type==130 && frame.len==86'}
def first(flt):
    num = subprocess.run(["tshark", "-r", PCAP, "-Y", flt, "-T", "fields", "-e", "frame.number"], capture_output=True, text=True).stdout.split()
    assert num, flt
    out = subprocess.run(["tshark", "-r", PCAP, "-Y", "frame.number==" + num[0], "-x"], capture_output=True, text=True).stdout
    h = ""
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]{4}  ((?:[0-9a-f]{2} ){1,16})", line)
        if m: h += m.group(1).replace(" ", "")
    return int(num[0]), h
import re
spec = [
 ("MLDV2_REPORT_DAD", 1, "b2 coming up: MLDv2 report from :: during DAD (hop-by-hop router alert), 4 CHANGE_TO_EXCLUDE records"),
 ("NS_DAD", 4, "DAD neighbor solicitation from :: for 2001:db8:b::2 to its solicited-node group; its only option is an RFC 7527 nonce (type 14), unknown to smolnet"),
 ("RS", 11, "b1 router solicitation (accept_ra=1) from fe80::ff:fe00:b101 to ff02::2 with source link-layer option"),
 ("ICMPV4_ECHO_REQUEST", 18, "`ping -c1 198.51.100.2` from b1: echo request, 56 data bytes"),
 ("ICMPV4_ECHO_REPLY", 19, "the kernel's echo reply to ICMPV4_ECHO_REQUEST"),
 ("NS", 20, "`ping -6 -c1 2001:db8:b::2`: address resolution NS with source link-layer option"),
 ("NA", 21, "b2 (forwarding=1) answers NS: NA with R, S, O flags and target link-layer option"),
 ("ICMPV6_ECHO_REQUEST", 22, "`ping -6 -c1 2001:db8:b::2` from b1: echo request, 56 data bytes"),
 ("ICMPV6_ECHO_REPLY", 23, "the kernel's echo reply to ICMPV6_ECHO_REQUEST"),
 ("UDP4", 24, "python3 sendto(b\"hello\") from 198.51.100.1:40001 to 198.51.100.2:9 (odd payload length)"),
 ("ICMPV4_PORT_UNREACHABLE", 25, "b2 answers UDP4 (no listener on port 9): destination unreachable, port unreachable"),
 ("UDP4_NO_CHECKSUM", 26, "python3 with SO_NO_CHECK: 198.51.100.1:40002 to :9, payload \"smolnet\\n\", checksum 0"),
 ("UDP6", 28, "python3 sendto(b\"hello\") from [2001:db8:b::1]:40003 to [2001:db8:b::2]:9"),
 ("ICMPV6_PORT_UNREACHABLE", 29, "b2 answers UDP6: destination unreachable, code 4 port unreachable"),
 ("ICMPV4_TIME_EXCEEDED", 31, "`ping -c1 -t1 198.51.100.130` routed through b2: TTL exceeded in transit"),
 ("ICMPV6_TIME_EXCEEDED", 33, "`ping -6 -c1 -t1 2001:db8:b::1:1` routed through b2: hop limit exceeded in transit"),
 ("ICMPV4_FRAG_REQUIRED", 35, "`ping -c1 -M do -s 1200 198.51.100.130`, b2 route MTU 1000: fragmentation needed, next-hop MTU 1000, IP packet 576 bytes"),
 ("ICMPV6_PKT_TOO_BIG", 37, "`ping -6 -c1 -s 1400 2001:db8:b::1:1`, b2 egress MTU 1280: packet too big, MTU 1280, IPv6 packet 1280 bytes"),
 ("ICMPV4_PROTO_UNREACHABLE", 39, "python3 raw socket, IP protocol 253, to 198.51.100.2: protocol unreachable"),
 ("ICMPV6_PARAM_PROBLEM", 41, "python3 raw socket, next header 253, to 2001:db8:b::2: parameter problem code 1, pointer 6"),
 ("ICMPV4_PARAM_PROBLEM", 43, "python3 IPPROTO_RAW packet with a record-route option whose pointer is 2: parameter problem, pointer 22"),
 ("ICMPV4_REDIRECT", 45, "b1 routes 198.51.100.100 via b2, which forwards it back on-link: redirect for host, gateway 198.51.100.100"),
 ("NA_NO_OPTION", 53, "b1 answers a unicast NS from b2: NA with S flag only and no option"),
 ("ICMPV4_HOST_UNREACHABLE", 56, "ARP for 198.51.100.100 fails at b2: destination unreachable, host unreachable"),
 ("NDISC_REDIRECT", 58, "b1 routes 2001:db8:b::100 via b2: NDP redirect (target = destination) with a redirected header option"),
 ("ICMPV6_ADDR_UNREACHABLE", 62, "neighbor discovery for 2001:db8:b::100 fails at b2: destination unreachable, code 3"),
 ("MLDV1_REPORT", 65, "force_mld_version=1, IPV6_JOIN_GROUP ff05::1:3: MLDv1 report"),
 ("MLDV1_DONE", 66, "then IPV6_LEAVE_GROUP: MLDv1 done to ff02::2"),
 ("MLDV2_REPORT_ALLOW", 67, "MCAST_JOIN_SOURCE_GROUP ff3e::8000:1 source 2001:db8:b::2: MLDv2 report, ALLOW_NEW_SOURCES with one source"),
 ("MLDV2_QUERY", 89, "Linux bridge querier (mcast_mld_version 2) in b2: MLDv2 general query, max resp code 10000, QRV 2, QQIC 125"),
 ("MLDV1_QUERY", 101, "Linux bridge querier (mcast_mld_version 1) in b2: MLDv1 general query, max response delay 10000 ms"),
]
out = ['''// Golden Ethernet frames produced by the Linux kernel (6.18) for the UDP, ICMPv4, ICMPv6, NDP
// and MLD wire tests.
//
// How they were produced: two network namespaces `smolnet-gold-b1` and `smolnet-gold-b2` joined
// by a veth pair (same names), b1 = 02:00:00:00:b1:01, 198.51.100.1/25, 2001:db8:b::1/64;
// b2 = 02:00:00:00:b2:02, 198.51.100.2/25, 2001:db8:b::2/64, forwarding on, with an ifb sink
// device carrying 198.51.100.128/25 (MTU 1000) and 2001:db8:b::1:0/112 (MTU 1280). Traffic came
// from ping, ping -6 and python3 sockets in b1; later a bridge with an MLD querier was put in
// b2 (MAC 02:00:00:00:b2:03). Transmit checksum offload was off on both veth ends
// (`ethtool -K <dev> tx off`), so UDP checksums are complete on the wire. Everything was
// captured with `ip netns exec smolnet-gold-b2 tshark -i smolnet-gold-b2 -w /tmp/...pcap`,
// dumped with `tshark -r ... -x`, and the namespaces were deleted afterwards. Each constant
// says which traffic produced it. golden_b/capture_kernel_frames.sh made the capture and
// golden_b/select_kernel_frames.py picked the frames (by display filter) and wrote this file.

/** Decodes a hex string (whitespace ignored) into bytes. */
export function hex(text: string): Uint8Array {
  const s = text.replace(/\\s+/g, "");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}
''']
for name, _, note in spec:
    n, h = first(FILTERS[name])
    chunks = textwrap.wrap(h, 64)
    lines = "\n".join(f'    "{c}",' for c in chunks)
    doc = "\n".join(" * " + l for l in textwrap.wrap(f"Frame {n}: {note}.", 94))
    out.append(f'''
/**
{doc}
 */
export const {name}: Uint8Array = hex(
  [
{lines}
  ].join(""),
);''')
open("tests/wire/golden_b/kernel_frames.ts", "w").write("\n".join(out) + "\n")
