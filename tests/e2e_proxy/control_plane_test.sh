#!/usr/bin/env bash
# The control plane end to end: proxyctl over gRPC against proxyd on a DPDK
# tap. A route change applied with --if-version takes effect on the very
# next request and increments the version on every core; re-applying it is
# a no-op; a stale --if-version and invalid or malformed configs are refused
# with a clear error while the old config keeps serving at the same version;
# listeners are added and removed; a drained listener refuses new
# connections, lets the request in flight finish, and ends DRAINED; a drain
# deadline closes connections still open.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_DEADLINE=200 e2e_init control
e2e_topology
N1=${NGINX_IPS[0]} N2=${NGINX_IPS[1]} P1=${PY_IPS[0]}
start_nginx n1 "$N1"
start_nginx n2 "$N2"
start_py p1 "$P1" 9000

# config POOL-OF-/ [EXTRA LISTENER LINES]: the whole config.
config() {
  cat <<EOF
listeners:
  - {name: web, port: 80, route_table: main}
${2:-}
route_tables:
  - name: main
    routes:
      - {name: py, match: {prefix: /py/}, action: {weighted_pools: [{pool: py}]}}
      - {name: all, match: {prefix: /}, action: {weighted_pools: [{pool: $1}]}}
pools:
  - name: a
    endpoints: [{address: $N1, port: 8080}]
  - name: b
    endpoints: [{address: $N2, port: 8080}]
  - name: py
    endpoints: [{address: $P1, port: 9000}]
EOF
}
config a >"$WORK/v1.yaml"
start_proxyd --config="$WORK/v1.yaml"

# st EXPR: a Python expression over s = proxyctl status -o json.
st() {
  ctl status -o json | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
v = int(s.get("configVersion", 0))
def listener(name):
    for l in s.get("listeners", []):
        if l["name"] == name: return l.get("state", "?")
    return "missing"
print(eval(sys.argv[1]))' "$1"
}
version() { st v; }
all_cores_at() {  # all_cores_at V: converged, every core runs V
  [[ $(st 's.get("converged", False) and all(int(c.get("appliedVersion", 0)) == v for c in s["cores"]) and v') == "$1" ]]
}
backend_of() {  # backend_of [PORT] PATH: "n1:8080", or "curl exit N" / "status N"
  local port=${2:-80} out rc
  out=$(pcurl -D - -o /dev/null "http://$VIP:$port$1" 2>/dev/null); rc=$?
  [[ $rc -eq 0 ]] || { echo "curl exit $rc"; return; }
  out=$(tr -d '\r' <<<"$out")
  if grep -q '^HTTP/1.1 200' <<<"$out"; then sed -n 's/^X-Backend: //p' <<<"$out"
  else head -1 <<<"$out"; fi
}

log "--- initial config"
v1=$(version)
log "config version $v1"
check "status: version $v1 >= 1, converged, every core at it" all_cores_at "$v1"
check "route / goes to pool a (n1): $(backend_of /x)" test "$(backend_of /x)" == n1:8080

log "--- apply a route change"
config b >"$WORK/v2.yaml"
ctl diff -f "$WORK/v2.yaml" >"$WORK/diff.out" 2>&1
rc=$?
check "diff -f v2: exit 1 (differences), names route table main ($(head -c 300 "$WORK/diff.out" | tr '\n' ' '))" \
  bash -c "[[ $rc -eq 1 ]] && grep -q main '$WORK/diff.out'"
ctl apply -f "$WORK/v2.yaml" --dry-run >"$WORK/dry.out" 2>&1
rc=$?
check "apply --dry-run: exit 0 ($rc); still version $v1 and pool a" \
  test "$rc" -eq 0 -a "$(version)" == "$v1" -a "$(backend_of /x)" == n1:8080
ctl apply -f "$WORK/v2.yaml" --if-version "$v1" >"$WORK/apply2.out" 2>&1
rc=$?
cat "$WORK/apply2.out"
check "apply -f v2 --if-version $v1: exit 0 ($rc)" test "$rc" -eq 0
v2=$(version)
check "version incremented by one: $v1 -> $v2" test "$v2" -eq $((v1 + 1))
check "the very next request goes to pool b (n2): $(backend_of /x)" test "$(backend_of /x)" == n2:8080
check "every core converged on version $v2" wait_for 5 "cores at $v2" all_cores_at "$v2"
check "get config -o json shows route all -> pool b" bash -c "
  ctl() { ip netns exec '$NS_P' timeout 30 '$PROXYCTL' --server='$API' \"\$@\"; }
  ctl get config -o json | '$PYTHON' -c '
import json, sys
c = json.load(sys.stdin)
r = [r for t in c[\"routeTables\"] for r in t[\"routes\"] if r[\"name\"] == \"all\"][0]
sys.exit(0 if r[\"action\"][\"weightedPools\"][0][\"pool\"] == \"b\" else 1)'"
ctl apply -f "$WORK/v2.yaml" >"$WORK/apply2b.out" 2>&1
rc=$?
check "re-applying the running config: exit 0 ($rc), version stays $v2 ($(version))" \
  test "$rc" -eq 0 -a "$(version)" == "$v2"
ctl apply -f "$WORK/v1.yaml" --if-version "$v1" >"$WORK/stale.out" 2>&1
rc=$?
log "stale --if-version: exit $rc: $(tr '\n' ' ' <"$WORK/stale.out")"
check "apply with a stale --if-version $v1: exit 1, version stays $v2, pool b still serves" \
  test "$rc" -eq 1 -a "$(version)" == "$v2" -a "$(backend_of /x)" == n2:8080

log "--- invalid configs are refused; the old config keeps serving"
sed -e "s/port: 8080}]/port: 70000}]/" -e 's/pool: b}/pool: nosuchpool}/' "$WORK/v2.yaml" >"$WORK/bad.yaml"
ctl apply -f "$WORK/bad.yaml" >"$WORK/bad.out" 2>&1
rc=$?
cat "$WORK/bad.out"
check "invalid config (port 70000, unknown pool): exit 2" test "$rc" -eq 2
check "the error says nothing was changed" grep -qi 'nothing was changed' "$WORK/bad.out"
check "the error names the bad port's field path and value" \
  grep -qE 'pools\[[0-9]\]\.endpoints\[0\]\.port: 70000' "$WORK/bad.out"
check "the error names the unknown pool" grep -q 'nosuchpool' "$WORK/bad.out"
check "version unchanged ($(version)) and pool b still serves" \
  test "$(version)" == "$v2" -a "$(backend_of /x)" == n2:8080
ctl validate -f "$WORK/bad.yaml" >"$WORK/validate.out" 2>&1
rc=$?
check "validate -f of the same file: exit 2 ($rc)" test "$rc" -eq 2
printf 'listeners: [ {name: web, port: 80\n' >"$WORK/malformed.yaml"
ctl apply -f "$WORK/malformed.yaml" >"$WORK/malformed.out" 2>&1
rc=$?
log "malformed file: exit $rc: $(tr '\n' ' ' <"$WORK/malformed.out")"
check "a malformed file: exit 2, version unchanged, pool b still serves" \
  test "$rc" -eq 2 -a "$(version)" == "$v2" -a "$(backend_of /x)" == n2:8080
sed 's|{prefix: /py/}|{regex: "/py/(["}|' "$WORK/v2.yaml" >"$WORK/badre.yaml"
ctl apply -f "$WORK/badre.yaml" >"$WORK/badre.out" 2>&1
rc=$?
log "bad regex: exit $rc: $(tr '\n' ' ' <"$WORK/badre.out")"
check "a regex that does not compile: exit 2, names route_tables[0].routes[0], version unchanged" \
  bash -c "[[ $rc -eq 2 ]] && grep -q 'route_tables\[0\]\.routes\[0\]' '$WORK/badre.out' && [[ \$0 == '$v2' ]]" "$(version)"

log "--- listeners: add and remove"
config b "  - {name: extra, port: 8081, route_table: main}" >"$WORK/v3.yaml"
ctl apply -f "$WORK/v3.yaml" >"$WORK/apply3.out" 2>&1
check "apply adds listener extra on :8081: exit 0, version $((v2 + 1))" \
  test $? -eq 0 -a "$(version)" == $((v2 + 1))
check "listener extra ACTIVE in status" wait_for 5 "extra ACTIVE" \
  test "$(st 'listener("extra")')" == ACTIVE
check "listener extra serves: $(backend_of /y 8081)" test "$(backend_of /y 8081)" == n2:8080
ctl get listeners -o json >"$WORK/listeners.json" 2>&1
check "get listeners lists web and extra" bash -c "grep -q '\"extra\"' '$WORK/listeners.json' && grep -q '\"web\"' '$WORK/listeners.json'"
ctl delete listener extra >"$WORK/delete.out" 2>&1
rc=$?
check "delete listener extra: exit 0, version $((v2 + 2))" test "$rc" -eq 0 -a "$(version)" == $((v2 + 2))
check "no new connections on :8081 after the delete" \
  wait_for 5 "8081 refused" bash -c "! ip netns exec '$NS_P' curl -s --max-time 2 -o /dev/null http://$VIP:8081/z"
check "listener extra gone from get listeners" \
  bash -c "! ip netns exec '$NS_P' timeout 30 '$PROXYCTL' --server='$API' get listeners -o json | grep -q '\"extra\"'"
check "listener web unaffected: $(backend_of /x)" test "$(backend_of /x)" == n2:8080
ctl delete pool b >"$WORK/delete-b.out" 2>&1
rc=$?
check "delete pool b while route all uses it: refused, exit 1, version unchanged" \
  test "$rc" -eq 1 -a "$(version)" == $((v2 + 2))
v4=$(version)

log "--- drain"
config b "  - {name: dr, port: 8082, route_table: main}
  - {name: dl, port: 8083, route_table: main}" >"$WORK/v5.yaml"
ctl apply -f "$WORK/v5.yaml" >"$WORK/apply5.out" 2>&1
check "apply adds listeners dr (:8082) and dl (:8083)" test $? -eq 0 -a "$(version)" == $((v4 + 1))
check "dr and dl ACTIVE" wait_for 5 "dr, dl ACTIVE" \
  test "$(st 'listener("dr") + listener("dl")')" == ACTIVEACTIVE
# A request in flight on dr (the backend answers after 5 s) while dr drains.
inp curl -sS --max-time 15 -D "$WORK/inflight.hdr" -o "$WORK/inflight.body" \
  "http://$VIP:8082/py/slow?ms=5000" 2>"$WORK/inflight.err" &
inflight=$!
PIDS+=($inflight)
sleep 1
t0=$SECONDS
ctl drain dr --deadline 20s >"$WORK/drain.out" 2>&1
check "drain dr --deadline 20s: exit 0 ($(tr '\n' ' ' <"$WORK/drain.out"))" test $? -eq 0
state=$(st 'listener("dr")')
check "dr is DRAINING while a request is in flight ($state)" test "$state" == DRAINING
code=$(pcurl -o /dev/null -w '%{http_code}' "http://$VIP:8082/new" 2>/dev/null)
check "a new connection to draining dr is not served (got '${code}')" test "$code" != 200
wait "$inflight"
rc=$?
check "the request in flight finished: 200 from the backend, with Connection: close (curl exit $rc)" \
  bash -c "[[ $rc -eq 0 ]] && grep -q '^HTTP/1.1 200' '$WORK/inflight.hdr' && grep -qi '^Connection: close' '$WORK/inflight.hdr' && grep -q '^slow p1 5000' '$WORK/inflight.body'"
check "dr DRAINED once its last connection closed" wait_for 5 "dr DRAINED" \
  test "$(st 'listener("dr")')" == DRAINED
check "the drain took the request's time, not the 20 s deadline ($((SECONDS - t0)) s)" \
  test $((SECONDS - t0)) -lt 10
# A request on dl that would outlive dl's drain deadline (1 s) by far.
inp curl -sS --max-time 20 -o /dev/null -w '%{http_code}' \
  "http://$VIP:8083/py/slow?ms=12000" >"$WORK/cut.code" 2>"$WORK/cut.err" &
cut=$!
PIDS+=($cut)
sleep 1
t0=$SECONDS
ctl drain dl --deadline 1s >"$WORK/drain-dl.out" 2>&1
check "drain dl --deadline 1s: exit 0" test $? -eq 0
wait "$cut"
check "the 12 s request on dl was cut at the 1 s deadline (no 200: $(cat "$WORK/cut.code"); $((SECONDS - t0)) s after the drain, want <= 6)" \
  test "$(cat "$WORK/cut.code")" != 200 -a $((SECONDS - t0)) -le 6
check "dl DRAINED" wait_for 5 "dl DRAINED" test "$(st 'listener("dl")')" == DRAINED
check "web still serves after the drains: $(backend_of /x)" test "$(backend_of /x)" == n2:8080
check "drains do not change the config version ($(version))" test "$(version)" == $((v4 + 1))

log "--- counters through proxyctl stats"
reqs=$(ctl stats -o json | "$PYTHON" -c '
import json, sys
print(sum(int(c.get("requests", 0)) for c in json.load(sys.stdin)["cores"]))')
check "proxyctl stats counts the requests served ($reqs >= 15)" test "${reqs:-0}" -ge 15

v_last=$(version)
ctl get config -o json >"$WORK/config-before.json"
stop_proxyd
rc=$?
check "proxyd exits 0 on SIGTERM ($rc)" test "$rc" -eq 0
check "the tap is gone with proxyd" bash -c "! ip -n '$NS_P' link show '$TAP' >/dev/null 2>&1"

log "--- restart without --config: the persisted config comes back"
start_proxyd
check "after the restart the version is still $v_last ($(version))" test "$(version)" == "$v_last"
ctl get config -o json >"$WORK/config-after.json"
check "after the restart get config is identical" \
  cmp -s "$WORK/config-before.json" "$WORK/config-after.json"
check "after the restart web serves as before: $(backend_of /x)" test "$(backend_of /x)" == n2:8080
stop_proxyd
rc=$?
check "proxyd exits 0 on SIGTERM after the restart ($rc)" test "$rc" -eq 0
e2e_finish
