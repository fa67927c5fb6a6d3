#!/usr/bin/env bash
# Routing by host and path, and every load-balancing policy (weighted round
# robin within tolerance), through proxyd on a DPDK tap with nginx (and two
# python) backends in a namespace; a backend stopped mid-run is ejected by
# health checks without client errors beyond a small bound, and comes back.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_DEADLINE=200 e2e_init routing
NCLIENTS=16
e2e_topology $NCLIENTS
N1=${NGINX_IPS[0]} N2=${NGINX_IPS[1]} N3=${NGINX_IPS[2]}
P1=${PY_IPS[0]} P2=${PY_IPS[1]}
start_nginx n1 "$N1"
start_nginx n2 "$N2"
start_nginx n3 "$N3"
start_py p1 "$P1" 9000
start_py p2 "$P2" 9000

three() {  # three PORT: n1..n3 at PORT as YAML endpoints (optional weights W1 W2 W3)
  local port=$1 w1=${2:-} w2=${3:-} w3=${4:-} i=0 ip w
  for ip in "$N1" "$N2" "$N3"; do
    i=$((i + 1)); eval "w=\${w$i}"
    echo "      - {address: $ip, port: $port${w:+, weight: $w}}"
  done
}
route() {  # route NAME MATCH POOL
  echo "      - name: $1"
  echo "        match: $2"
  echo "        action: {weighted_pools: [{pool: $3}]}"
}
pool1() {  # pool1 NAME IP PORT
  printf '  - name: %s\n    endpoints: [{address: %s, port: %s}]\n' "$1" "$2" "$3"
}
{
  cat <<EOF
listeners:
  - {name: web, port: 80, route_table: main}
route_tables:
  - name: main
    routes:
EOF
  route host-exact '{host: api.example.com, prefix: /}' p-api
  route host-wild '{host: "*.example.com", prefix: /}' p-wild
  route path-exact '{exact: /exact}' p-exact
  route path-regex '{regex: "/re/[0-9]+"}' p-regex
  route path-prefix '{prefix: /pre/}' p-prefix
  route hdr '{prefix: /hm/, headers: [{name: X-Canary, exact: "yes"}]}' p-exact
  route post-only '{prefix: /m/, methods: [POST]}' p-prefix
  route rr '{prefix: /rr/}' rr
  route lc '{prefix: /lc/}' lc
  route p2c '{prefix: /p2/}' p2c
  route rand '{prefix: /rand/}' rand
  route maglev '{prefix: /mag/}' maglev
  route ring '{prefix: /ring/}' ring
  route maghdr '{prefix: /maghdr/}' maghdr
  route wrr '{prefix: /wrr/}' wrr
  route wrand '{prefix: /wrand/}' wrand
  cat <<EOF
      - name: split
        match: {prefix: /split/}
        action: {weighted_pools: [{pool: split-a, weight: 1}, {pool: split-b, weight: 3}]}
      - name: hc
        match: {prefix: /hc/}
        action:
          weighted_pools: [{pool: hc}]
          retry: {retry_on: [CONNECT_FAILURE], num_retries: 2}
      - name: default
        match: {prefix: /d/}
        action: {weighted_pools: [{pool: p-default}]}
pools:
EOF
  pool1 p-api "$N1" 8081
  pool1 p-wild "$N2" 8081
  pool1 p-exact "$N1" 8082
  pool1 p-regex "$N2" 8082
  pool1 p-prefix "$N3" 8082
  pool1 p-default "$N3" 8083
  pool1 split-a "$N1" 8083
  pool1 split-b "$N2" 8083
  for p in rr:ROUND_ROBIN p2c:POWER_OF_TWO rand:RANDOM; do
    printf '  - name: %s\n    lb_policy: %s\n    endpoints:\n' "${p%%:*}" "${p#*:}"
    three 8080
  done
  printf '  - name: lc\n    lb_policy: LEAST_CONNECTIONS\n    endpoints:\n'
  printf '      - {address: %s, port: 9000}\n      - {address: %s, port: 9000}\n' "$P1" "$P2"
  printf '  - name: maglev\n    lb_policy: MAGLEV\n    hash_key: {client_ip: true}\n    maglev_table_size: 251\n    endpoints:\n'
  three 8080
  printf '  - name: ring\n    lb_policy: RING_HASH\n    hash_key: {client_ip: true}\n    endpoints:\n'
  three 8080
  printf '  - name: maghdr\n    lb_policy: MAGLEV\n    hash_key: {header: x-user}\n    endpoints:\n'
  three 8080
  printf '  - name: wrr\n    lb_policy: ROUND_ROBIN\n    endpoints:\n'
  three 8080 1 3 0
  printf '  - name: wrand\n    lb_policy: RANDOM\n    endpoints:\n'
  three 8080 1 3 0
  printf '  - name: hc\n    lb_policy: ROUND_ROBIN\n    endpoints:\n'
  three 8084
  printf '    health_check: {http: {path: /healthz}, interval: 1s, timeout: 0.5s, rise: 2, fall: 2}\n'
} >"$WORK/routing.yaml"

start_proxyd --config="$WORK/routing.yaml"

# where HOST PATH [CURL ARGS]: "NAME:PORT" of the backend that answered,
# or "status NNN" when it was not a 200 from a backend.
where() {
  local host=$1 path=$2; shift 2
  local out code
  out=$(pcurl -o "$WORK/body" -w '%{http_code}' -H "Host: $host" "$@" "http://$VIP$path") || {
    echo "curl failed"; return; }
  if [[ $out == 200 ]]; then
    sed -nE 's/^backend=([a-z0-9]+) port=([0-9]+).*/\1:\2/p' "$WORK/body" | head -1
  else
    echo "status $out"
  fi
}
expect_route() {  # expect_route WANT HOST PATH [CURL ARGS]
  local want=$1 host=$2 path=$3; shift 3
  local got
  got=$(where "$host" "$path" "$@")
  if [[ $got == "$want" ]]; then pass "Host $host $path $* -> $want"
  else fail "Host $host $path $* -> want $want, got $got"; fi
}

log "--- routing by host"
expect_route n1:8081 api.example.com /anything
expect_route n1:8081 API.Example.COM:80 /anything   # case-insensitive, port stripped
expect_route n2:8081 www.example.com /anything
expect_route n2:8081 a.b.example.com /x
expect_route "status 404" example.com /anything     # the wildcard needs a label before it
expect_route "status 404" api.example.org /anything
log "--- routing by path"
expect_route n1:8082 other /exact
expect_route n1:8082 other '/exact?q=1'             # the query is not part of the path
expect_route "status 404" other /exact/more
expect_route n2:8082 other /re/12345
expect_route "status 404" other /re/12a             # regex is anchored at both ends
expect_route "status 404" other /re/
expect_route n3:8082 other /pre/x/y
expect_route "status 404" other /pre
expect_route n3:8083 other /d/
log "--- header and method conditions"
expect_route n1:8082 other /hm/a -H 'X-Canary: yes'
expect_route "status 404" other /hm/a -H 'X-Canary: no'
expect_route "status 404" other /hm/a
expect_route n3:8082 other /m/a -X POST
expect_route "status 404" other /m/a

# backends PATH N [CURL ARGS]: N requests on one keep-alive connection (curl's
# URL globbing); prints the answering backend names, one per line.
backends() {
  local path=$1 n=$2; shift 2
  CURL_MAX_TIME=30 pcurl "$@" "http://$VIP$path[1-$n]" | sed -nE 's/^backend=([a-z0-9]+) .*/\1/p'
}
count() { grep -cx "$1" || true; }   # count NAME < lines

log "--- ROUND_ROBIN"
seq_rr=$(backends /rr/ 12 | tr '\n' ' ')
log "round robin order: $seq_rr"
read -ra order <<<"$seq_rr"
ok=1
[[ ${#order[@]} -eq 12 ]] || ok=0
for ((i = 3; i < ${#order[@]}; i++)); do [[ ${order[i]} == "${order[i - 3]}" ]] || ok=0; done
[[ "$(printf '%s\n' "${order[@]:0:3}" | sort -u | wc -l)" == 3 ]] || ok=0
check "ROUND_ROBIN cycles over all three backends in a fixed order" test $ok -eq 1
# Round robin across connections too (one request per connection).
declare -A seen=()
for i in 1 2 3 4 5 6; do seen[$(where x /rr/c$i)]+=x; done
check "ROUND_ROBIN over 6 connections: each backend twice (${!seen[*]})" \
  test "${seen[n1:8080]:-}" == xx -a "${seen[n2:8080]:-}" == xx -a "${seen[n3:8080]:-}" == xx

for policy in p2:POWER_OF_TWO rand:RANDOM; do
  out=$(backends "/${policy%%:*}/" 60)
  c1=$(count n1 <<<"$out") c2=$(count n2 <<<"$out") c3=$(count n3 <<<"$out")
  check "${policy#*:}: 60 requests reach every backend (n1=$c1 n2=$c2 n3=$c3)" \
    test "$c1" -gt 0 -a "$c2" -gt 0 -a "$c3" -gt 0 -a $((c1 + c2 + c3)) -eq 60
done

log "--- LEAST_CONNECTIONS (python backends p1, p2)"
# One slow request holds a connection to one backend; the requests made
# meanwhile must all go to the other one.
CURL_MAX_TIME=10 pcurl -o "$WORK/lc-slow.json" "http://$VIP/lc/slow?ms=2500" &
slow_pid=$!
PIDS+=($slow_pid)
sleep 0.5
busy=$(admin /stats | "$PYTHON" -c '
import json, sys
for e in json.load(sys.stdin)["endpoints"]:
    if e["pool"] == "lc" and e["active_connections"] > 0: print(e["address"])')
lc_out=""
for i in 1 2 3 4 5 6; do
  lc_out+=$(pcurl -D - -o /dev/null "http://$VIP/lc/q$i" | tr -d '\r' | sed -n 's/^X-Backend: //p')" "
done
wait "$slow_pid"
slow_backend=$(sed -n 's/^slow \([a-z0-9]*\) .*/\1/p' "$WORK/lc-slow.json")
log "slow request on $slow_backend ($busy); requests meanwhile: $lc_out"
other=p1; [[ $slow_backend == p1 ]] && other=p2
check "LEAST_CONNECTIONS: 6 requests while $slow_backend is busy all go to $other" \
  test "$lc_out" == "$other $other $other $other $other $other "
lc_after=$(for i in 1 2 3 4 5 6; do
  pcurl -D - -o /dev/null "http://$VIP/lc/z$i" | tr -d '\r' | sed -n 's/^X-Backend: //p'; done | sort -u | tr '\n' ' ')
check "LEAST_CONNECTIONS: p1 and p2 both reached (slow on $slow_backend, others: $lc_out$lc_after)" \
  bash -c "[[ '$slow_backend $lc_out $lc_after' == *p1* && '$slow_backend $lc_out $lc_after' == *p2* ]]"

log "--- MAGLEV and RING_HASH by client address ($NCLIENTS source addresses)"
for pool in mag ring; do
  declare -A pick=()
  stable=1 xff_ok=1
  for ((c = 0; c < NCLIENTS; c++)); do
    ip=$(client_ip $c)
    got=$(CURL_MAX_TIME=10 pcurl --interface "$ip" "http://$VIP/$pool/[1-5]" |
      sed -nE 's/^backend=([a-z0-9]+) .* xff=([0-9.]+) .*/\1 \2/p')
    names=$(awk '{print $1}' <<<"$got" | sort -u)
    [[ $(wc -l <<<"$names") -eq 1 && $(wc -l <<<"$got") -eq 5 ]] || stable=0
    [[ $(awk '{print $2}' <<<"$got" | sort -u) == "$ip" ]] || xff_ok=0
    # and again on a new connection
    again=$(pcurl --interface "$ip" "http://$VIP/$pool/again" | sed -nE 's/^backend=([a-z0-9]+) .*/\1/p')
    [[ $again == "$names" ]] || stable=0
    pick[$ip]=$names
  done
  distinct=$(printf '%s\n' "${pick[@]}" | sort -u | wc -l)
  log "$pool: $(for ip in "${!pick[@]}"; do printf '%s->%s ' "${ip##*.}" "${pick[$ip]}"; done)"
  check "$pool: every client address always gets the same backend (6 requests, 2 connections)" test $stable -eq 1
  check "$pool: the backend saw each client's own address in X-Forwarded-For" test $xff_ok -eq 1
  check "$pool: $NCLIENTS client addresses spread over $distinct backends (want >= 2)" test "$distinct" -ge 2
  unset pick
done
hstable=1
declare -A hpick=()
for user in alice bob carol dave erin frank grace heidi; do
  got=$(CURL_MAX_TIME=10 pcurl -H "x-user: $user" "http://$VIP/maghdr/[1-4]" |
    sed -nE 's/^backend=([a-z0-9]+) .*/\1/p' | sort -u)
  [[ $(wc -l <<<"$got") -eq 1 ]] || hstable=0
  hpick[$user]=$got
done
check "MAGLEV by header x-user: stable per value" test $hstable -eq 1
check "MAGLEV by header x-user: 8 values spread over >= 2 backends" \
  test "$(printf '%s\n' "${hpick[@]}" | sort -u | wc -l)" -ge 2

log "--- weights"
out=$(backends /wrr/ 40)
c1=$(count n1 <<<"$out") c2=$(count n2 <<<"$out") c3=$(count n3 <<<"$out")
check "ROUND_ROBIN weights 1:3:0 over 40 requests: n1=$c1 (want 9..11) n2=$c2 (want 29..31) n3=$c3 (want 0)" \
  test "$c1" -ge 9 -a "$c1" -le 11 -a "$c2" -ge 29 -a "$c2" -le 31 -a "$c3" -eq 0
out=$(backends /wrand/ 200)
c1=$(count n1 <<<"$out") c2=$(count n2 <<<"$out") c3=$(count n3 <<<"$out")
# Binomial(200, 0.75): mean 150, sd 6.1; 120..180 is 5 sd.
check "RANDOM weights 1:3:0 over 200 requests: n2=$c2 (want 120..180), n1=$c1, n3=$c3 (want 0)" \
  test "$c2" -ge 120 -a "$c2" -le 180 -a "$c3" -eq 0 -a $((c1 + c2)) -eq 200
out=$(CURL_MAX_TIME=30 pcurl "http://$VIP/split/[1-200]" | sed -nE 's/^backend=([a-z0-9]+) port=([0-9]+).*/\1:\2/p')
a=$(count n1:8083 <<<"$out") b=$(count n2:8083 <<<"$out")
check "weighted pools 1:3 over 200 requests: split-b=$b (want 120..180), split-a=$a" \
  test "$b" -ge 120 -a "$b" -le 180 -a $((a + b)) -eq 200

log "--- health checks: a backend killed mid-run is ejected, then comes back"
check "pool hc: n1..n3 healthy" wait_healthy 15 hc "$N1:8084" "$N2:8084" "$N3:8084"
# One GET per new connection every 50 ms (at most 1200 requests or 45 s,
# stopped earlier through the stop file).
inp "$PYTHON" "$E2E_DIR/client.py" loop "$VIP" 80 /hc/x "$WORK/loop.stop" 1200 45 50 \
  >"$WORK/loop.out" 2>"$WORK/loop.err" &
loop_pid=$!
PIDS+=($loop_pid)
sleep 3
t_kill=$(date +%s.%N)
stop_nginx n3
log "n3 stopped"
check "health checks mark n3 unhealthy within 10 s" wait_health 10 unhealthy hc "$N3:8084"
t_out=$(date +%s.%N)
log "n3 unhealthy $(awk -v a="$t_kill" -v b="$t_out" 'BEGIN {printf "%.1f", b - a}') s after it was stopped"
sleep 4
start_nginx n3 "$N3"
t_start=$(date +%s.%N)
check "n3 healthy again within 15 s of its restart" wait_healthy 15 hc "$N3:8084"
t_back=$(date +%s.%N)
sleep 4
touch "$WORK/loop.stop"
wait "$loop_pid"
total=$(wc -l <"$WORK/loop.out")
errors=$(awk '$2 != 200' "$WORK/loop.out" | wc -l)
log "loop: $total requests, $errors not 200: $(awk '$2 != 200 {print $2, $3}' "$WORK/loop.out" | sort | uniq -c | tr '\n' ';')"
# In flight when nginx stopped, or sent on a kept-alive connection it had
# just closed: at most a few; connection failures are retried (CONNECT_FAILURE).
check "traffic continued: $total requests (want >= 100), $errors not 200 (want <= 3)" \
  test "$total" -ge 100 -a "$errors" -le 3
during=$(awk -v a="$t_out" -v b="$t_start" '$1 > a + 0.3 && $1 < b && $3 ~ /^n3/' "$WORK/loop.out" | wc -l)
n_during=$(awk -v a="$t_out" -v b="$t_start" '$1 > a + 0.3 && $1 < b' "$WORK/loop.out" | wc -l)
check "while n3 was out: $n_during requests, none to n3 ($during)" test "$n_during" -ge 10 -a "$during" -eq 0
after=$(awk -v a="$t_back" '$1 > a + 0.3 {print $3}' "$WORK/loop.out" | sort | uniq -c | tr '\n' ' ')
n3_after=$(awk -v a="$t_back" '$1 > a + 0.3 && $3 ~ /^n3/' "$WORK/loop.out" | wc -l)
check "after n3 is healthy again it takes traffic again ($after)" test "$n3_after" -ge 5
before=$(awk -v a="$t_kill" '$1 < a {print $3}' "$WORK/loop.out" | sort | uniq -c | tr '\n' ' ')
check "before the kill round robin spread requests over n1..n3 ($before)" \
  bash -c "[[ '$before' == *n1:8084* && '$before' == *n2:8084* && '$before' == *n3:8084* ]]"

e2e_finish
