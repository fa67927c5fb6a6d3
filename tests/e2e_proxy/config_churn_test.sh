#!/usr/bin/env bash
# Config churn under load: CHURN_COUNT (default 1000) route and pool changes
# through `proxyctl apply` while wrk (keep-alive, -t1 -c8) sends requests
# along the very route being changed. Every change is a new version; after
# EVERY change one request on a new connection must come from the backend
# that version routes to, and proxyctl's output must name the new version
# without warning that a core had not applied it; every 20th change (and
# the last) `proxyctl status` must show that version on every core. At the
# end: no mismatches, wrk saw no socket errors and no non-2xx/3xx, proxyd
# is alive, every core runs the last version, and no client connection is
# left open. The change loop is churn.py; see README.md.
E2E_SUBNET=10.91.0   # a /24 of its own (10.78.0 and 10.79.0 are the other e2e_proxy tests')
E2E_TAP=lpxchurn
LCORES=${CHURN_LCORES:-0}   # proxyd lcores (start_proxyd reads LCORES)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CHURN_COUNT=${CHURN_COUNT:-1000}
# The change loop's wall deadline; the whole script's watchdog is above it.
# 1000 applies take 2.5-11 minutes on this project's 2 shared vCPUs
# (proxyctl apply 150-650 ms each): the loop fails when it cannot make
# CHURN_COUNT changes in CHURN_DEADLINE_S seconds.
CHURN_DEADLINE_S=${CHURN_DEADLINE_S:-690}
CHURN_STATUS_EVERY=${CHURN_STATUS_EVERY:-20}
# wrk's pause between requests on each connection: load, not a CPU hog that
# starves proxyctl on 2 vCPUs (8 connections, at most ~800 requests/s).
CHURN_WRK_DELAY_MS=${CHURN_WRK_DELAY_MS:-10}
E2E_DEADLINE=$((CHURN_DEADLINE_S + 120)) e2e_init churn
e2e_topology
N=(n1 n2 n3)
for i in 0 1 2; do start_nginx "${N[$i]}" "${NGINX_IPS[$i]}"; done
NGINX_ARG="n1=${NGINX_IPS[0]},n2=${NGINX_IPS[1]},n3=${NGINX_IPS[2]}"
churn() {
  inp "$PYTHON" "$E2E_DIR/churn.py" --proxyctl="$PROXYCTL" --server="$API" --vip="$VIP" \
    --work="$WORK" --nginx="$NGINX_ARG" "$@"
}
churn --initial || die "initial config"
# No access log: wrk makes hundreds of thousands of requests.
start_proxyd --config="$WORK/v0.json" --access_log=

# st EXPR: a Python expression over s = proxyctl status -o json.
st() {
  ctl status -o json | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
v = int(s.get("configVersion", 0))
cores = s.get("cores", [])
print(eval(sys.argv[1]))' "$1"
}
backend_of() {  # backend_of PATH: X-Backend of a GET on a new connection
  pcurl -D - -o /dev/null "http://$VIP$1" 2>/dev/null | tr -d '\r' | sed -n 's/^X-Backend: //p'
}

log "--- initial config"
v0=$(st v)
check "status: version $v0 >= 1, converged, every core at it" \
  test "$(st 'v >= 1 and s.get("converged", False) and all(int(c.get("appliedVersion", 0)) == v for c in cores)')" == True
check "/c/ goes to pool pa (n1:8080): $(backend_of /c/x)" test "$(backend_of /c/x)" == n1:8080
check "wrk's path answers 200 before the churn" \
  test "$(pcurl -o /dev/null -w '%{http_code}' "http://$VIP/c/load")" == 200

log "--- $CHURN_COUNT changes under wrk load (loop deadline ${CHURN_DEADLINE_S}s)"
# wrk runs longer than the loop can; it is stopped with SIGINT (it then
# prints its totals) as soon as the loop ends.
printf 'function delay() return %d end\n' "$CHURN_WRK_DELAY_MS" >"$WORK/delay.lua"
# Not through inp: $! must be wrk itself (ip netns exec execs it).
ip netns exec "$NS_P" wrk -t1 -c8 -d$((CHURN_DEADLINE_S + 60))s --timeout 5s -s "$WORK/delay.lua" \
  "http://$VIP/c/load" >"$WORK/wrk.txt" 2>&1 &
WRK_PID=$!
PIDS+=($WRK_PID)
sleep 1
kill -0 "$WRK_PID" 2>/dev/null || { cat "$WORK/wrk.txt"; die "wrk did not start"; }
t0=$SECONDS
churn --count="$CHURN_COUNT" --deadline_s="$CHURN_DEADLINE_S" --status_every="$CHURN_STATUS_EVERY" \
  >"$WORK/churn.json" 2>"$WORK/churn.err"
churn_rc=$?
loop_s=$((SECONDS - t0))
sleep 0.5
wrk_alive=no
kill -0 "$WRK_PID" 2>/dev/null && wrk_alive=yes
kill -INT "$WRK_PID" 2>/dev/null
for _ in $(seq 100); do kill -0 "$WRK_PID" 2>/dev/null || break; sleep 0.1; done
wait "$WRK_PID"
wrk_rc=$?
cat "$WORK/churn.err"
log "churn.py (exit $churn_rc, ${loop_s}s): $(cat "$WORK/churn.json")"
log "per change: $WORK/changes.tsv"
log "wrk (exit $wrk_rc):"
cat "$WORK/wrk.txt"

# churn.py's summary as shell variables R_<key> (one Python start: on this
# machine each costs ~0.5-1 s).
eval "$("$PYTHON" -c '
import json, shlex, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    r = {}
for k, v in r.items():
    print("R_%s=%s" % (k, shlex.quote(json.dumps(v) if isinstance(v, (dict, list)) else str(v))))' "$WORK/churn.json")"
check "churn.py ran to the end (exit $churn_rc)" test "$churn_rc" -eq 0
check "all $CHURN_COUNT changes made within the loop deadline of ${CHURN_DEADLINE_S}s (made ${R_changes:-0} in ${R_loop_s:-?}s, deadline hit: ${R_deadline_hit:-?})" \
  test "${R_changes:-0}" -eq "$CHURN_COUNT" -a "${R_deadline_hit:-}" == False
check "each change a new version: ${R_start_version:-?} -> ${R_end_version:-?} (${R_version_errors:-?} apply outputs without 'applied: version V -> V+1')" \
  test $((${R_end_version:-0} - ${R_start_version:-0})) -eq "${R_changes:--1}" -a "${R_version_errors:-1}" -eq 0
check "every apply exited 0 (${R_apply_failures:-?} failed)" test "${R_apply_failures:-1}" -eq 0
check "no apply warned that a core had not applied the version (ApplyResponse.applied false: ${R_not_applied_warnings:-?})" \
  test "${R_not_applied_warnings:-1}" -eq 0
check "the request after every change came from the backend the new version routes to (${R_mismatches:-?} mismatches of ${R_changes:-0})" \
  test "${R_mismatches:-1}" -eq 0 -a "${R_changes:-0}" -gt 0
check "proxyctl status every $CHURN_STATUS_EVERY changes: every core at the new version (${R_status_mismatches:-?} mismatches of ${R_status_checks:-0})" \
  test "${R_status_mismatches:-1}" -eq 0 -a "${R_status_checks:-0}" -ge $((${R_changes:-0} / CHURN_STATUS_EVERY))
log "change kinds: ${R_kinds:-}"
log "first problems: ${R_first_problems:-}"
log "apply latency (ms): ${R_apply_ms:-}; check request: ${R_check_ms:-}; status: ${R_status_ms:-}"

reqs=$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' "$WORK/wrk.txt")
non2xx=$(sed -nE 's/^ *Non-2xx or 3xx responses: ([0-9]+)/\1/p' "$WORK/wrk.txt")
sockerr=$(grep 'Socket errors' "$WORK/wrk.txt" | tr -s ' ')
check "wrk ran through the whole loop (still running at its end: $wrk_alive) and stopped on SIGINT (exit $wrk_rc)" \
  test "$wrk_alive" == yes -a "$wrk_rc" -eq 0
check "wrk: ${reqs:-0} requests (want >= $((CHURN_COUNT * 2)))" test "${reqs:-0}" -ge $((CHURN_COUNT * 2))
check "wrk: 0 socket errors (${sockerr:-none})" test -z "$sockerr"
check "wrk: 0 non-2xx/3xx responses (${non2xx:-0})" test "${non2xx:-0}" -eq 0

log "--- after the churn"
check "proxyd still running" kill -0 "$PROXYD_PID"
vend=${R_end_version:-0}
check "status: version $(st v) == last applied $vend, converged, every core at it ($(st '[int(c.get("appliedVersion", 0)) for c in cores]'))" \
  test "$(st 'v == '"${vend:-0}"' and s.get("converged", False) and all(int(c.get("appliedVersion", 0)) == v for c in cores)')" == True
ctl get config -o json >"$WORK/final.json"
check "get config -o json is the loop's last state (routes, header value, pools, weights)" "$PYTHON" -c '
import json, sys
got, want = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
def norm(c, rt, wp):
    routes = [(r["name"], [(h["name"], h.get("exact")) for h in r["match"].get("headers", [])],
               [(w["pool"], w.get("weight", 1)) for w in r["action"][wp]]) for t in c[rt] for r in t["routes"]]
    pools = sorted((p["name"], [(e["address"], e["port"], e.get("weight", 1)) for e in p["endpoints"]]) for p in c["pools"])
    return routes, pools
g, w = norm(got, "routeTables", "weightedPools"), norm(want, "route_tables", "weighted_pools")
print("running:", g)
print("churn.py:", w)
sys.exit(0 if g == w else 1)' "$WORK/final.json" "$WORK/last.json"
# Every client connection is closed now (wrk stopped, the checks used
# Connection: close): what stays open are idle upstream connections.
conns() { st 'sum(int(c.get("activeConnections", 0)) for c in cores)'; }
log "status activeConnections after the churn: $(conns)"
metric() {  # metric NAME: the sum over its labels in /metrics
  admin /metrics | awk -v m="$1" '$1 == m || index($1, m "{") == 1 {s += $NF} END {print s + 0}'
}
down_zero() { [[ $(metric locus_downstream_connections_active) == 0 ]]; }
check "no client connection left open: locus_downstream_connections_active 0 within 10 s" \
  wait_for 10 "client connections 0" down_zero
admin /metrics >"$WORK/metrics.txt"
grep -E '^locus_(downstream|upstream|tcp_connections|endpoint_active)' "$WORK/metrics.txt"
tcp=$(metric locus_tcp_connections) idle=$(metric locus_upstream_idle_connections)
check "no leaked TCP connection: locus_tcp_connections $tcp == idle kept-alive upstream connections $idle" \
  test "$tcp" -eq "$idle"
check "no connection to an endpoint the config no longer has (locus_endpoint_active_connections)" "$PYTHON" -c '
import json, re, sys
cfg = json.load(open(sys.argv[2]))
have = {(p["name"], "%s:%d" % (e["address"], e["port"])) for p in cfg["pools"] for e in p["endpoints"]}
stale = seen = 0
for line in open(sys.argv[1]):
    m = re.match(r"locus_endpoint_active_connections\{endpoint=\"([^\"]+)\",pool=\"([^\"]+)\"\} (\d+)", line)
    seen += bool(m)
    if m and (m.group(2), m.group(1)) not in have and int(m.group(3)) != 0:
        print("open to a removed endpoint:", line.strip()); stale += 1
print("endpoint series:", seen, "with connections to removed endpoints:", stale)
sys.exit(1 if stale or not seen else 0)' "$WORK/metrics.txt" "$WORK/last.json"
check "after the churn web still serves: $(backend_of /c/after)" test -n "$(backend_of /c/after)"
stop_proxyd
rc=$?
check "proxyd exits 0 on SIGTERM ($rc)" test "$rc" -eq 0
log "wall time: $SECONDS s (change loop ${loop_s}s)"
e2e_finish
