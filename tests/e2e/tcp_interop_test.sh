#!/bin/bash
# TCP interop with Linux, under faults: 2% loss in each direction on the
# kernel side (iptables statistic DROP on the tap, INPUT and OUTPUT), and 5%
# reordering + 5% duplication in each direction by echod's own fault
# injector (--fault_reorder, --fault_duplicate).
#
#   1. Linux client -> echod echo server: BYTES sent and BYTES read back on
#      one connection, SHA-256 of both equal (peer.py stream).
#   2. SHORT connections one after another from Linux to echod (connect,
#      small request, echo, close), none may fail.
#   3. echod --mode=client -> Linux echo server (peer.py server): BYTES each
#      way; echod checks every byte that comes back, the server counts them.
#
# Also asserts that the faults really happened (iptables drop counters, the
# injector's duplicate/reorder counts, retransmissions on both sides) and
# prints throughput, time and the TCP counters of both stacks.
#
#   tcp_interop_test.sh [--bytes=N] [--short=N]   (defaults 8 MiB, 1000)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_enter_netns "$0" "$@"

BYTES=$((8 << 20))
SHORT=1000
for arg in "$@"; do
  case $arg in
    --bytes=*) BYTES=${arg#--bytes=} ;;
    --short=*) SHORT=${arg#--short=} ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done
# Generous: 1 Mbit/s would still pass. Every wait below is bounded by these.
STREAM_TIMEOUT=$((BYTES * 8 / 1000000 + 60))
FAULTS=(--fault_reorder=0.05 --fault_duplicate=0.05 --fault_seed=7)

kernel_loss() {  # 2% of frames dropped in each direction on the tap
  local tap=$1
  iptables -A INPUT -i "$tap" -m statistic --mode random --probability 0.02 -j DROP
  iptables -A OUTPUT -o "$tap" -m statistic --mode random --probability 0.02 -j DROP
}
kernel_drops() {  # frames iptables dropped, both directions
  iptables -L -v -x -n | awk '/DROP.*statistic/ {s += $1} END {print s + 0}'
}
kernel_tcp() {  # Linux's own TCP counters in this namespace
  nstat -az TcpRetransSegs TcpExtTCPTimeouts TcpExtTCPSackRecovery TcpExtTCPDSACKRecv \
    TcpExtTCPDSACKOfoRecv TcpExtTCPLossProbes 2>/dev/null | awk 'NR > 1 {printf "%s=%s ", $1, $2}'
}
report_echod() {
  local log=$1
  grep -E '^(shard [0-9]+ counters|faults|  drop|  tcp drop)' "$log"
}

e2e_log "=== 1. Linux client -> echod echo server, $BYTES bytes each way ==="
TAP=e2etcp0
LOG=$E2E_WORK/echod-server.log
e2e_start_echod "$TAP" 10.82.0.2 10.82.0.1 "$LOG" "${FAULTS[@]}"
kernel_loss "$TAP"
nstat -n  # reset nstat's history so later reads are deltas
ping -c 1 -W 2 10.82.0.2 >/dev/null || ping -c 1 -W 2 10.82.0.2 >/dev/null
"$PY" "$PEER" stream 10.82.0.2 7 --bytes="$BYTES" --timeout="$STREAM_TIMEOUT" \
  | tee "$E2E_WORK/stream.log"
e2e_check "stream byte-exact both ways (SHA-256 equal, $BYTES bytes)" \
  grep -q '^result: ok=1' "$E2E_WORK/stream.log"
STREAM_RESULT=$(grep '^result:' "$E2E_WORK/stream.log")
STREAM_KERNEL=$(kernel_tcp)
e2e_log "Linux TCP: $STREAM_KERNEL"
DROPS_STREAM=$(kernel_drops)
e2e_stop_echod "$TAP" "$LOG"
report_echod "$LOG"
e2e_check "iptables dropped frames (2% loss happened: $DROPS_STREAM)" test "$DROPS_STREAM" -gt 0
DUPS=$(grep '^faults' "$LOG" | grep -o 'duplicated=[0-9]*' | cut -d= -f2 | awk '{s += $1} END {print s + 0}')
REORD=$(grep '^faults' "$LOG" | grep -o 'reordered=[0-9]*' | cut -d= -f2 | awk '{s += $1} END {print s + 0}')
e2e_check "echod duplicated ($DUPS) and reordered ($REORD) frames" test "$DUPS" -gt 0 -a "$REORD" -gt 0
e2e_check "echod retransmitted (recovered from the loss)" test "$(e2e_counter "$LOG" retransmits)" -gt 0
SERVER_RTO=$(e2e_counter "$LOG" rto_timeouts)
SERVER_REXMIT=$(e2e_counter "$LOG" retransmits)

e2e_log "=== 2. $SHORT short connections in a row, Linux -> echod ==="
TAP=e2etcp2
LOG=$E2E_WORK/echod-short.log
iptables -F
e2e_start_echod "$TAP" 10.89.0.2 10.89.0.1 "$LOG" "${FAULTS[@]}"
kernel_loss "$TAP"
ping -c 1 -W 2 10.89.0.2 >/dev/null || ping -c 1 -W 2 10.89.0.2 >/dev/null
"$PY" "$PEER" short 10.89.0.2 7 --count="$SHORT" --timeout=$((SHORT / 5 + 60)) \
  | tee "$E2E_WORK/short.log"
e2e_check "$SHORT short connections, none failed" grep -q '^result: ok=1' "$E2E_WORK/short.log"
SHORT_RESULT=$(grep '^result:' "$E2E_WORK/short.log")
DROPS_1=$(kernel_drops)
# The client is done when it has read its last echo, but under loss echod
# may still be in LAST_ACK retransmitting a FIN whose ACK was dropped
# (RTO backoff 1 + 2 + 4 s). Give those retransmissions time to finish
# before counting the connections echod still holds.
sleep 8
e2e_stop_echod "$TAP" "$LOG"
report_echod "$LOG"
e2e_check "iptables dropped frames during the short connections ($DROPS_1)" test "$DROPS_1" -gt 0
e2e_check "echod accepted every connection ($SHORT)" \
  test "$(e2e_counter "$LOG" passive_opens)" -eq "$SHORT"
e2e_check "echod holds no connection at exit" test "$(e2e_counter "$LOG" connections_current)" -eq 0
SHORT_COUNTERS="echod retransmits=$(e2e_counter "$LOG" retransmits) rto_timeouts=$(e2e_counter "$LOG" rto_timeouts) resets_out=$(e2e_counter "$LOG" resets_out)"

e2e_log "=== 3. echod client -> Linux echo server, $BYTES bytes each way ==="
iptables -F
TAP=e2etcp1
LOG=$E2E_WORK/echod-client.log
# The server listens before its address exists (the tap appears only when
# echod starts, and echod connects at once); the stack's first SYN may find
# no ARP answer yet and is retransmitted.
sysctl -qw net.ipv4.ip_nonlocal_bind=1
"$PY" "$PEER" server --bind=10.83.0.1 --port=7007 --run_s=$((STREAM_TIMEOUT + 60)) \
  >"$E2E_WORK/server.log" 2>&1 &
SERVER_PID=$!
e2e_track "$SERVER_PID"
nstat -n
e2e_start_echod "$TAP" 10.83.0.2 10.83.0.1 "$LOG" "${FAULTS[@]}" --mode=client \
  --connect=10.83.0.1:7007 --connections=1 --bytes="$BYTES" --timeout_s="$STREAM_TIMEOUT"
kernel_loss "$TAP"
e2e_wait_pid "$ECHOD_PID" $((STREAM_TIMEOUT + 30))
CLIENT_RC=$?
CLIENT_KERNEL=$(kernel_tcp)
report_echod "$LOG"
grep '^echod client:' "$LOG"
e2e_check "echod client exited 0 (all bytes back, no mismatch)" test "$CLIENT_RC" -eq 0
e2e_check "echod verified $BYTES bytes" grep -q "0 failed, 0 mismatches, $BYTES bytes sent, $BYTES verified" "$LOG"
e2e_check "tap $TAP removed when echod exited" bash -c "! ip link show $TAP >/dev/null 2>&1"
kill -TERM "$SERVER_PID"
e2e_wait_pid "$SERVER_PID" 10
grep '^result:' "$E2E_WORK/server.log"
e2e_check "Linux server echoed exactly $BYTES bytes on 1 connection" \
  grep -q "accepted=1 closed=1 errors=0 bytes_echoed=$BYTES " "$E2E_WORK/server.log"
e2e_log "Linux TCP: $CLIENT_KERNEL"

echo
echo "=== summary (2% loss each way by iptables, 5% reorder + 5% duplicate by echod) ==="
echo "Linux -> echod stream:   $STREAM_RESULT"
echo "                         echod retransmits=$SERVER_REXMIT rto_timeouts=$SERVER_RTO; Linux $STREAM_KERNEL"
echo "Linux -> echod short:    $SHORT_RESULT"
echo "                         $SHORT_COUNTERS"
echo "echod -> Linux stream:   $(grep '^echod client:' "$LOG")"
echo "                         echod retransmits=$(e2e_counter "$LOG" retransmits) rto_timeouts=$(e2e_counter "$LOG" rto_timeouts); Linux $CLIENT_KERNEL"
echo "PASS: tcp interop"
