#!/usr/bin/env bash
# Run as root: creates namespaces smolnet-gold-b1/b2 (veth of the same names), makes the traffic
# listed in kernel_frames.ts, captures it to /tmp/smolnet-gold-b/cap.pcap and deletes the
# namespaces. Then select_kernel_frames.py picks the golden frames out of the capture.
# Produces kernel golden frames for smolnet UDP/ICMPv4/ICMPv6/NDP/MLD tests.
set -euo pipefail
A=smolnet-gold-b1; B=smolnet-gold-b2; D=/tmp/smolnet-gold-b
cleanup() { ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true; }
trap cleanup EXIT
cleanup; mkdir -p $D
ip netns add $A; ip netns add $B
ip link add $A netns $A address 02:00:00:00:b1:01 type veth peer name $B netns $B address 02:00:00:00:b2:02
a() { ip netns exec $A "$@"; }; b() { ip netns exec $B "$@"; }
a sysctl -qw net.ipv6.conf.$A.accept_ra=1 net.ipv6.conf.$A.router_solicitations=1
b sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
a ethtool -K $A tx off >/dev/null; b ethtool -K $B tx off >/dev/null
a ip link set lo up; b ip link set lo up
a ip addr add 198.51.100.1/25 dev $A; b ip addr add 198.51.100.2/25 dev $B
a ip -6 addr add 2001:db8:b::1/64 dev $A; b ip -6 addr add 2001:db8:b::2/64 dev $B
b ip link add smolnet-dum type ifb; b ip link set smolnet-dum mtu 1280 up
b ip route add 198.51.100.128/25 dev smolnet-dum mtu 1000
b ip -6 route add 2001:db8:b::1:0/112 dev smolnet-dum
b ip link set $B up
b tshark -q -i $B -w $D/cap.pcap 2>$D/tshark.err & TS=$!
sleep 2
a ip link set $A up
sleep 4
a ip route add 198.51.100.128/25 via 198.51.100.2
a ip -6 route add 2001:db8:b::1:0/112 via 2001:db8:b::2
a ip route add 198.51.100.100/32 via 198.51.100.2
a ip -6 route add 2001:db8:b::100/128 via 2001:db8:b::2
echo phase ping; a ping -c1 -W1 198.51.100.2 >/dev/null; a ping -6 -c1 -W1 2001:db8:b::2 >/dev/null
echo phase udp
a /usr/bin/python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("198.51.100.1", 40001))
s.sendto(b"hello", ("198.51.100.2", 9))          # odd length, closed port -> ICMP port unreachable
s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s2.bind(("198.51.100.1", 40002))
s2.setsockopt(socket.SOL_SOCKET, 11, 1)          # SO_NO_CHECK: zero UDP checksum over IPv4
s2.sendto(b"smolnet\n", ("198.51.100.2", 9))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.bind(("2001:db8:b::1", 40003))
s6.sendto(b"hello", ("2001:db8:b::2", 9))        # closed port -> ICMPv6 port unreachable
PY
sleep 1.2
echo phase ttl; a ping -c1 -W1 -t1 198.51.100.130 >/dev/null || true
a ping -6 -c1 -W1 -t1 2001:db8:b::1:1 >/dev/null || true
echo phase mtu; a ping -c1 -W1 -M do -s 1200 198.51.100.130 >/dev/null || true
a ping -6 -c1 -W1 -s 1400 2001:db8:b::1:1 >/dev/null || true
echo phase proto
a /usr/bin/python3 - <<'PY'
import socket, time
r4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253); r4.sendto(b"smol", ("198.51.100.2", 0))
r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 253); r6.sendto(b"smol", ("2001:db8:b::2", 0))
time.sleep(1.1)
# IPv4 header with a record-route option whose pointer (2) is below the minimum of 4.
h = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
src = socket.inet_aton("198.51.100.1"); dst = socket.inet_aton("198.51.100.2")
hdr = bytearray([0x46, 0, 0, 28, 0x12, 0x34, 0, 0, 64, 17, 0, 0]) + src + dst + bytes([7, 3, 2, 0])
h.sendto(bytes(hdr) + bytes([0x9c, 0x44, 0, 9]), ("198.51.100.2", 0))
PY
sleep 1.2
echo phase redirect; a ping -c1 -W4 198.51.100.100 >/dev/null || true
a ping -6 -c1 -W4 2001:db8:b::100 >/dev/null || true
sleep 1
echo phase mldv1
a sysctl -qw net.ipv6.conf.$A.force_mld_version=1
a /usr/bin/python3 - <<PY
import socket, struct, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
idx = socket.if_nametoindex("$A")
mreq = socket.inet_pton(socket.AF_INET6, "ff05::1:3") + struct.pack("@I", idx)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq); time.sleep(0.5)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_LEAVE_GROUP, mreq); time.sleep(0.5)
PY
a sysctl -qw net.ipv6.conf.$A.force_mld_version=0
echo phase mldv2 join with sources
a /usr/bin/python3 - <<PY
import socket, struct, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
idx = socket.if_nametoindex("$A")
# MCAST_JOIN_SOURCE_GROUP (46): struct group_source_req { u32 ifindex; pad; sockaddr_storage group; sockaddr_storage source; }
def ss(addr):
    b = struct.pack("=H H I", socket.AF_INET6, 0, 0) + socket.inet_pton(socket.AF_INET6, addr) + struct.pack("=I", 0)
    return b + bytes(128 - len(b))
req = struct.pack("=I I", idx, 0) + ss("ff3e::8000:1") + ss("2001:db8:b::2")
s.setsockopt(socket.IPPROTO_IPV6, 46, req); time.sleep(0.5)
PY
echo phase query
b ip link add smolnet-br type bridge mcast_querier 0 mcast_mld_version 2
b ip link set $B master smolnet-br; b ip link set smolnet-br address 02:00:00:00:b2:03 up
sleep 4
b ip link set smolnet-br type bridge mcast_querier 1
sleep 2
b ip link set smolnet-br type bridge mcast_querier 0 mcast_mld_version 1
sleep 0.5
b ip link set smolnet-br type bridge mcast_querier 1
sleep 3
kill $TS; wait $TS || true
echo done
