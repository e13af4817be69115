#!/usr/bin/env bash
# Captures the Linux kernel frames of golden_c/kernel_frames.ts (root only). Creates the network
# namespaces smolnet-gold-c1 / smolnet-gold-c2 joined by a veth pair, addresses 192.0.2.64/26 and
# 2001:db8:c::/64 only, writes $WORK/x.pcap and deletes both namespaces on exit. Needs tshark,
# curl, socat, python3, ping and ethtool. Then `tshark -r $WORK/x.pcap -x` (with
# `-o tcp.desegment_tcp_streams:FALSE -o ip.defragment:FALSE -o ipv6.defragment:FALSE`) gives
# the bytes; the frame numbers are in the comments of kernel_frames.ts.
set -u
WORK=${WORK:-/tmp/smolnet-gold-c}
mkdir -p "$WORK/www" && printf 'hello\n' > "$WORK/www/hello.txt"
A=smolnet-gold-c1; B=smolnet-gold-c2
cleanup() {
  [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
  [ -n "${CAP:-}" ] && kill -INT "$CAP" 2>/dev/null && wait "$CAP" 2>/dev/null
  ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null
}
trap cleanup EXIT
ip netns add $A; ip netns add $B
ip link add $A netns $A address 02:00:00:00:c0:01 type veth peer name $B netns $B address 02:00:00:00:c0:02
for n in $A $B; do
  ip -n $n link set lo up
  ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip netns exec $n sysctl -qw net.ipv6.conf.$n.accept_dad=0 2>/dev/null
  ip netns exec $n sysctl -qw net.ipv6.conf.$n.router_solicitations=0 2>/dev/null
done
ip -n $A addr add 192.0.2.65/26 dev $A; ip -n $A addr add 2001:db8:c::1/64 dev $A nodad
ip -n $B addr add 192.0.2.66/26 dev $B; ip -n $B addr add 2001:db8:c::2/64 dev $B nodad
ip -n $A link set $A up; ip -n $B link set $B up
for n in $A $B; do ip netns exec $n ethtool -K $n tx off rx off tso off gso off gro off >/dev/null; done
sleep 2
ip netns exec $A tshark -q -i $A -w $WORK/x.pcap 2>$WORK/tshark.err &
CAP=$!
sleep 3
(cd $WORK/www && exec ip netns exec $B python3 -m http.server 8000 --bind :: ) >$WORK/http.log 2>&1 &
SRV=$!
sleep 1.5
ip netns exec $A curl -s -m 5 --local-port 49152 http://192.0.2.66:8000/hello.txt; sleep 0.5
ip netns exec $A curl -s -m 5 --local-port 49153 "http://[2001:db8:c::2]:8000/hello.txt"; sleep 0.5
ip netns exec $A ping -c 1 -s 56 192.0.2.66 >/dev/null; sleep 0.3
ip netns exec $A ping -6 -c 1 -s 56 2001:db8:c::2 >/dev/null; sleep 0.3
printf 'hi\n' | ip netns exec $A socat - UDP4-SENDTO:192.0.2.66:9999,sourceport=40000; sleep 0.3
printf 'hi\n' | ip netns exec $A socat - UDP6-SENDTO:[2001:db8:c::2]:9999,sourceport=40000; sleep 0.3
ip netns exec $A ping -c 1 -s 2000 192.0.2.66 >/dev/null; sleep 0.3
ip netns exec $A ping -6 -c 1 -s 2000 2001:db8:c::2 >/dev/null; sleep 1
