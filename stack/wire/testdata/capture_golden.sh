#!/usr/bin/env bash
# How the golden packets in golden_packets.h were captured (Debian 12,
# Linux 6.x, as root). Not run by any test: the bytes are pasted into
# golden_packets.h, and this script is here so that anyone can make new
# captures the same way. Writes lo.pcap, lo2.pcap, ns.pcap and frag.pcap
# into the directory given (default: a new temporary one) and removes every
# namespace and process it created.
#
#   lo.pcap   curl against python3 -m http.server on 127.0.0.1:18080, then
#             ping -c1 127.0.0.1 (TCP handshake, GET, ICMP echo)
#   lo2.pcap  a SYN to a closed port (RST) and a UDP datagram to a closed
#             port (ICMP port unreachable)
#   ns.pcap   two namespaces joined by a veth pair, 10.201.0.1/24 with MAC
#             02:00:00:00:00:01 and 10.201.0.2/24 with 02:00:00:00:00:02:
#             ARP + ping, then 300 kB over TCP while iptables in the
#             receiver drops half of the segments (ACKs with SACK blocks)
#   frag.pcap the same pair with MTU 68 on the sender: ping -s 60 leaves in
#             two fragments
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "run as root" >&2; exit 2; }
out=${1:-$(mktemp -d /tmp/locus-capture.XXXXXX)}
mkdir -p "$out"
cd "$out"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del lwA 2>/dev/null || true
  ip netns del lwB 2>/dev/null || true
}
trap cleanup EXIT

capture() {  # capture NETNS|- IFACE FILE FILTER; sets $capture_pid
  local ns=$1 iface=$2 file=$3 filter=$4
  if [[ $ns == - ]]; then
    tcpdump -i "$iface" -U -s 0 -w "$file" "$filter" 2>/dev/null &
  else
    ip netns exec "$ns" tcpdump -i "$iface" -U -s 0 -w "$file" "$filter" 2>/dev/null &
  fi
  capture_pid=$!
  pids+=("$capture_pid")
  sleep 1.5
}
stop() { sleep 1; kill "$1"; wait "$1" 2>/dev/null || true; }

# Loopback.
python3 -m http.server 18080 --bind 127.0.0.1 >/dev/null 2>&1 &
pids+=($!)
sleep 1
capture - lo lo.pcap 'tcp port 18080 or icmp'
curl -s -o /dev/null http://127.0.0.1:18080/
ping -c1 -p 4c6f637573 127.0.0.1 >/dev/null
stop "$capture_pid"

capture - lo lo2.pcap 'tcp port 18099 or icmp'
nc -w1 127.0.0.1 18099 </dev/null || true
echo hi | nc -u -w1 127.0.0.1 18098 || true
stop "$capture_pid"

# Two namespaces.
namespaces() {  # namespaces MTU_OF_A
  ip netns del lwA 2>/dev/null || true
  ip netns del lwB 2>/dev/null || true
  ip netns add lwA
  ip netns add lwB
  ip link add lwa0 type veth peer name lwb0
  ip link set lwa0 netns lwA
  ip link set lwb0 netns lwB
  ip -n lwA link set lwa0 address 02:00:00:00:00:01 mtu "$1"
  ip -n lwB link set lwb0 address 02:00:00:00:00:02
  ip -n lwA addr add 10.201.0.1/24 dev lwa0
  ip -n lwB addr add 10.201.0.2/24 dev lwb0
  ip -n lwA link set lwa0 up
  ip -n lwB link set lwb0 up
}

namespaces 1500
ip netns exec lwB iptables -A INPUT -p tcp --dport 9000 -m statistic --mode random \
  --probability 0.5 -j DROP
capture lwA lwa0 ns.pcap 'arp or icmp or tcp'
ip netns exec lwA ping -c1 -W2 10.201.0.2 >/dev/null
ip netns exec lwB timeout 25 nc -l 10.201.0.2 9000 >/dev/null &
pids+=($!)
sleep 0.5
head -c 300000 /dev/urandom | ip netns exec lwA timeout 20 nc -N 10.201.0.2 9000 || true
stop "$capture_pid"

namespaces 68
capture lwA lwa0 frag.pcap 'icmp or (ip[6:2] & 0x3fff != 0)'
ip netns exec lwA ping -c1 -W2 -s 60 10.201.0.2 >/dev/null || true
stop "$capture_pid"

echo "captures in $out"
