# Shared by the end-to-end tests in tests/e2e (sourced, not run).
#
# Every test runs in a network namespace of its own: e2e_enter_netns
# re-executes the test script under `unshare --net`, so the DPDK tap
# device that echod creates, its kernel-side address, iptables rules and
# every socket exist only there and vanish with the test's processes. The
# root namespace is never touched. Processes the test starts are recorded
# by PID and stopped on every exit path (EXIT trap); nothing is killed by
# name.
#
# Needs root, /dev/net/tun and unshare(CLONE_NEWNET); without them the test
# fails with a clear message (scripts/test does not run tests tagged "tap"
# where these are missing, so they are never counted as passed).

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
PY=/usr/bin/python3

E2E_PIDS=()
E2E_WORK=""
E2E_FAILED=0

e2e_log() { echo "[$(date +%H:%M:%S)] $*"; }

e2e_fail() {
  echo "FAIL: $*" >&2
  E2E_FAILED=1
}

# Stops the test unless the check holds: e2e_check "what" test-args...
e2e_check() {
  local what=$1
  shift
  if "$@"; then
    echo "  ok: $what"
  else
    e2e_fail "$what"
    exit 1
  fi
}

# e2e_enter_netns "$0" "$@": call first. Re-executes the script in a new
# network namespace (only once), then sets up loopback and silences IPv6 so
# that the kernel sends no router solicitations or MLD reports at the stack.
e2e_enter_netns() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "e2e: needs root (tests tagged 'tap'); scripts/test does not run these without it" >&2
    exit 1
  fi
  if [[ ! -c /dev/net/tun ]]; then
    echo "e2e: /dev/net/tun is missing; the DPDK tap device needs it" >&2
    exit 1
  fi
  if [[ -z "${LOCUS_E2E_NETNS:-}" ]]; then
    export LOCUS_E2E_NETNS=1
    local script=$1
    shift
    exec unshare --net -- /bin/bash "$script" "$@"
  fi
  ip link set lo up
  sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  E2E_WORK=$(mktemp -d /tmp/locus-e2e.XXXXXX)
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM
  # The test runs from its runfiles directory; echod and the helpers are there.
  ECHOD=${ECHOD:-$PWD/stack/echod/echod}
  PEER=${PEER:-$PWD/tests/e2e/peer.py}
  [[ -x "$ECHOD" ]] || { echo "e2e: echod not found at $ECHOD" >&2; exit 1; }
  e2e_log "network namespace $(readlink /proc/self/ns/net), work directory $E2E_WORK"
}

# Records a background process for cleanup.
e2e_track() { E2E_PIDS+=("$1"); }

# Stops one process by PID: SIGTERM, then SIGKILL after ~5 s.
e2e_stop() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "e2e: pid $pid ignored SIGTERM; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
}

e2e_cleanup() {
  local rc=$?
  set +e
  local i
  for ((i = ${#E2E_PIDS[@]} - 1; i >= 0; i--)); do e2e_stop "${E2E_PIDS[$i]}"; done
  if [[ $rc -ne 0 || $E2E_FAILED -ne 0 ]]; then
    for f in "$E2E_WORK"/*.log; do
      [[ -f "$f" ]] || continue
      echo "----- $(basename "$f") (last 60 lines) -----"
      tail -n 60 "$f"
    done
  fi
  # Keep the logs where Bazel collects them (test.outputs/outputs.zip).
  if [[ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" && -d "$E2E_WORK" ]]; then
    cp "$E2E_WORK"/*.log "$TEST_UNDECLARED_OUTPUTS_DIR"/ 2>/dev/null
  fi
  [[ -n "$E2E_WORK" ]] && rm -rf "$E2E_WORK"
  # Only this namespace is affected; it disappears with the last process in it.
  exit "$rc"
}

# e2e_start_echod TAP STACK_IP HOST_IP LOG [echod flags...]
# Starts echod on a new DPDK tap device TAP with address STACK_IP/24, waits
# until the engine is up, then gives the kernel side HOST_IP/24. Sets
# ECHOD_PID.
e2e_start_echod() {
  local tap=$1 stack_ip=$2 host_ip=$3 log=$4
  shift 4
  if ip link show "$tap" >/dev/null 2>&1; then
    e2e_fail "interface $tap exists already"
    exit 1
  fi
  "$ECHOD" --device="net_tap0,iface=$tap" --ip="$stack_ip/24" --memory_mb=256 "$@" \
    >"$log" 2>&1 &
  ECHOD_PID=$!
  e2e_track "$ECHOD_PID"
  # Bounded: 30 s for EAL start-up on a busy machine.
  for _ in $(seq 1 300); do
    grep -q '^echod: .* on ' "$log" && break
    if ! kill -0 "$ECHOD_PID" 2>/dev/null; then
      e2e_fail "echod exited at start"
      exit 1
    fi
    sleep 0.1
  done
  if ! grep -q '^echod: .* on ' "$log"; then
    e2e_fail "echod did not start in 30 s"
    exit 1
  fi
  ip addr add "$host_ip/24" dev "$tap"
  ip link set "$tap" up
  e2e_log "echod pid $ECHOD_PID on $tap: $(grep '^echod: .* on ' "$log")"
}

# Stops echod with SIGINT (it prints its counters at exit) and checks that
# it exited cleanly and that its tap device went with it.
e2e_stop_echod() {
  local tap=$1 log=$2
  kill -INT "$ECHOD_PID" 2>/dev/null
  local rc=0
  for _ in $(seq 1 100); do
    kill -0 "$ECHOD_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$ECHOD_PID" 2>/dev/null; then
    e2e_fail "echod did not stop in 10 s after SIGINT"
    exit 1
  fi
  wait "$ECHOD_PID"
  rc=$?
  e2e_check "echod exited with status 0 (got $rc)" test "$rc" -eq 0
  e2e_check "tap $tap removed when echod exited" bash -c "! ip link show $tap >/dev/null 2>&1"
}

# Waits up to $3 seconds for a running echod client ($1 = pid) to finish;
# returns its exit status.
e2e_wait_pid() {
  local pid=$1 seconds=$2
  for _ in $(seq 1 $((seconds * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    e2e_fail "pid $pid still running after $seconds s"
    return 124
  fi
  wait "$pid"
}

# Sum over shards of KEY in echod's "shard N counters:" lines of LOG (the
# counters echod prints when it exits).
e2e_counter() {
  local log=$1 key=$2
  grep '^shard [0-9]* counters:' "$log" | grep -o "\b$key=[0-9]*" | cut -d= -f2 |
    awk '{s += $1} END {print s + 0}'
}

# KEY on one shard: e2e_shard_counter LOG SHARD KEY
e2e_shard_counter() {
  local log=$1 shard=$2 key=$3
  grep "^shard $shard counters:" "$log" | tail -n 1 | grep -o "\b$key=[0-9]*" | cut -d= -f2
}

# A steering field of one shard: e2e_steering LOG SHARD FIELD, FIELD one of
# tcp local out active in full clones.
e2e_steering() {
  local log=$1 shard=$2 field=$3
  local line
  line=$(grep "^shard $shard steering:" "$log" | tail -n 1)
  case $field in
    tcp) sed -E 's/.* tcp ([0-9]+) .*/\1/' <<<"$line" ;;
    local) sed -E 's/.* local ([0-9]+) .*/\1/' <<<"$line" ;;
    out) sed -E 's/.* redirect out ([0-9]+) .*/\1/' <<<"$line" ;;
    active) sed -E 's/.* \(active ([0-9]+)\) .*/\1/' <<<"$line" ;;
    in) sed -E 's/.*\) in ([0-9]+) .*/\1/' <<<"$line" ;;
    full) sed -E 's/.* ring full ([0-9]+) .*/\1/' <<<"$line" ;;
    clones) sed -E 's/.* arp clones ([0-9]+) .*/\1/' <<<"$line" ;;
  esac
}

# Resident memory of a process in KiB.
e2e_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
