#!/usr/bin/env bash
# HTTP/1.1 features through proxyd: client and upstream keep-alive,
# pipelining, chunked uploads, large bodies, Expect: 100-continue, WebSocket.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_DEADLINE=200 e2e_init http
e2e_topology
N1=${NGINX_IPS[0]} N2=${NGINX_IPS[1]} P1=${PY_IPS[0]}
start_nginx n1 "$N1"
start_nginx n2 "$N2"
start_py p1 "$P1" 9000
cat >"$WORK/http.yaml" <<EOF
listeners:
  - {name: web, port: 80, route_table: main}
  # the same routes with an explicit body limit of 16 MiB
  - {name: big, port: 8080, route_table: main, limits: {max_request_body_bytes: 16777216}}
route_tables:
  - name: main
    routes:
      - {name: py, match: {prefix: /py/}, action: {weighted_pools: [{pool: py}]}}
      - {name: web, match: {prefix: /}, action: {weighted_pools: [{pool: web}]}}
pools:
  - name: web
    endpoints: [{address: $N1, port: 8080}, {address: $N2, port: 8080}]
  - name: py
    endpoints: [{address: $P1, port: 9000}]
    keepalive: {max_idle_per_core: 4}
EOF
start_proxyd --config="$WORK/http.yaml"
CLIENT="inp $PYTHON $E2E_DIR/client.py"

accepted() {  # client connections accepted, all cores

  ctl stats -o json | "$PYTHON" -c '
import json, sys
print(sum(int(c.get("connectionsAccepted", 0)) for c in json.load(sys.stdin)["cores"]))'
}

log "--- client keep-alive"
a0=$(accepted)
pcurl -v "http://$VIP/ka/1" "http://$VIP/ka/2" "http://$VIP/ka/3" >"$WORK/ka.out" 2>"$WORK/ka.err"
a1=$(accepted)
check "curl reuses its connection for 3 requests (\"Re-using existing connection\" twice)" \
  test "$(grep -c 'Re-using existing connection' "$WORK/ka.err")" -eq 2
check "3 answers from backends: $(grep -c '^backend=' "$WORK/ka.out")" \
  test "$(grep -c '^backend=' "$WORK/ka.out")" -eq 3
check "the proxy accepted 1 connection for them (accepted $a0 -> $a1)" test $((a1 - a0)) -eq 1

# wrk with keep-alive: 4 connections, 3 s.
a0=$(accepted)
inp timeout 20 wrk -t1 -c4 -d3s "http://$VIP/wrk" >"$WORK/wrk-ka.txt" 2>&1
a1=$(accepted)
cat "$WORK/wrk-ka.txt"
reqs=$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' "$WORK/wrk-ka.txt")
non2xx=$(sed -nE 's/^ *Non-2xx or 3xx responses: ([0-9]+)/\1/p' "$WORK/wrk-ka.txt")
sockerr=$(grep -c 'Socket errors' "$WORK/wrk-ka.txt")
log "wrk keep-alive: ${reqs:-?} requests over $((a1 - a0)) connections"
check "wrk -c4 -d3s: ${reqs:-0} requests (want > 1000), no non-2xx (${non2xx:-0}), no socket errors" \
  test "${reqs:-0}" -gt 1000 -a "${non2xx:-0}" -eq 0 -a "$sockerr" -eq 0
check "wrk kept its 4 connections (accepted $((a1 - a0)), want <= 8)" test $((a1 - a0)) -le 8

log "--- upstream keep-alive"
r1=$(pcurl -D - -o /dev/null "http://$VIP/py/a" | tr -d '\r' | sed -n 's/^X-Conn-Request: //p')
r2=$(pcurl -D - -o /dev/null "http://$VIP/py/b" | tr -d '\r' | sed -n 's/^X-Conn-Request: //p')
check "two client connections share one backend connection (X-Conn-Request $r1 then $r2)" \
  test "${r2:-0}" -eq $((${r1:-0} + 1))

log "--- pipelining"
$CLIENT pipeline "$VIP" 80 /pipe/1 /pipe/2 /pipe/3 >"$WORK/pipe.out" 2>&1
cat "$WORK/pipe.out"
check "three pipelined GETs in one write: three ordered answers, then close" \
  test "$(awk '$1 == 200 {print $3}' "$WORK/pipe.out" | tr '\n' ' ')" == "/pipe/1 /pipe/2 /pipe/3 " -a \
  "$(tail -1 "$WORK/pipe.out")" == EOF
$CLIENT pipeline "$VIP" 80 /py/p1 POST:/py/echo /pipe/3 /py/p4 >"$WORK/pipe2.out" 2>&1
cat "$WORK/pipe2.out"
check "pipelined GET, POST with body, GET to another pool, GET: four ordered answers" \
  test "$(sed -E 's/n[12]:8080/nX/' "$WORK/pipe2.out" | tr '\n' '|')" == \
  "200 p1 /py/p1 GET length=0|200 p1 /py/echo POST length=6|200 nX /pipe/3|200 p1 /py/p4 GET length=0|EOF|"

log "--- chunked upload and large bodies"
json_field() {  # json_field FILE: "sha256 length method" of a backend.py answer
  "$PYTHON" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["sha256"], j["length"], j["method"])' \
    "$1" 2>/dev/null || echo "not JSON: $(head -c 100 "$1")"
}
head -c 1048577 /dev/urandom >"$WORK/up.bin"
want=$(sha256sum "$WORK/up.bin" | cut -d' ' -f1)
head -c 5000000 /dev/urandom >"$WORK/big.bin"
# Port 8080: max_request_body_bytes 16 MiB set explicitly.
CURL_MAX_TIME=20 pcurl -T - -H "Transfer-Encoding: chunked" "http://$VIP:8080/py/echo" \
  <"$WORK/up.bin" >"$WORK/chunked.json"
got=$(json_field "$WORK/chunked.json")
check "chunked PUT of 1 MiB + 1 byte arrives intact ($got)" test "$got" == "$want 1048577 PUT"
CURL_MAX_TIME=20 pcurl -T - -H "Transfer-Encoding: chunked" "http://$VIP:8080/py/echo-raw" \
  <"$WORK/up.bin" >"$WORK/echoed.bin"
check "chunked upload echoed back byte for byte (1 MiB + 1)" cmp -s "$WORK/up.bin" "$WORK/echoed.bin"
printf 'abc' | CURL_MAX_TIME=5 pcurl -T - -H "Transfer-Encoding: chunked" "http://$VIP:8080/py/echo" >"$WORK/small-chunked.json"
got=$(json_field "$WORK/small-chunked.json")
check "small chunked PUT ($got)" test "$got" == "$(printf abc | sha256sum | cut -d' ' -f1) 3 PUT"
CURL_MAX_TIME=20 pcurl --data-binary @"$WORK/big.bin" -H 'Expect:' "http://$VIP:8080/py/echo-raw" >"$WORK/big.out"
check "5 MB Content-Length POST echoed back byte for byte" cmp -s "$WORK/big.bin" "$WORK/big.out"
# Port 80: no limits set. config.proto: max_request_body_bytes "Default 0 =
# unlimited", and the effective config says 0.
eff=$(ctl get config -o json | "$PYTHON" -c '
import json, sys
for l in json.load(sys.stdin)["listeners"]:
    if l["name"] == "web": print(l.get("limits", {}).get("maxRequestBodyBytes", "0"))')
log "effective max_request_body_bytes of listener web: $eff"
CURL_MAX_TIME=20 pcurl -T - -H "Transfer-Encoding: chunked" "http://$VIP/py/echo" \
  <"$WORK/up.bin" >"$WORK/chunked80.json"
got=$(json_field "$WORK/chunked80.json")
check_bug BODY-LIMIT "default listener (effective limit $eff = unlimited): chunked PUT of 1 MiB + 1 arrives intact ($got)" \
  test "$got" == "$want 1048577 PUT"

log "--- Expect: 100-continue"
inp curl -sS -v --expect100-timeout 10 --max-time 20 \
  -H 'Expect: 100-continue' --data-binary @"$WORK/up.bin" "http://$VIP:8080/py/echo" \
  >"$WORK/e100.json" 2>"$WORK/e100.err"
check "curl with Expect: 100-continue gets \"HTTP/1.1 100 Continue\"" grep -q '< HTTP/1.1 100 Continue' "$WORK/e100.err"
got=$(json_field "$WORK/e100.json")
check "and its body arrives intact ($got)" test "$got" == "$want 1048577 POST"
$CLIENT expect100 "$VIP" 80 /py/echo >"$WORK/e100raw.out" 2>&1
rc=$?
cat "$WORK/e100raw.out"
check "raw client: 100 Continue arrives before any body byte is sent, then 200 with the body intact" test $rc -eq 0
# Over the limit: a final 413 instead of 100 Continue, and the body is not read.
printf 'POST /py/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n' |
  inp timeout 10 nc -q 2 "$VIP" 80 >"$WORK/e100-413.out" 2>&1
check "Expect: 100-continue over the body limit: 413 without 100 Continue ($(head -1 "$WORK/e100-413.out" | tr -d '\r'))" \
  bash -c "head -1 '$WORK/e100-413.out' | grep -q '^HTTP/1.1 413' && ! grep -q ' 100 ' '$WORK/e100-413.out'"

log "--- WebSocket"
$CLIENT websocket "$VIP" 80 /py/ws >"$WORK/ws.out" 2>&1
rc=$?
cat "$WORK/ws.out"
check "WebSocket, backend greets first: 101 with the right accept key, greeting, text/70000-byte binary/ping echoed, close handshake" \
  test $rc -eq 0
$CLIENT websocket "$VIP" 80 /py/ws-quiet >"$WORK/ws-quiet.out" 2>&1
rc=$?
cat "$WORK/ws-quiet.out"
check_bug WS-CLIENT-FIRST "WebSocket, client speaks first: text/70000-byte binary/ping echoed, close handshake" \
  test $rc -eq 0

e2e_finish
