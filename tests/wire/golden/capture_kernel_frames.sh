#!/usr/bin/env bash
# Reproduces the capture behind kernel_frames.ts (needs root, iproute2, tshark, python3, ping).
# Two namespaces joined by a veth pair; traffic never leaves them. Prints the tshark summary, then
# one hex frame a line numbered as in `tshark -r`. Startup frames (MLD, DAD), identifications and
# checksums vary from run to run. Not run by the test suite.
set -euo pipefail
A=smolnet-gold-a1
B=smolnet-gold-a2
OUT=$(mktemp -d)
cleanup() {
  [ -n "${TSHARK_PID:-}" ] && kill "$TSHARK_PID" 2>/dev/null || true
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$A"
ip netns add "$B"
ip link add sga1 netns "$A" type veth peer name sga2 netns "$B"
ip -n "$A" link set sga1 address 02:00:00:00:a1:01
ip -n "$B" link set sga2 address 02:00:00:00:a2:01
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" addr add 192.0.2.1/25 dev sga1
ip -n "$B" addr add 192.0.2.2/25 dev sga2
ip -n "$A" addr add 2001:db8::1/64 dev sga1
ip -n "$B" addr add 2001:db8::2/64 dev sga2
ip -n "$B" link set sga2 up
ip netns exec "$B" tshark -i sga2 -w "$OUT/cap.pcapng" >/dev/null 2>&1 &
TSHARK_PID=$!
sleep 3
ip -n "$A" link set sga1 up # MLD reports, DAD solicitations, router solicitations
sleep 5
ip netns exec "$A" ping -c 1 192.0.2.2 >/dev/null          # ARP, ICMP echo
ip netns exec "$A" ping -6 -c 1 2001:db8::2 >/dev/null     # NDP, ICMPv6 echo
sleep 15 # neighbour reachability probes
ip netns exec "$A" python3 - <<'PY'
import socket
# Hop-by-Hop (Router Alert 0 + PadN) and Destination Options (unknown type 0x1e, 4 bytes).
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS, bytes([0, 0, 5, 2, 0, 0, 1, 0]))
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS,
             bytes([0, 0, 0x1e, 4, 0xde, 0xad, 0xbe, 0xef]))
s.sendto(b"smolnet-hbh-dst", ("2001:db8::2", 9))
s.close()
# Segment Routing header (type 4), segments left 0, one segment.
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
seg = socket.inet_pton(socket.AF_INET6, "2001:db8::2")
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RTHDR, bytes([0, 2, 4, 0, 0, 0, 0, 0]) + seg)
s.sendto(b"smolnet-srh", ("2001:db8::2", 9))
s.close()
# IPv4 Record Route option with room for one address.
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes([7, 7, 4, 0, 0, 0, 0, 0]))
s.sendto(b"smolnet-ipopt", ("192.0.2.2", 9))
s.close()
PY
sleep 1
ip netns exec "$A" ping -c 1 -s 2000 192.0.2.2 >/dev/null  # IPv4 fragments at MTU 1500
ip -n "$A" link set sga1 mtu 1280
ip -n "$B" link set sga2 mtu 1280
ip netns exec "$A" ping -6 -c 1 -s 2000 2001:db8::2 >/dev/null # IPv6 fragments at MTU 1280
sleep 2
kill "$TSHARK_PID"
wait "$TSHARK_PID" 2>/dev/null || true
TSHARK_PID=
tshark -r "$OUT/cap.pcapng" 2>/dev/null
editcap -F pcap "$OUT/cap.pcapng" "$OUT/cap.pcap"
python3 - "$OUT/cap.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
o, i = 24, 1
while o < len(d):
    _, _, incl, _ = struct.unpack("<IIII", d[o:o + 16])
    print(i, d[o + 16:o + 16 + incl].hex())
    o += 16 + incl
    i += 1
PY
rm -rf "$OUT"
