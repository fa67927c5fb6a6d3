#!/bin/bash
# echod --pcap: the capture file the stack writes (every frame it sends and
# receives) is read by tcpdump and holds a whole TCP exchange with Linux:
# the three-way handshake (SYN, SYN-ACK, ACK) in order with matching
# sequence numbers, the echoed payload, and both FINs; plus the ARP
# exchange and the ping.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_enter_netns "$0" "$@"

TAP=e2epcap0
STACK_IP=10.87.0.2
HOST_IP=10.87.0.1
LOG=$E2E_WORK/echod.log
PCAP=$E2E_WORK/echod.pcap
e2e_start_echod "$TAP" "$STACK_IP" "$HOST_IP" "$LOG" --pcap="$PCAP"
ping -c 1 -W 2 "$STACK_IP" >/dev/null
OUT=$(echo "captured by the stack" | timeout 10 nc -N -w 5 -p 40123 "$STACK_IP" 7)
e2e_check "echo through the stack" test "$OUT" = "captured by the stack"
sleep 0.5  # the stack's final ACK
e2e_stop_echod "$TAP" "$LOG"

e2e_check "pcap file written" test -s "$PCAP"
e2e_log "$(file "$PCAP" 2>/dev/null || true)"
DUMP=$(tcpdump -nn -S -r "$PCAP" 2>"$E2E_WORK/tcpdump-read.log")
e2e_check "tcpdump reads the file" test $? -eq 0
echo "tcpdump -nn -S -r echod.pcap:"
echo "$DUMP"
FLOW=$(grep "$HOST_IP.40123 > $STACK_IP.7\|$STACK_IP.7 > $HOST_IP.40123" <<<"$DUMP")
SYN=$(grep -m1 "$HOST_IP.40123 > $STACK_IP.7: Flags \[S\]," <<<"$FLOW")
SYNACK=$(grep -m1 "$STACK_IP.7 > $HOST_IP.40123: Flags \[S.\]," <<<"$FLOW")
e2e_check "SYN from Linux captured" test -n "$SYN"
e2e_check "SYN-ACK from the stack captured" test -n "$SYNACK"
ISN_C=$(sed -nE 's/.* seq ([0-9]+),.*/\1/p' <<<"$SYN")
ISN_S=$(sed -nE 's/.* seq ([0-9]+),.*/\1/p' <<<"$SYNACK")
ACK_S=$(sed -nE 's/.* ack ([0-9]+),.*/\1/p' <<<"$SYNACK")
e2e_check "SYN-ACK acknowledges the SYN (ack $ACK_S == $ISN_C + 1)" test "$ACK_S" -eq $((ISN_C + 1))
e2e_check "handshake ACK from Linux acknowledges the SYN-ACK (ack $((ISN_S + 1)))" \
  grep -q "$HOST_IP.40123 > $STACK_IP.7: Flags \[.\], ack $((ISN_S + 1))," <<<"$FLOW"
ORDER=$(grep -n "Flags \[S\]\|Flags \[S.\]\|Flags \[.\], ack $((ISN_S + 1))," <<<"$FLOW" | head -3 | cut -d: -f1 | tr '\n' ' ')
e2e_check "SYN, SYN-ACK, ACK in that order (lines $ORDER)" test "$ORDER" = "1 2 3 "
e2e_check "payload both ways (22 bytes)" \
  test "$(grep -c 'length 22' <<<"$FLOW")" -ge 2
e2e_check "FIN from each side" \
  test "$(grep -c "$HOST_IP.40123 > $STACK_IP.7: Flags \[F" <<<"$FLOW")" -ge 1 -a \
  "$(grep -c "$STACK_IP.7 > $HOST_IP.40123: Flags \[F" <<<"$FLOW")" -ge 1
e2e_check "gratuitous ARP, ARP exchange and ICMP echo in the file" \
  test "$(grep -c "Request who-has $STACK_IP tell $STACK_IP\|Reply $STACK_IP is-at\|ICMP echo reply" <<<"$DUMP")" -ge 3
FRAMES=$(wc -l <<<"$DUMP")
e2e_check "frame count in the file ($FRAMES) == echod's rx + tx frames" \
  test "$FRAMES" -eq $(($(e2e_counter "$LOG" rx_frames) + $(e2e_counter "$LOG" tx_frames)))
echo "PASS: pcap"
