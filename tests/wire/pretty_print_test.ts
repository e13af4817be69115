import assert from "node:assert/strict";
import fc from "fast-check";
import { prettyPrint } from "../../src/wire/pretty_print.ts";
import * as goldB from "./golden_b/kernel_frames.ts";
import * as gold from "./golden_c/kernel_frames.ts";

const RUNS = Number(Deno.env.get("SMOLNET_FUZZ_RUNS") ?? 100_000);

/** The same frame without its Ethernet header, for the IP medium. */
function ipOf(frame: Uint8Array): Uint8Array {
  return frame.subarray(gold.ETH_LEN);
}

/** A copy of `frame` with `edit` applied. */
function edited(frame: Uint8Array, edit: (b: Uint8Array) => void): Uint8Array {
  const b = frame.slice();
  edit(b);
  return b;
}

/** A copy of `frame` with an 802.1Q tag (TPID 0x8100) inserted after the MAC addresses. */
function withVlan(frame: Uint8Array, id: number, pcp: number): Uint8Array {
  const b = new Uint8Array(frame.length + 4);
  b.set(frame.subarray(0, 12));
  b.set([0x81, 0x00, (pcp << 5) | (id >>> 8), id & 0xff], 12);
  b.set(frame.subarray(12), 16);
  return b;
}

// Each expected line is our own format; the comment is tshark's summary of the same frame
// (`tshark -r x.pcap`), for comparison.

Deno.test("prettyPrint prints ARP requests and replies", () => {
  // tshark: ARP 42 Who has 192.0.2.66? Tell 192.0.2.65
  assert.equal(
    prettyPrint(gold.ARP_REQUEST, "ethernet"),
    "ARP, Request who-has 192.0.2.66 tell 192.0.2.65",
  );
  // tshark: ARP 42 192.0.2.66 is at 02:00:00:00:c0:02
  assert.equal(
    prettyPrint(gold.ARP_REPLY, "ethernet"),
    "ARP, Reply 192.0.2.66 is-at 02:00:00:00:c0:02",
  );
});

Deno.test("prettyPrint prints the Linux TCP handshake with options in wire order", () => {
  // tshark: 49152 → 8000 [SYN] Seq=0 Win=64240 Len=0 MSS=1460 SACK_PERM TSval=1401166648 TSecr=0 WS=1024
  assert.equal(
    prettyPrint(gold.V4_SYN, "ethernet"),
    "IP 192.0.2.65.49152 > 192.0.2.66.8000: Flags [S], seq 4123642845, win 64240, " +
      "options [mss 1460,sackOK,TS val 1401166648 ecr 0,nop,wscale 10], length 0",
  );
  // tshark: 8000 → 49152 [SYN, ACK] Seq=0 Ack=1 Win=65160 Len=0 MSS=1460 SACK_PERM TSval=3909838953 TSecr=1401166648 WS=1024
  assert.equal(
    prettyPrint(gold.V4_SYN_ACK, "ethernet"),
    "IP 192.0.2.66.8000 > 192.0.2.65.49152: Flags [S.], seq 3158262710, ack 4123642846, " +
      "win 65160, options [mss 1460,sackOK,TS val 3909838953 ecr 1401166648,nop,wscale 10], " +
      "length 0",
  );
  // tshark: 49152 → 8000 [ACK] Seq=1 Ack=1 Win=64512 Len=0 TSval=1401166648 TSecr=3909838953
  assert.equal(
    prettyPrint(gold.V4_ACK, "ethernet"),
    "IP 192.0.2.65.49152 > 192.0.2.66.8000: Flags [.], seq 4123642846, ack 3158262711, " +
      "win 63, options [nop,nop,TS val 1401166648 ecr 3909838953], length 0",
  );
});

Deno.test("prettyPrint prints TCP data with its sequence range and the FIN", () => {
  // tshark: HTTP 154 GET /hello.txt HTTP/1.1
  assert.equal(
    prettyPrint(gold.V4_DATA, "ethernet"),
    "IP 192.0.2.65.49152 > 192.0.2.66.8000: Flags [P.], seq 4123642846:4123642934, " +
      "ack 3158262711, win 63, options [nop,nop,TS val 1401166648 ecr 3909838953], length 88",
  );
  // tshark: 8000 → 49152 [FIN, ACK] Seq=192 Ack=89 Win=65536 Len=0 TSval=3909838961 TSecr=1401166656
  assert.equal(
    prettyPrint(gold.V4_FIN, "ethernet"),
    "IP 192.0.2.66.8000 > 192.0.2.65.49152: Flags [F.], seq 3158262902, ack 4123642934, " +
      "win 64, options [nop,nop,TS val 3909838961 ecr 1401166656], length 0",
  );
});

Deno.test("prettyPrint prints TCP over IPv6", () => {
  // tshark: 49153 → 8000 [SYN] Seq=0 Win=64800 Len=0 MSS=1440 SACK_PERM TSval=361386613 TSecr=0 WS=1024
  assert.equal(
    prettyPrint(gold.V6_SYN, "ethernet"),
    "IP6 2001:db8:c::1.49153 > 2001:db8:c::2.8000: Flags [S], seq 1091715979, win 64800, " +
      "options [mss 1440,sackOK,TS val 361386613 ecr 0,nop,wscale 10], length 0",
  );
  assert.equal(
    prettyPrint(gold.V6_DATA, "ethernet"),
    "IP6 2001:db8:c::1.49153 > 2001:db8:c::2.8000: Flags [P.], seq 1091715980:1091716073, " +
      "ack 1460920885, win 64, options [nop,nop,TS val 361386614 ecr 1580751971], length 93",
  );
});

Deno.test("prettyPrint prints UDP with its payload length over IPv4 and IPv6", () => {
  // tshark: UDP 45 40000 → 9999 Len=3
  assert.equal(
    prettyPrint(gold.V4_UDP, "ethernet"),
    "IP 192.0.2.65.40000 > 192.0.2.66.9999: UDP, length 3",
  );
  // tshark: UDP 65 40000 → 9999 Len=3
  assert.equal(
    prettyPrint(gold.V6_UDP, "ethernet"),
    "IP6 2001:db8:c::1.40000 > 2001:db8:c::2.9999: UDP, length 3",
  );
});

Deno.test("prettyPrint prints ICMP echo with id, sequence and ICMP length", () => {
  // tshark: ICMP 98 Echo (ping) request  id=0x25f6, seq=1/256, ttl=64
  assert.equal(
    prettyPrint(gold.V4_ECHO_REQUEST, "ethernet"),
    "IP 192.0.2.65 > 192.0.2.66: ICMP echo request, id 9718, seq 1, length 64",
  );
  // tshark: ICMP 98 Echo (ping) reply    id=0x25f6, seq=1/256, ttl=64 (request in 29)
  assert.equal(
    prettyPrint(gold.V4_ECHO_REPLY, "ethernet"),
    "IP 192.0.2.66 > 192.0.2.65: ICMP echo reply, id 9718, seq 1, length 64",
  );
});

Deno.test("prettyPrint prints ICMP errors with what the quoted packet was", () => {
  // tshark: ICMP 73 Destination unreachable (Port unreachable)
  assert.equal(
    prettyPrint(gold.V4_PORT_UNREACHABLE, "ethernet"),
    "IP 192.0.2.66 > 192.0.2.65: ICMP 192.0.2.66 udp port 9999 unreachable, length 39",
  );
  const cases: [Uint8Array, string][] = [
    [
      goldB.ICMPV4_FRAG_REQUIRED,
      "IP 198.51.100.2 > 198.51.100.1: ICMP 198.51.100.130 unreachable - need to frag " +
      "(mtu 1000), length 556",
    ],
    [
      goldB.ICMPV4_HOST_UNREACHABLE,
      "IP 198.51.100.2 > 198.51.100.1: ICMP host 198.51.100.100 unreachable, length 92",
    ],
    [
      goldB.ICMPV4_PROTO_UNREACHABLE,
      "IP 198.51.100.2 > 198.51.100.1: ICMP 198.51.100.2 protocol 253 unreachable, length 32",
    ],
    [
      goldB.ICMPV4_TIME_EXCEEDED,
      "IP 198.51.100.2 > 198.51.100.1: ICMP time exceeded in-transit, length 92",
    ],
    [
      goldB.ICMPV4_REDIRECT,
      "IP 198.51.100.2 > 198.51.100.1: ICMP redirect 198.51.100.100 to host 198.51.100.100, " +
      "length 92",
    ],
    [
      goldB.ICMPV4_PARAM_PROBLEM,
      "IP 198.51.100.2 > 198.51.100.1: ICMP parameter problem - octet 22, length 36",
    ],
  ];
  for (const [frame, line] of cases) assert.equal(prettyPrint(frame, "ethernet"), line);
});

Deno.test("prettyPrint prints neighbor discovery without a length", () => {
  // tshark: ICMPv6 86 Neighbor Solicitation for 2001:db8:c::2 from 02:00:00:00:c0:01
  assert.equal(
    prettyPrint(gold.V6_NS, "ethernet"),
    "IP6 2001:db8:c::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has 2001:db8:c::2",
  );
  // tshark: ICMPv6 86 Neighbor Advertisement 2001:db8:c::2 (sol, ovr) is at 02:00:00:00:c0:02
  assert.equal(
    prettyPrint(gold.V6_NA, "ethernet"),
    "IP6 2001:db8:c::2 > 2001:db8:c::1: ICMP6, neighbor advertisement, tgt is 2001:db8:c::2 " +
      "(sol, ovr)",
  );
  assert.equal(
    prettyPrint(goldB.RS, "ethernet"),
    "IP6 fe80::ff:fe00:b101 > ff02::2: ICMP6, router solicitation",
  );
  assert.equal(
    prettyPrint(goldB.NDISC_REDIRECT, "ethernet"),
    "IP6 fe80::ff:fe00:b202 > 2001:db8:b::1: ICMP6, redirect, 2001:db8:b::100 to " +
      "2001:db8:b::100",
  );
});

Deno.test("prettyPrint prints ICMPv6 echo and errors with the ICMPv6 length", () => {
  // tshark: ICMPv6 118 Echo (ping) request id=0x25f8, seq=1, hop limit=64
  assert.equal(
    prettyPrint(gold.V6_ECHO_REQUEST, "ethernet"),
    "IP6 2001:db8:c::1 > 2001:db8:c::2: ICMP6, echo request, id 9720, seq 1, length 64",
  );
  // tshark: ICMPv6 113 Destination Unreachable (Port unreachable)
  assert.equal(
    prettyPrint(gold.V6_PORT_UNREACHABLE, "ethernet"),
    "IP6 2001:db8:c::2 > 2001:db8:c::1: ICMP6, destination unreachable, unreachable port, " +
      "2001:db8:c::2 udp port 9999, length 59",
  );
  const cases: [Uint8Array, string][] = [
    [
      goldB.ICMPV6_PKT_TOO_BIG,
      "IP6 2001:db8:b::2 > 2001:db8:b::1: ICMP6, packet too big, mtu 1280, length 1240",
    ],
    [
      goldB.ICMPV6_TIME_EXCEEDED,
      "IP6 2001:db8:b::2 > 2001:db8:b::1: ICMP6, time exceeded in-transit for 2001:db8:b::1:1, " +
      "length 112",
    ],
    [
      goldB.ICMPV6_ADDR_UNREACHABLE,
      "IP6 2001:db8:b::2 > 2001:db8:b::1: ICMP6, destination unreachable, unreachable address " +
      "2001:db8:b::100, length 112",
    ],
    [
      goldB.ICMPV6_PARAM_PROBLEM,
      "IP6 2001:db8:b::2 > 2001:db8:b::1: ICMP6, parameter problem, code 1, pointer 6, length 52",
    ],
  ];
  for (const [frame, line] of cases) assert.equal(prettyPrint(frame, "ethernet"), line);
});

Deno.test("prettyPrint prints MLD behind the hop-by-hop header", () => {
  const cases: [Uint8Array, string][] = [
    [
      goldB.MLDV2_REPORT_DAD,
      "IP6 :: > ff02::16: HBH ICMP6, multicast listener report v2, 4 group record(s)",
    ],
    [
      goldB.MLDV1_REPORT,
      "IP6 fe80::ff:fe00:b101 > ff05::1:3: HBH ICMP6, multicast listener report v1, " +
      "group ff05::1:3",
    ],
    [
      goldB.MLDV1_DONE,
      "IP6 fe80::ff:fe00:b101 > ff02::2: HBH ICMP6, multicast listener done, group ff05::1:3",
    ],
    [
      goldB.MLDV1_QUERY,
      "IP6 fe80::ff:fe00:b203 > ff02::1: HBH ICMP6, multicast listener query v1, group ::, " +
      "max resp delay 10000",
    ],
    [
      goldB.MLDV2_QUERY,
      "IP6 fe80::ff:fe00:b203 > ff02::1: HBH ICMP6, multicast listener query v2, group ::, " +
      "0 source(s)",
    ],
  ];
  for (const [frame, line] of cases) assert.equal(prettyPrint(frame, "ethernet"), line);
});

Deno.test("prettyPrint prints IPv4 fragments with id, length and offset", () => {
  // tshark: IPv4 1514 Fragmented IP protocol (proto=ICMP 1, off=0, ID=b191)
  assert.equal(
    prettyPrint(gold.V4_FRAGMENT_FIRST, "ethernet"),
    "IP 192.0.2.65 > 192.0.2.66: ICMP (frag 45457:1480@0+)",
  );
  // tshark (reassembled): ICMP 562 Echo (ping) request id=0x264a, seq=1/256, ttl=64
  assert.equal(
    prettyPrint(gold.V4_FRAGMENT_LAST, "ethernet"),
    "IP 192.0.2.65 > 192.0.2.66: ICMP (frag 45457:528@1480)",
  );
});

Deno.test("prettyPrint prints IPv6 fragment headers with ident, length and offset", () => {
  // tshark: IPv6 1510 IPv6 fragment (off=0 more=y ident=0x2c71bc77 nxt=58)
  assert.equal(
    prettyPrint(gold.V6_FRAGMENT_FIRST, "ethernet"),
    "IP6 2001:db8:c::1 > 2001:db8:c::2: ICMP6 (frag 0x2c71bc77:1448@0+)",
  );
  assert.equal(
    prettyPrint(gold.V6_FRAGMENT_LAST, "ethernet"),
    "IP6 2001:db8:c::1 > 2001:db8:c::2: ICMP6 (frag 0x2c71bc77:560@1448)",
  );
});

Deno.test("prettyPrint prints the 802.1Q VLAN id and priority before the packet", () => {
  assert.equal(
    prettyPrint(withVlan(gold.V4_UDP, 10, 3), "ethernet"),
    "vlan 10, p 3, IP 192.0.2.65.40000 > 192.0.2.66.9999: UDP, length 3",
  );
  assert.equal(
    prettyPrint(withVlan(gold.ARP_REQUEST, 4094, 0), "ethernet"),
    "vlan 4094, p 0, ARP, Request who-has 192.0.2.66 tell 192.0.2.65",
  );
});

Deno.test("prettyPrint with the IP medium prints bare IPv4 and IPv6 packets", () => {
  for (const frame of [gold.V4_SYN, gold.V4_UDP, gold.V6_DATA, gold.V6_FRAGMENT_LAST]) {
    assert.equal(prettyPrint(ipOf(frame), "ip"), prettyPrint(frame, "ethernet"));
  }
});

Deno.test("prettyPrint prints an unknown EtherType with the payload length", () => {
  const lldp = edited(gold.ARP_REQUEST, (b) => b.set([0x88, 0xcc], 12));
  assert.equal(prettyPrint(lldp, "ethernet"), "ethertype 0x88cc, length 28");
});

Deno.test("prettyPrint appends [bad cksum] instead of hiding a packet", () => {
  const tcpPayloadFlip = edited(gold.V4_DATA, (b) => b[80] = b[80]! ^ 0x20);
  assert.equal(
    prettyPrint(tcpPayloadFlip, "ethernet"),
    "IP 192.0.2.65.49152 > 192.0.2.66.8000: Flags [P.], seq 4123642846:4123642934, " +
      "ack 3158262711, win 63, options [nop,nop,TS val 1401166648 ecr 3909838953], length 88 " +
      "[bad cksum]",
  );
  const udpFlip = edited(gold.V6_UDP, (b) => b[b.length - 1] = 0);
  assert.equal(
    prettyPrint(udpFlip, "ethernet"),
    "IP6 2001:db8:c::1.40000 > 2001:db8:c::2.9999: UDP, length 3 [bad cksum]",
  );
  const icmpFlip = edited(gold.V4_ECHO_REQUEST, (b) => b[b.length - 1] = 0);
  assert.equal(
    prettyPrint(icmpFlip, "ethernet"),
    "IP 192.0.2.65 > 192.0.2.66: ICMP echo request, id 9718, seq 1, length 64 [bad cksum]",
  );
  const nsFlip = edited(gold.V6_NS, (b) => b[b.length - 1] = b[b.length - 1]! ^ 0x01);
  assert.equal(
    prettyPrint(nsFlip, "ethernet"),
    "IP6 2001:db8:c::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has 2001:db8:c::2 " +
      "[bad cksum]",
  );
  const ipHeaderFlip = edited(gold.V4_UDP, (b) => b[gold.ETH_LEN + 8] = 1); // TTL 1
  assert.equal(
    prettyPrint(ipHeaderFlip, "ethernet"),
    "IP 192.0.2.65.40000 > 192.0.2.66.9999: UDP, length 3 [bad cksum]",
  );
});

Deno.test("prettyPrint prints SACK blocks, end-of-list and unknown TCP options", () => {
  // IPv4 header (checksum 0), then TCP 50000 > 80 with data offset 9: NOP NOP SACK (one block
  // 2000-3000), an unknown kind 34 of length 2, EOL and padding.
  const ip = gold.hex("4500 0038 0000 4000 4006 0000 c0000201 c0000202");
  const tcp = gold.hex(
    "c350 0050 000003e8 00000001 9010 0100 0000 0000 0101 050a 000007d0 00000bb8 2202 0000",
  );
  const line = prettyPrint(new Uint8Array([...ip, ...tcp]), "ip");
  assert.equal(
    line,
    "IP 192.0.2.1.50000 > 192.0.2.2.80: Flags [.], seq 1000, ack 1, win 256, " +
      "options [nop,nop,sack 1 {2000:3000},unknown-34 len 2,eol], length 0 [bad cksum]",
  );
});

Deno.test("prettyPrint prints every TCP flag letter and none", () => {
  const line = (flags: number) =>
    prettyPrint(edited(gold.V4_FIN, (b) => b[gold.ETH_LEN + 20 + 13] = flags), "ethernet");
  assert.match(line(0xff), /Flags \[FSRP\.UEW\], seq 3158262902, ack 4123642934, win 64, urg 0,/);
  assert.match(line(0x00), /Flags \[none\], seq 3158262902, win 64,/);
  assert.match(line(0x04), /Flags \[R\], seq 3158262902, win 64,/);
});

Deno.test("prettyPrint reports a malformed Ethernet frame", () => {
  assert.equal(
    prettyPrint(gold.ARP_REQUEST.subarray(0, 5), "ethernet"),
    "[malformed: Invalid ethernet.length 5: buffer truncated, need at least 14 bytes]",
  );
});

Deno.test("prettyPrint reports a malformed layer after what parsed before it", () => {
  const badOffset = edited(gold.V4_SYN, (b) => b[gold.ETH_LEN + 20 + 12] = 0x40);
  assert.equal(
    prettyPrint(badOffset, "ethernet"),
    "IP 192.0.2.65 > 192.0.2.66: TCP [malformed: Invalid tcp.dataOffset 4: header length below " +
      "the minimum of 5 words]",
  );
  const badOption = edited(gold.V4_SYN, (b) => b[gold.ETH_LEN + 20 + 21] = 9); // MSS length 9
  assert.match(
    prettyPrint(badOption, "ethernet"),
    /^IP 192\.0\.2\.65 > 192\.0\.2\.66: TCP \[malformed: Invalid tcp\.option 2: MSS option/,
  );
  const truncatedIp = gold.V4_UDP.subarray(0, gold.ETH_LEN + 30);
  assert.match(prettyPrint(truncatedIp, "ethernet"), /^IP \[malformed: Invalid ipv4\.totalLen 31:/);
  const badUdpLength = edited(gold.V6_UDP, (b) => b[gold.ETH_LEN + 40 + 5] = 7);
  assert.match(
    prettyPrint(badUdpLength, "ethernet"),
    /^IP6 2001:db8:c::1 > 2001:db8:c::2: UDP \[malformed: Invalid udp\.length 7:/,
  );
  const shortNs = edited(gold.V6_NS.subarray(0, gold.ETH_LEN + 48), (b) => b[gold.ETH_LEN + 5] = 8);
  assert.equal(
    prettyPrint(shortNs, "ethernet"),
    "IP6 2001:db8:c::1 > ff02::1:ff00:2: ICMP6 [malformed: Invalid ndisc.length 8: buffer " +
      "truncated, need at least 24 bytes]",
  );
  const shortQuote = edited(gold.V4_PORT_UNREACHABLE.subarray(0, gold.ETH_LEN + 38), (b) => {
    b[gold.ETH_LEN + 3] = 38;
  });
  assert.match(
    prettyPrint(shortQuote, "ethernet"),
    /^IP 192\.0\.2\.66 > 192\.0\.2\.65: ICMP \[malformed: Invalid icmpv4\.data 10: quoted packet/,
  );
  const badArp = edited(gold.ARP_REQUEST, (b) => b[gold.ETH_LEN + 1] = 6); // hardware type 6
  assert.match(prettyPrint(badArp, "ethernet"), /^ARP, \[malformed: Invalid arp\.hardwareType 6:/);
});

Deno.test("prettyPrint with the IP medium reports an empty packet or an unknown version", () => {
  assert.equal(
    prettyPrint(new Uint8Array(0), "ip"),
    "[malformed: Invalid ip.length 0: empty packet]",
  );
  assert.equal(
    prettyPrint(new Uint8Array([0x50, 0, 0, 0]), "ip"),
    "[malformed: Invalid ip.version 5: neither IPv4 nor IPv6]",
  );
});

/**
 * A single non-empty line; any "[malformed: ...]" in it comes from a WireError (messages start
 * with "Invalid "), never from another exception escaping a parser.
 */
function assertLine(line: unknown): void {
  assert.equal(typeof line, "string");
  const s = line as string;
  assert.ok(s.length > 0);
  assert.ok(!s.includes("\n"), s);
  const at = s.indexOf("[malformed: ");
  if (at !== -1) assert.ok(s.startsWith("[malformed: Invalid ", at), s);
}

Deno.test("prettyPrint of random bytes never throws, for both media", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 128 }), fc.boolean(), (bytes, eth) => {
      assertLine(prettyPrint(bytes, eth ? "ethernet" : "ip"));
    }),
    { numRuns: RUNS },
  );
});

Deno.test("prettyPrint of random bytes behind valid headers never throws", () => {
  // Keep the Ethernet and IP headers of real frames and randomise what follows, so the
  // transport and extension-header printers see the random bytes.
  const heads = [
    gold.V4_SYN.subarray(0, gold.ETH_LEN + 20),
    gold.V4_UDP.subarray(0, gold.ETH_LEN + 20),
    gold.V4_ECHO_REQUEST.subarray(0, gold.ETH_LEN + 20),
    gold.V6_SYN.subarray(0, gold.ETH_LEN + 40),
    gold.V6_UDP.subarray(0, gold.ETH_LEN + 40),
    gold.V6_NS.subarray(0, gold.ETH_LEN + 40),
    gold.V6_FRAGMENT_LAST.subarray(0, gold.ETH_LEN + 40),
  ];
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: heads.length - 1 }),
      fc.uint8Array({ maxLength: 96 }),
      fc.integer({ min: 0, max: 255 }),
      (h, tail, next) => {
        const head = heads[h]!;
        const b = new Uint8Array(head.length + tail.length);
        b.set(head);
        b.set(tail, head.length);
        if (b[gold.ETH_LEN]! >>> 4 === 4) {
          b[gold.ETH_LEN + 2] = (20 + tail.length) >>> 8;
          b[gold.ETH_LEN + 3] = (20 + tail.length) & 0xff;
        } else {
          b[gold.ETH_LEN + 4] = tail.length >>> 8;
          b[gold.ETH_LEN + 5] = tail.length & 0xff;
          if (next < 8) b[gold.ETH_LEN + 6] = [0, 43, 44, 60, 58, 6, 17, 59][next]!;
        }
        assertLine(prettyPrint(b, "ethernet"));
        assertLine(prettyPrint(b.subarray(gold.ETH_LEN), "ip"));
      },
    ),
    { numRuns: RUNS },
  );
});
