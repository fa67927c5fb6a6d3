#!/bin/bash
# Two shards on a two-queue tap (echod --lcores=0-1 --steering=port_hash).
# The tap has no RSS: Linux's tun driver picks the queue (a flow table of
# the queue each flow was last sent from, else a symmetric hash), and the
# stack's software steering sends every frame to the shard that owns it.
#
#   1. CONNS concurrent Linux connections to echod's echo server, each
#      echoing 16 KiB. Asserts: all complete; both shards accepted some
#      (passive flows are spread by the stack's own hash); per shard
#      tcp_frames == local + redirect out; what one shard redirected out the
#      other received (out(0) == in(1), out(1) == in(0)); no redirect ring
#      overflow (ring full == 0); no active flows redirected.
#   2. echod --mode=client: BACKEND connections (50 at once) from shard 0 to
#      a Linux echo server. Asserts: all complete and are verified byte for
#      byte; all opened on shard 0 and none on shard 1; the same steering
#      invariants; and at most one redirected reply per active connection
#      (redirects_active <= BACKEND). Not 0: see the comment at that check
#      (Linux's tun learns a flow's queue only after answering its SYN).
#
#   multicore_test.sh [--conns=N] [--backend=N]   (defaults 200, 200)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
e2e_enter_netns "$0" "$@"

CONNS=200
BACKEND=200
for arg in "$@"; do
  case $arg in
    --conns=*) CONNS=${arg#--conns=} ;;
    --backend=*) BACKEND=${arg#--backend=} ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done

steering_report() {  # LOG
  local log=$1 s
  for s in 0 1; do
    echo "shard $s: tcp $(e2e_steering "$log" $s tcp) local $(e2e_steering "$log" $s local)" \
      "out $(e2e_steering "$log" $s out) (active $(e2e_steering "$log" $s active))" \
      "in $(e2e_steering "$log" $s in) ring_full $(e2e_steering "$log" $s full)" \
      "arp_clones $(e2e_steering "$log" $s clones)" \
      "| active_opens $(e2e_shard_counter "$log" $s active_opens)" \
      "passive_opens $(e2e_shard_counter "$log" $s passive_opens)" \
      "retransmits $(e2e_shard_counter "$log" $s retransmits)"
  done
}
check_steering_invariants() {  # LOG MAX_ACTIVE_REDIRECTS
  local log=$1 max_active=$2 s
  for s in 0 1; do
    local tcp local out
    tcp=$(e2e_steering "$log" $s tcp)
    local=$(e2e_steering "$log" $s local)
    out=$(e2e_steering "$log" $s out)
    e2e_check "shard $s: tcp_frames $tcp == local $local + redirect out $out" \
      test "$tcp" -eq $((local + out))
    e2e_check "shard $s: no redirect dropped for a full ring" test "$(e2e_steering "$log" $s full)" -eq 0
  done
  local active=$(($(e2e_steering "$log" 0 active) + $(e2e_steering "$log" 1 active)))
  e2e_check "replies on active flows redirected: $active <= $max_active" test "$active" -le "$max_active"
  e2e_check "redirected out of shard 0 == received by shard 1" \
    test "$(e2e_steering "$log" 0 out)" -eq "$(e2e_steering "$log" 1 in)"
  e2e_check "redirected out of shard 1 == received by shard 0" \
    test "$(e2e_steering "$log" 1 out)" -eq "$(e2e_steering "$log" 0 in)"
}

e2e_log "=== 1. $CONNS concurrent Linux connections -> echod on 2 shards ==="
TAP=e2emq0
LOG=$E2E_WORK/echod-server.log
e2e_start_echod "$TAP" 10.85.0.2 10.85.0.1 "$LOG" --lcores=0-1 --steering=port_hash
e2e_check "echod runs 2 shards with port_hash steering" grep -q '2 shard(s), steering port_hash' "$LOG"
QUEUES=$(ls /sys/class/net/"$TAP"/queues 2>/dev/null | grep -c '^rx-' || true)
e2e_log "kernel side of $TAP: $(ethtool -l "$TAP" 2>/dev/null | tr -s ' \n' ' ' || echo "$QUEUES rx queues")"
ping -c 1 -W 2 10.85.0.2 >/dev/null
"$PY" "$PEER" concurrent 10.85.0.2 7 --count="$CONNS" --bytes=16384 --timeout=120 \
  | tee "$E2E_WORK/concurrent.log"
e2e_check "$CONNS concurrent connections all echoed" grep -q '^result: ok=1' "$E2E_WORK/concurrent.log"
e2e_stop_echod "$TAP" "$LOG"
steering_report "$LOG"
check_steering_invariants "$LOG" 0  # no active flows here
P0=$(e2e_shard_counter "$LOG" 0 passive_opens)
P1=$(e2e_shard_counter "$LOG" 1 passive_opens)
e2e_check "both shards accepted connections ($P0 + $P1)" test "$P0" -gt 0 -a "$P1" -gt 0
e2e_check "accepted $CONNS in all" test $((P0 + P1)) -eq "$CONNS"
REDIRECTS=$(($(e2e_steering "$LOG" 0 out) + $(e2e_steering "$LOG" 1 out)))
FRAMES=$(($(e2e_steering "$LOG" 0 tcp) + $(e2e_steering "$LOG" 1 tcp)))
# The tun driver hashes a new flow's SYN to a queue the stack's hash need not
# agree with (so some redirects must happen); it then learns the queue of
# the owner's SYN-ACK and delivers the rest of the flow there, so redirects
# stay a few per connection, far below the frame count.
e2e_check "software steering redirected some SYNs ($REDIRECTS of $FRAMES frames)" \
  test "$REDIRECTS" -gt 0
e2e_check "redirects ($REDIRECTS) <= 3 per connection (tun learned each flow's queue)" \
  test "$REDIRECTS" -le $((3 * CONNS))
SERVER_SUMMARY="$(grep '^result:' "$E2E_WORK/concurrent.log"); redirected $REDIRECTS of $FRAMES TCP frames"

e2e_log "=== 2. echod client on 2 shards: $BACKEND connections to a Linux echo server ==="
TAP=e2emq1
LOG=$E2E_WORK/echod-client.log
sysctl -qw net.ipv4.ip_nonlocal_bind=1  # the server listens before the tap exists
"$PY" "$PEER" server --bind=10.86.0.1 --port=7007 --run_s=180 >"$E2E_WORK/server.log" 2>&1 &
SERVER_PID=$!
e2e_track "$SERVER_PID"
e2e_start_echod "$TAP" 10.86.0.2 10.86.0.1 "$LOG" --lcores=0-1 --steering=port_hash \
  --mode=client --connect=10.86.0.1:7007 --connections=50 --rounds=$((BACKEND / 50)) \
  --bytes=65536 --timeout_s=120
e2e_wait_pid "$ECHOD_PID" 150
CLIENT_RC=$?
kill -TERM "$SERVER_PID"
e2e_wait_pid "$SERVER_PID" 10
grep '^echod client:' "$LOG"
grep '^result:' "$E2E_WORK/server.log"
steering_report "$LOG"
TOTAL=$(((BACKEND / 50) * 50))
e2e_check "echod client exited 0" test "$CLIENT_RC" -eq 0
e2e_check "$TOTAL backend connections completed and verified" \
  grep -q "^echod client: $TOTAL completed, 0 failed, 0 mismatches" "$LOG"
e2e_check "Linux server accepted and closed $TOTAL" grep -q "accepted=$TOTAL closed=$TOTAL errors=0" "$E2E_WORK/server.log"
e2e_check "all $TOTAL opened on shard 0" test "$(e2e_shard_counter "$LOG" 0 active_opens)" -eq "$TOTAL"
e2e_check "none opened on shard 1" test "$(e2e_shard_counter "$LOG" 1 active_opens)" -eq 0
# At most one redirect per active connection: its SYN-ACK. Linux's tun
# driver records which queue a flow was sent from only after it has
# processed the written frame (tun_get_user: the frame goes up the kernel
# stack, then tun_flow_update), and the kernel answers our SYN within that
# write, before the flow is known: the SYN-ACK goes to hash % 2, the wrong
# shard half the time. Every later reply finds the flow and comes back to
# shard 0's queue. Measured here: about half the connections, one frame
# each. (The port_hash mode makes that redirect correct, not avoidable.)
check_steering_invariants "$LOG" "$TOTAL"
ACTIVE=$(($(e2e_steering "$LOG" 0 active) + $(e2e_steering "$LOG" 1 active)))
FRAMES=$(($(e2e_steering "$LOG" 0 tcp) + $(e2e_steering "$LOG" 1 tcp)))
e2e_check "tap $TAP removed when echod exited" bash -c "! ip link show $TAP >/dev/null 2>&1"

echo
echo "=== summary ==="
echo "Linux -> echod (2 shards): $SERVER_SUMMARY"
echo "echod (2 shards) -> Linux: $(grep '^echod client:' "$LOG")"
echo "                           replies on active flows redirected: $ACTIVE of $FRAMES TCP frames ($TOTAL connections)"
steering_report "$LOG"
echo "PASS: multicore"
