#!/bin/bash
# SYN flood: a raw-socket sender in the test's namespace floods echod's echo
# port with SYNs from random addresses of 10.84.0.128/25 (inside the
# namespace's subnet; nobody answers ARP for them) and random ports. While
# it runs, legitimate Linux clients connect, send, read the echo and close.
# Asserts:
#   - every legitimate connection during the flood succeeds (peer.py short
#     and nc);
#   - the listener's SYN queue overflowed and the stack answered with SYN
#     cookies (syn_cookies_sent > 0) and legitimate clients completed
#     handshakes through them (syn_cookies_valid > 0);
#   - the half-open state stayed bounded: request_socks_current at exit <=
#     the listener's syn_backlog (1024 per listener);
#   - echod's resident memory grew by less than RSS_BOUND_KB during the flood.
#
#   syn_flood_test.sh [--rate=SYNS_PER_S] [--seconds=N]   (defaults 4000, 12)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_enter_netns "$0" "$@"

RATE=4000
SECONDS_=12
for arg in "$@"; do
  case $arg in
    --rate=*) RATE=${arg#--rate=} ;;
    --seconds=*) SECONDS_=${arg#--seconds=} ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done
RSS_BOUND_KB=$((32 * 1024))
SYN_BACKLOG=1024  # TcpConfig::syn_backlog (stack/tcp/tcp_types.h)

TAP=e2esyn0
STACK_IP=10.84.0.2
HOST_IP=10.84.0.1
LOG=$E2E_WORK/echod.log
e2e_start_echod "$TAP" "$STACK_IP" "$HOST_IP" "$LOG"
ping -c 1 -W 2 "$STACK_IP" >/dev/null
"$PY" "$PEER" short "$STACK_IP" 7 --count=20 | tee "$E2E_WORK/before.log"
e2e_check "20 connections before the flood" grep -q '^result: ok=1' "$E2E_WORK/before.log"
RSS_BEFORE=$(e2e_rss_kb "$ECHOD_PID")

e2e_log "flooding $STACK_IP:7 with $RATE SYN/s for $SECONDS_ s from 10.84.0.128/25"
"$PY" "$PEER" synflood "$STACK_IP" 7 --src-net=10.84.0.128/25 --rate="$RATE" \
  --seconds="$SECONDS_" >"$E2E_WORK/flood.log" 2>&1 &
FLOOD_PID=$!
e2e_track "$FLOOD_PID"
# Let the SYN queue fill (syn_backlog half-open connections) before the
# legitimate clients start.
sleep $((SECONDS_ / 3))
"$PY" "$PEER" short "$STACK_IP" 7 --count=100 --timeout=$((SECONDS_ + 30)) \
  | tee "$E2E_WORK/during.log"
NC_OUT=$(echo "hello through the flood" | timeout 10 nc -N -w 5 "$STACK_IP" 7)
FLOOD_RUNNING=0
kill -0 "$FLOOD_PID" 2>/dev/null && FLOOD_RUNNING=1
RSS_DURING=$(e2e_rss_kb "$ECHOD_PID")
e2e_wait_pid "$FLOOD_PID" $((SECONDS_ + 30))
cat "$E2E_WORK/flood.log"
e2e_check "the flood was still running when the legitimate clients finished" \
  test "$FLOOD_RUNNING" -eq 1
e2e_check "100 connections during the flood, none failed" grep -q '^result: ok=1' "$E2E_WORK/during.log"
e2e_check "nc echo during the flood" test "$NC_OUT" = "hello through the flood"
SYNS=$(sed -nE 's/.*syns_sent=([0-9]+).*/\1/p' "$E2E_WORK/flood.log")
e2e_check "flood sent >= $((RATE * SECONDS_ / 2)) SYNs ($SYNS)" test "${SYNS:-0}" -ge $((RATE * SECONDS_ / 2))
RSS_AFTER=$(e2e_rss_kb "$ECHOD_PID")
"$PY" "$PEER" short "$STACK_IP" 7 --count=20 | tee "$E2E_WORK/after.log"
e2e_check "20 connections after the flood" grep -q '^result: ok=1' "$E2E_WORK/after.log"

e2e_stop_echod "$TAP" "$LOG"
grep -E '^(shard [0-9]+ counters|  drop|  tcp drop)' "$LOG"
SENT=$(e2e_counter "$LOG" syn_cookies_sent)
VALID=$(e2e_counter "$LOG" syn_cookies_valid)
INVALID=$(e2e_counter "$LOG" syn_cookies_invalid)
REQ=$(e2e_counter "$LOG" request_socks_current)
ARP_OUT=$(e2e_counter "$LOG" arp_requests_out)
GROWTH=$((RSS_AFTER - RSS_BEFORE))
echo
echo "=== SYN flood: $SYNS SYNs at $RATE/s ==="
echo "echod RSS before ${RSS_BEFORE} KiB, during ${RSS_DURING} KiB, after ${RSS_AFTER} KiB (growth ${GROWTH} KiB, bound ${RSS_BOUND_KB})"
echo "syn_cookies_sent=$SENT syn_cookies_valid=$VALID syn_cookies_invalid=$INVALID request_socks_current=$REQ arp_requests_out=$ARP_OUT"
echo "legitimate during the flood: $(grep '^result:' "$E2E_WORK/during.log")"
e2e_check "SYN cookies sent (syn queue overflowed)" test "$SENT" -gt 0
e2e_check "legitimate handshakes completed by cookie (syn_cookies_valid > 0)" test "$VALID" -gt 0
e2e_check "half-open connections bounded: request_socks_current $REQ <= $SYN_BACKLOG" \
  test "$REQ" -le "$SYN_BACKLOG"
e2e_check "RSS growth ${GROWTH} KiB < ${RSS_BOUND_KB} KiB" test "$GROWTH" -lt "$RSS_BOUND_KB"
echo "PASS: syn flood"
