# Shared helpers of the proxyd/proxyctl end-to-end tests. Sourced by each
# test script; see README.md in this directory for the topology.
#
# Everything a test uses lives in two network namespaces it creates (names
# unique per run): proxyd, its DPDK tap, a bridge, the clients (curl, wrk,
# python) and proxyctl run in the "proxy" namespace $NS_P; the backends
# (nginx, python) run in the "backend" namespace $NS_B, joined to the bridge
# by a veth pair. Loopback addresses (the control-plane API, the admin
# endpoint) are per namespace, so nothing here touches the root namespace's
# interfaces, routes or ports, and tests of several worktrees can run at
# the same time.
#
#   $NS_P: lo 127.0.0.1 (API :7090, admin :9901)
#          br0 10.78.0.1/24 + client addresses 10.78.0.101..  ── tap lpxtap (proxyd, 10.78.0.2)
#           └── vethp ══ vethb ($NS_B): 10.78.0.11, .12, .13 (nginx), .21, .22 (python)
#
# A test may set E2E_SUBNET (the /24's first three octets) and E2E_TAP
# before sourcing this file to use other addresses and tap name.
set -uo pipefail
# Bazel runs tests with a strict PATH (/bin:/usr/bin): nginx, ip and sysctl
# are in /usr/sbin.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SUBNET=${E2E_SUBNET:-10.78.0}
HOST_IP=$SUBNET.1
VIP=$SUBNET.2
NGINX_IPS=($SUBNET.11 $SUBNET.12 $SUBNET.13)
PY_IPS=($SUBNET.21 $SUBNET.22)
API=127.0.0.1:7090
ADMIN=127.0.0.1:9901
TAP=${E2E_TAP:-lpxtap}

# ---------------------------------------------------------------- binaries
find_bin() {  # find_bin RUNFILES_PATH: a built binary, in runfiles or bazel-bin
  local rel=$1 c
  for c in "${TEST_SRCDIR:-/nonexistent}/${TEST_WORKSPACE:-locus}/$rel" \
           "$E2E_DIR/../../bazel-bin/$rel"; do
    [[ -x $c ]] && { readlink -f "$c"; return 0; }
  done
  echo "e2e: $rel not found (bazel build //${rel%/*}:${rel##*/})" >&2
  return 1
}
PROXYD=$(find_bin proxy/daemon/proxyd) || exit 1
PROXYCTL=$(find_bin ctl/proxyctl) || exit 1
PYTHON=/usr/bin/python3

# ---------------------------------------------------------------- reporting
E2E_FAILS=0
E2E_CHECKS=0
log() { printf '[%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*"; }
pass() { E2E_CHECKS=$((E2E_CHECKS + 1)); log "PASS: $*"; }
fail() { E2E_CHECKS=$((E2E_CHECKS + 1)); E2E_FAILS=$((E2E_FAILS + 1)); log "FAIL: $*"; }
# check DESCRIPTION COMMAND...: pass when the command succeeds.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- set-up
require_env() {
  [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, /dev/net/tun)"
  [[ -c /dev/net/tun ]] || die "/dev/net/tun is missing"
  local t
  for t in ip nginx curl wrk timeout ss; do
    command -v "$t" >/dev/null || die "$t is not installed"
  done
  [[ -x $PYTHON ]] || die "$PYTHON is not installed"
}

# e2e_init NAME: names, work directory, the cleanup trap; a deadline for the
# whole script (E2E_DEADLINE seconds, default 240) enforced by a watchdog.
e2e_init() {
  require_env
  # Run in a mount and PID namespace of our own with a private /run/netns:
  # the named network namespaces below exist only there, and every process
  # the test starts (nginx daemonizes) dies with the test, even when it is
  # killed (SIGKILL on a Bazel timeout) before its cleanup runs: the kernel
  # kills a PID namespace with its first process, and --kill-child kills
  # that one when unshare dies. Nothing is mounted in the root mount
  # namespace.
  if [[ -z ${LOCUS_E2E_MNTNS:-} ]]; then
    export LOCUS_E2E_MNTNS=1
    exec unshare --mount --propagation private --pid --fork --kill-child --mount-proc -- /bin/bash -c \
      'mkdir -p /run/netns && mount -t tmpfs -o mode=0755 lpx-netns /run/netns && exec /bin/bash "$@"' \
      bash "$0"
  fi
  TEST_NAME=$1
  local id
  id="$1-$$"
  NS_P="lpx-$id-p"
  NS_B="lpx-$id-b"
  WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/lpx-$1.XXXXXX")
  PIDS=()            # every process started here, killed at exit
  PROXYD_PID=""
  trap e2e_cleanup EXIT
  trap 'log "interrupted"; exit 130' INT TERM
  local deadline=${E2E_DEADLINE:-240}
  ( sleep "$deadline"; echo "e2e: $TEST_NAME: deadline of ${deadline}s reached" >&2
    kill -TERM $$ 2>/dev/null ) &
  WATCHDOG=$!
  log "$TEST_NAME: namespaces $NS_P, $NS_B; work dir $WORK"
}

e2e_cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  [[ -n ${WATCHDOG:-} ]] && kill "$WATCHDOG" 2>/dev/null
  if [[ -n $PROXYD_PID ]] && kill -0 "$PROXYD_PID" 2>/dev/null; then
    kill -TERM "$PROXYD_PID"
    for _ in $(seq 50); do kill -0 "$PROXYD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PROXYD_PID" 2>/dev/null
  fi
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "$WORK"/nginx-*.pid; do [[ -f $p ]] && kill "$(cat "$p")" 2>/dev/null; done
  # Anything still running inside our own namespaces was started by us.
  local ns
  for ns in "$NS_P" "$NS_B"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
  done
  sleep 0.3
  for ns in "$NS_P" "$NS_B"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  done
  sleep 0.2
  ip netns del "$NS_B" 2>/dev/null
  ip netns del "$NS_P" 2>/dev/null
  if [[ ($rc -ne 0 || $E2E_FAILS -ne 0) && -n ${TEST_UNDECLARED_OUTPUTS_DIR:-} && -d $WORK ]]; then
    # Logs (proxyd, access log, pcaps) for a failed run.
    cp -r "$WORK" "$TEST_UNDECLARED_OUTPUTS_DIR/" 2>/dev/null
  fi
  if [[ $rc -eq 0 && $E2E_FAILS -eq 0 ]]; then rm -rf "$WORK"; fi
  log "$TEST_NAME: $E2E_CHECKS checks, $E2E_FAILS failed (exit $rc); logs: $WORK"
  exit "$rc"
}

# e2e_finish: the script's last line; the exit status is the verdict.
e2e_finish() {
  if [[ $E2E_FAILS -gt 0 ]]; then
    log "$TEST_NAME: FAILED ($E2E_FAILS of $E2E_CHECKS checks)"
    exit 1
  fi
  [[ $E2E_CHECKS -gt 0 ]] || die "no checks ran"
  log "$TEST_NAME: all $E2E_CHECKS checks passed"
  exit 0
}

inp() { ip netns exec "$NS_P" "$@"; }   # run in the proxy/client namespace
inb() { ip netns exec "$NS_B" "$@"; }   # run in the backend namespace

# e2e_topology [CLIENT_ADDRESSES]: the namespaces, bridge and veth; the
# client side gets 10.78.0.101.. as extra source addresses.
e2e_topology() {
  local nclients=${1:-0} i
  ip netns add "$NS_P" || die "ip netns add $NS_P"
  ip netns add "$NS_B" || die "ip netns add $NS_B"
  for ns in "$NS_P" "$NS_B"; do
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
  done
  ip -n "$NS_P" link add br0 type bridge
  ip -n "$NS_P" link add vethp type veth peer name vethb netns "$NS_B"
  ip -n "$NS_P" link set vethp master br0
  ip -n "$NS_P" addr add "$HOST_IP/24" dev br0
  for ((i = 0; i < nclients; i++)); do
    ip -n "$NS_P" addr add "$SUBNET.$((101 + i))/24" dev br0
  done
  ip -n "$NS_P" link set br0 up
  ip -n "$NS_P" link set vethp up
  for a in "${NGINX_IPS[@]}" "${PY_IPS[@]}"; do ip -n "$NS_B" addr add "$a/24" dev vethb; done
  ip -n "$NS_B" link set vethb up
  # Many short connections from few addresses: let TIME-WAIT ports be reused.
  inp sysctl -qw net.ipv4.tcp_tw_reuse=1
  inp sysctl -qw net.ipv4.ip_local_port_range="10000 60999"
}

client_ip() { echo "$SUBNET.$((101 + $1))"; }   # client_ip N (0-based)

# ---------------------------------------------------------------- backends
# start_nginx NAME IP: nginx from nginx.conf.tmpl in $NS_B (ports 8080-8084).
start_nginx() {
  local name=$1 ip=$2
  sed -e "s|@DIR@|$WORK|g" -e "s|@NAME@|$name|g" -e "s|@IP@|$ip|g" \
    "$E2E_DIR/nginx.conf.tmpl" >"$WORK/nginx-$name.conf"
  inb nginx -c "$WORK/nginx-$name.conf" -e "$WORK/nginx-$name.error.log" ||
    die "nginx $name did not start"
  wait_for 5 "nginx $name" inb curl -sf -o /dev/null "http://$ip:8080/healthz"
}
stop_nginx() {  # stop_nginx NAME: SIGTERM (fast shutdown), waits for exit
  local pidf="$WORK/nginx-$1.pid" pid
  [[ -f $pidf ]] || return 0
  pid=$(cat "$pidf")
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$pidf"
}

# start_py NAME IP PORT [ARGS]: backend.py in $NS_B.
start_py() {
  local name=$1 ip=$2 port=$3; shift 3
  ip netns exec "$NS_B" "$PYTHON" "$E2E_DIR/backend.py" --name "$name" --address "$ip" --port "$port" "$@" \
    >"$WORK/py-$name.log" 2>&1 &
  PIDS+=($!)
  eval "PY_PID_$name=$!"
  wait_for 5 "python backend $name" inb curl -sf -o /dev/null "http://$ip:$port/healthz"
}

# ---------------------------------------------------------------- proxyd
# start_proxyd [FLAGS...]: proxyd in $NS_P on tap $TAP, state and log files
# in $WORK; waits until the stack answers ping and /ready says 200.
start_proxyd() {
  local log=${PROXYD_LOG:-$WORK/proxyd.log}
  # Not through inp: $! must be proxyd itself (ip netns exec execs it), not
  # a subshell, or signals would miss it.
  ip netns exec "$NS_P" "$PROXYD" --device="net_tap0,iface=$TAP" --ip="$VIP/24" --gateway="$HOST_IP" \
    --lcores="${LCORES:-0}" --config_state="$WORK/state/config.json" \
    --access_log="$WORK/access.log" --api_address="$API" --admin_address="$ADMIN" \
    "$@" >>"$log" 2>&1 &
  PROXYD_PID=$!
  mkdir -p "$WORK/state"
  local i
  for i in $(seq 100); do
    ip -n "$NS_P" link show "$TAP" >/dev/null 2>&1 && break
    kill -0 "$PROXYD_PID" 2>/dev/null || { cat "$log"; die "proxyd exited"; }
    sleep 0.1
  done
  ip -n "$NS_P" link show "$TAP" >/dev/null 2>&1 || die "tap $TAP did not appear"
  ip -n "$NS_P" link set "$TAP" master br0
  ip -n "$NS_P" link set "$TAP" up
  wait_for 10 "proxyd /ready" inp curl -sf -o /dev/null "http://$ADMIN/ready" ||
    { cat "$log"; die "proxyd not ready"; }
  wait_for 10 "ping $VIP" inp ping -c1 -W1 "$VIP"
  log "proxyd running (pid $PROXYD_PID, lcores ${LCORES:-0})"
}
# stop_proxyd: SIGTERM, wait (at most 10 s); returns proxyd's exit status.
stop_proxyd() {
  [[ -n $PROXYD_PID ]] || return 0
  kill -TERM "$PROXYD_PID" 2>/dev/null
  local rc=0 i
  for i in $(seq 100); do kill -0 "$PROXYD_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$PROXYD_PID" 2>/dev/null; then
    log "proxyd did not stop within 10 s; killing it"
    kill -KILL "$PROXYD_PID"
    rc=137
  fi
  wait "$PROXYD_PID" 2>/dev/null || rc=$?
  PROXYD_PID=""
  return $rc
}

ctl() { inp timeout 30 "$PROXYCTL" --server="$API" "$@"; }
admin() { inp curl -sS --max-time 5 "http://$ADMIN$1"; }  # admin PATH
# pcurl ARGS...: curl in the client namespace, bounded.
pcurl() { inp curl -sS --max-time "${CURL_MAX_TIME:-5}" "$@"; }

# apply_yaml FILE: proxyctl apply -f; dies when refused.
apply_file() { ctl apply -f "$1" >"$WORK/apply.out" 2>&1 || { cat "$WORK/apply.out"; return 1; }; }

# wait_for SECONDS WHAT COMMAND...: retry the command every 0.1 s.
wait_for() {
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  while ((SECONDS < end)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  log "timed out after ${secs}s waiting for $what"
  return 1
}

# endpoint_health POOL ADDRESS:PORT: the health string from /stats.
endpoint_health() {
  admin /stats | "$PYTHON" -c '
import json, sys
pool, ep = sys.argv[1], sys.argv[2]
for e in json.load(sys.stdin)["endpoints"]:
    if e["pool"] == pool and "%s:%d" % (e["address"], e["port"]) == ep:
        print(e["health"]); break
else:
    print("missing")' "$1" "$2"
}
# wait_health SECONDS STATE POOL EP...: every endpoint reports STATE
# (healthy, unhealthy, ejected; "!healthy" for anything else).
wait_health() {
  local secs=$1 want=$2 pool=$3; shift 3
  local end=$((SECONDS + secs)) ep all h
  while ((SECONDS < end)); do
    all=1
    for ep in "$@"; do
      h=$(endpoint_health "$pool" "$ep")
      if [[ $want == !* ]]; then
        [[ $h != "${want#!}" && $h != missing ]] || all=0
      else
        [[ $h == "$want" ]] || all=0
      fi
    done
    ((all)) && return 0
    sleep 0.2
  done
  log "timed out after ${secs}s waiting for $pool $* to be $want"
  return 1
}
wait_healthy() { local secs=$1; shift; wait_health "$secs" healthy "$@"; }

# converged: proxyctl status -o json says converged and every core runs the
# config version.
converged() {
  ctl status -o json | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
v = int(s.get("configVersion", 0))
cores = s.get("cores", [])
ok = s.get("converged", False) and cores and all(int(c.get("appliedVersion", 0)) == v for c in cores)
sys.exit(0 if ok else 1)'
}
