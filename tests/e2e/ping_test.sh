#!/bin/bash
# ping: echod on a DPDK tap device in a network namespace of the test's own;
# the kernel pings the stack's address. Asserts: 5/5 replies; the
# gratuitous ARP the stack sends at start (RFC 5227 §2.3: sender = target =
# its address) is seen by tcpdump on the kernel side; the kernel's ARP
# request is answered (seen by tcpdump, and echod's arp_requests_in /
# arp_replies_out / icmp_echo_in / icmp_echo_out); the kernel's neighbour
# entry for the stack holds the stack's MAC; echod exits cleanly and its
# tap goes with it.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_enter_netns "$0" "$@"

TAP=e2eping0
STACK_IP=10.81.0.2
HOST_IP=10.81.0.1
LOG=$E2E_WORK/echod.log
PCAP=$E2E_WORK/kernel.pcap

# The "any" device also captures interfaces that appear later, so the
# capture sees the tap from its first frame.
tcpdump -i any -nn -U --immediate-mode -Z root -w "$PCAP" arp or icmp >"$E2E_WORK/tcpdump.log" 2>&1 &
TCPDUMP_PID=$!
e2e_track "$TCPDUMP_PID"
for _ in $(seq 1 50); do
  grep -q 'listening on' "$E2E_WORK/tcpdump.log" && break
  sleep 0.1
done
e2e_check "tcpdump started" grep -q 'listening on' "$E2E_WORK/tcpdump.log"

e2e_start_echod "$TAP" "$STACK_IP" "$HOST_IP" "$LOG"
MAC=$(sed -nE 's/^echod: .* mac ([0-9a-f:]+)\).*/\1/p' "$LOG")
e2e_log "stack MAC $MAC"

e2e_log "ping -c 5 $STACK_IP"
ping -c 5 -i 0.2 -W 2 "$STACK_IP" | tee "$E2E_WORK/ping.log"
e2e_check "5 of 5 echo replies" grep -q '5 packets transmitted, 5 received' "$E2E_WORK/ping.log"
NEIGH=$(ip neigh show "$STACK_IP" dev "$TAP")
e2e_log "kernel neighbour entry: $NEIGH"
e2e_check "the kernel learned the stack's MAC $MAC" grep -q "lladdr $MAC" <<<"$NEIGH"

sleep 1  # let tcpdump write the last frames
e2e_stop "$TCPDUMP_PID"
e2e_stop_echod "$TAP" "$LOG"
grep -E '^(shard|faults)' "$LOG"

ARP=$(tcpdump -nn -r "$PCAP" arp 2>/dev/null)
echo "ARP frames seen by the kernel side:"
echo "$ARP"
e2e_check "gratuitous ARP at start (who-has $STACK_IP tell $STACK_IP)" \
  grep -q "Request who-has $STACK_IP tell $STACK_IP" <<<"$ARP"
e2e_check "kernel's ARP request for $STACK_IP" \
  grep -q "Request who-has $STACK_IP tell $HOST_IP" <<<"$ARP"
e2e_check "stack's ARP reply $STACK_IP is-at $MAC" grep -q "Reply $STACK_IP is-at $MAC" <<<"$ARP"
ICMP=$(tcpdump -nn -r "$PCAP" icmp 2>/dev/null)
e2e_check "5 echo replies on the wire" test "$(grep -c "$STACK_IP > $HOST_IP: ICMP echo reply" <<<"$ICMP")" -eq 5

for key in arp_requests_in arp_replies_out icmp_echo_in icmp_echo_out; do
  eval "$key=$(e2e_counter "$LOG" $key)"
done
e2e_log "echod: arp_requests_in=$arp_requests_in arp_replies_out=$arp_replies_out" \
  "icmp_echo_in=$icmp_echo_in icmp_echo_out=$icmp_echo_out"
e2e_check "echod answered every ARP request it got (>= 1)" \
  test "$arp_requests_in" -ge 1 -a "$arp_replies_out" -eq "$arp_requests_in"
e2e_check "echod saw 5 echo requests and sent 5 replies" \
  test "$icmp_echo_in" -eq 5 -a "$icmp_echo_out" -eq 5
echo "PASS: ping"
