#!/usr/bin/env bash
# HTTP/1.1 features through proxyd: client and upstream keep-alive,
# pipelining, Content-Length and chunked bodies both ways (sha256), HEAD,
# Expect: 100-continue, malformed requests (right status, closed, never
# forwarded), X-Forwarded-For/Via, 404/502/503, WebSocket.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_DEADLINE=240 e2e_init http
e2e_topology
N1=${NGINX_IPS[0]} N2=${NGINX_IPS[1]} P1=${PY_IPS[0]} P2=${PY_IPS[1]}
start_nginx n1 "$N1"
start_nginx n2 "$N2"
start_py p1 "$P1" 9000
start_py p2 "$P2" 9000
# Routes: /py/ -> p1 (python), /n/ -> nginx n1+n2, /gone/ -> p2 without
# health checks (502 once p2 is killed), /hc/ -> p2 with health checks
# (503 once they mark it down), /dead/ -> a port nobody listens on (502).
# Nothing else matches (404).
cat >"$WORK/http.yaml" <<EOF
listeners:
  - {name: web, port: 80, route_table: main}
  # the same routes with an explicit body limit of 16 MiB
  - {name: big, port: 8080, route_table: main, limits: {max_request_body_bytes: 16777216}}
route_tables:
  - name: main
    routes:
      - {name: py, match: {prefix: /py/}, action: {weighted_pools: [{pool: py}]}}
      - {name: gone, match: {prefix: /gone/}, action: {weighted_pools: [{pool: gone}]}}
      - {name: hc, match: {prefix: /hc/}, action: {weighted_pools: [{pool: hc}]}}
      - {name: dead, match: {prefix: /dead/}, action: {weighted_pools: [{pool: dead}]}}
      - {name: web, match: {prefix: /n/}, action: {weighted_pools: [{pool: web}]}}
pools:
  - name: web
    endpoints: [{address: $N1, port: 8080}, {address: $N2, port: 8080}]
  - name: py
    endpoints: [{address: $P1, port: 9000}]
    keepalive: {max_idle_per_core: 4}
  - name: gone
    endpoints: [{address: $P2, port: 9000}]
  - name: hc
    endpoints: [{address: $P2, port: 9000}]
    health_check: {http: {path: /healthz}, interval: 1s, timeout: 0.5s, rise: 1, fall: 1}
  - name: dead
    endpoints: [{address: $P2, port: 9999}]
    connect_timeout: 2s
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
pcurl -v "http://$VIP/n/ka/1" "http://$VIP/n/ka/2" "http://$VIP/n/ka/3" >"$WORK/ka.out" 2>"$WORK/ka.err"
a1=$(accepted)
check "curl reuses its connection for 3 requests (\"Re-using existing connection\" twice)" \
  test "$(grep -c 'Re-using existing connection' "$WORK/ka.err")" -eq 2
check "3 answers from backends: $(grep -c '^backend=' "$WORK/ka.out")" \
  test "$(grep -c '^backend=' "$WORK/ka.out")" -eq 3
check "the proxy accepted 1 connection for them (accepted $a0 -> $a1)" test $((a1 - a0)) -eq 1

# wrk with keep-alive: 4 connections, 3 s.
a0=$(accepted)
inp timeout 20 wrk -t1 -c4 -d3s "http://$VIP/n/wrk" >"$WORK/wrk-ka.txt" 2>&1
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
$CLIENT pipeline "$VIP" 80 /n/pipe/1 /n/pipe/2 /n/pipe/3 >"$WORK/pipe.out" 2>&1
cat "$WORK/pipe.out"
check "three pipelined GETs in one write: three ordered answers, then close" \
  test "$(awk '$1 == 200 {print $3}' "$WORK/pipe.out" | tr '\n' ' ')" == "/n/pipe/1 /n/pipe/2 /n/pipe/3 " -a \
  "$(tail -1 "$WORK/pipe.out")" == EOF
$CLIENT pipeline "$VIP" 80 /py/p1 POST:/py/echo /n/pipe/3 /py/p4 >"$WORK/pipe2.out" 2>&1
cat "$WORK/pipe2.out"
check "pipelined GET, POST with body, GET to another pool, GET: four ordered answers" \
  test "$(sed -E 's/n[12]:8080/nX/' "$WORK/pipe2.out" | tr '\n' '|')" == \
  "200 p1 /py/p1 GET length=0|200 p1 /py/echo POST length=6|200 nX /n/pipe/3|200 p1 /py/p4 GET length=0|EOF|"

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
check "default listener (effective limit $eff = unlimited): chunked PUT of 1 MiB + 1 arrives intact ($got)" \
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
# (listener big: 16 MiB limit)
printf 'POST /py/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\nExpect: 100-continue\r\n\r\n' |
  inp timeout 10 nc -q 2 "$VIP" 8080 >"$WORK/e100-413.out" 2>&1
check "Expect: 100-continue over the body limit: 413 without 100 Continue ($(head -1 "$WORK/e100-413.out" | tr -d '\r'))" \
  bash -c "head -1 '$WORK/e100-413.out' | grep -q '^HTTP/1.1 413' && ! grep -q ' 100 ' '$WORK/e100-413.out'"

log "--- GET/POST bodies both ways (Content-Length and chunked), sha256"
sha() { sha256sum "$1" | cut -d' ' -f1; }
head -c 300001 /dev/urandom >"$WORK/mid.bin"
CURL_MAX_TIME=20 pcurl -X GET --data-binary @"$WORK/mid.bin" -H 'Expect:' \
  "http://$VIP/py/echo" >"$WORK/get-body.json"
got=$(json_field "$WORK/get-body.json")
check "GET with a 300001-byte Content-Length body: the backend got it intact ($got)" \
  test "$got" == "$(sha "$WORK/mid.bin") 300001 GET"
CURL_MAX_TIME=20 pcurl --data-binary @"$WORK/mid.bin" -H 'Expect:' -D "$WORK/post-cl.hdr" \
  "http://$VIP/py/echo-raw" >"$WORK/post-cl.out"
check "POST Content-Length 300001 -> Content-Length response: sha256 equal" \
  test "$(sha "$WORK/post-cl.out")" == "$(sha "$WORK/mid.bin")"
CURL_MAX_TIME=20 pcurl --data-binary @"$WORK/mid.bin" -H 'Expect:' -D "$WORK/post-ch.hdr" \
  "http://$VIP/py/echo-chunked" >"$WORK/post-ch.out"
check "POST Content-Length 300001 -> chunked response (chunks of 1..100000 bytes): sha256 equal" \
  test "$(sha "$WORK/post-ch.out")" == "$(sha "$WORK/mid.bin")"
check "the chunked response reaches the client chunked (Transfer-Encoding: chunked)" \
  grep -qi '^Transfer-Encoding: chunked' "$WORK/post-ch.hdr"
CURL_MAX_TIME=20 pcurl -X POST -T - -H "Transfer-Encoding: chunked" \
  "http://$VIP/py/echo-chunked" <"$WORK/mid.bin" >"$WORK/post-chch.out"
check "chunked POST -> chunked response: sha256 equal" \
  test "$(sha "$WORK/post-chch.out")" == "$(sha "$WORK/mid.bin")"
pcurl -X POST -H 'Content-Length: 0' "http://$VIP/py/echo-chunked" >"$WORK/empty.out"
check "POST with an empty body -> empty chunked response" test ! -s "$WORK/empty.out"

log "--- HEAD"
pcurl -sS -I "http://$VIP/py/echo-raw" --next -sS "http://$VIP/n/after-head" \
  >"$WORK/head.out" 2>&1
cat "$WORK/head.out"
check "HEAD: 200 and no body; the next request on the same connection is answered" \
  bash -c "head -1 '$WORK/head.out' | grep -q '^HTTP/1.1 200' && grep -q '^backend=n[12] port=8080 uri=/n/after-head ' '$WORK/head.out'"
$CLIENT pipeline "$VIP" 80 HEAD:/py/h1 /py/h2 HEAD:/py/echo-chunked /n/h4 >"$WORK/pipe-head.out" 2>&1
cat "$WORK/pipe-head.out"
check "pipelined HEAD, GET, HEAD of a chunked resource, GET: four answers in order, HEADs without body" \
  test "$(awk '{print $1, $3}' "$WORK/pipe-head.out" | sed -E 's/content-length=[0-9]+/CL/' | tr '\n' '|')" == \
  "200 HEAD|200 /py/h2|200 HEAD|200 /n/h4|EOF |"

log "--- malformed requests: the right 4xx/5xx, connection closed, never forwarded"
# raw_req NAME WANT PRINTF-FORMAT: sends the bytes on a fresh connection.
# The path of every request carries the marker /py/bad-NAME; the backend logs
# every request line it receives, so the marker must never appear there.
raw_req() {
  local name=$1 want=$2 fmt=$3 hex out
  out=$(printf "$fmt" | od -An -v -tx1 | tr -d ' \n' | $CLIENT raw "$VIP" 80 - 2>&1 | tr '\n' ' ')
  check "$name: want '$want closed', got '$out'" test "$out" == "$want closed "
}
raw_req badheader 400 'GET /py/bad-badheader HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n'
raw_req spacecolon 400 'GET /py/bad-spacecolon HTTP/1.1\r\nHost : x\r\n\r\n'
raw_req cl-te 400 'POST /py/bad-cl-te HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
raw_req two-cl 400 'POST /py/bad-two-cl HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'
raw_req bad-cl 400 'POST /py/bad-bad-cl HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello'
raw_req no-host 400 'GET /py/bad-no-host HTTP/1.1\r\n\r\n'
raw_req two-host 400 'GET /py/bad-two-host HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'
raw_req bare-lf 400 'GET /py/bad-bare-lf HTTP/1.1\nHost: x\n\n'
raw_req obs-fold 400 'GET /py/bad-obs-fold HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n'
# chunked not last: the length cannot be known, 400 (RFC 9112 §6.3); a
# coding the proxy does not implement before chunked: 501 (§6.1).
raw_req te-gzip 400 'POST /py/bad-te-gzip HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n'
raw_req te-gzip-chunked 501 'POST /py/bad-te-gzip-chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'
raw_req version 505 'GET /py/bad-version HTTP/2.7\r\nHost: x\r\n\r\n'
big=$(head -c 70000 /dev/zero | tr '\0' a)
raw_req big-header 431 "GET /py/bad-big-header HTTP/1.1\\r\\nHost: x\\r\\nX-Big: $big\\r\\n\\r\\n"
sleep 0.5
check "no malformed request reached the backend (no /py/bad- in its log)" \
  bash -c "! grep -q '/py/bad-' '$WORK/py-p1.log'"
bad=$(admin /metrics | awk '/^locus_bad_requests_total/ {s += $NF} END {print s + 0}')
log "proxy locus_bad_requests_total: ${bad:-?}"
check "the proxy counted them as bad requests (${bad:-?} >= 13)" test "${bad:-0}" -ge 13

log "--- X-Forwarded-For and Via"
pcurl -D "$WORK/xff.hdr" "http://$VIP/py/echo" >"$WORK/xff.json"
hdr() { "$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["headers"].get(sys.argv[2], "-"))' "$1" "$2"; }
check "the backend sees X-Forwarded-For: $HOST_IP ($(hdr "$WORK/xff.json" x-forwarded-for))" \
  test "$(hdr "$WORK/xff.json" x-forwarded-for)" == "$HOST_IP"
check "the backend sees Via: 1.1 locus ($(hdr "$WORK/xff.json" via))" \
  test "$(hdr "$WORK/xff.json" via)" == "1.1 locus"
check "the client sees Via: 1.1 locus on the response" grep -qi '^Via: 1.1 locus' "$WORK/xff.hdr"
pcurl -H 'X-Forwarded-For: 192.0.2.7' -H 'Via: 1.0 edge' "http://$VIP/py/echo" >"$WORK/xff2.json"
check "an incoming X-Forwarded-For is appended to ($(hdr "$WORK/xff2.json" x-forwarded-for))" \
  test "$(hdr "$WORK/xff2.json" x-forwarded-for)" == "192.0.2.7, $HOST_IP"
check "an incoming Via is appended to ($(hdr "$WORK/xff2.json" via))" \
  test "$(hdr "$WORK/xff2.json" via)" == "1.0 edge, 1.1 locus"

log "--- 404 for no route, 502/503 when backends are down"
code() { pcurl -o /dev/null -w '%{http_code}' "$@"; }
pcurl -v "http://$VIP/nothing/here" "http://$VIP/n/after-404" >"$WORK/404.out" 2>"$WORK/404.err"
check "no route: 404 ($(grep -m1 '^< HTTP' "$WORK/404.err" | tr -d '\r'))" grep -q '^< HTTP/1.1 404' "$WORK/404.err"
check "after a 404 the connection is kept and the next request is answered" \
  bash -c "grep -q 'Re-using existing connection' '$WORK/404.err' && grep -q '^backend=n[12] .*uri=/n/after-404 ' '$WORK/404.out'"
check "/gone/ answers 200 while p2 runs" test "$(code "http://$VIP/gone/x")" == 200
check "/hc/ answers 200 while p2 runs" test "$(code "http://$VIP/hc/x")" == 200
check "/dead/ (connection refused): 502" test "$(code "http://$VIP/dead/x")" == 502
kill "$PY_PID_p2"; wait "$PY_PID_p2" 2>/dev/null
log "p2 killed"
check "/gone/ (no health checks) after p2 is killed: 502" test "$(code "http://$VIP/gone/x")" == 502
check "health checks mark p2 in pool hc unhealthy within 10 s" wait_health 10 unhealthy hc "$P2:9000"
check "/hc/ with its only endpoint unhealthy: 503" test "$(code "http://$VIP/hc/x")" == 503
check "the access log names why: no_route, upstream_connect_failure, no_healthy_upstream" \
  bash -c "sleep 1.5; grep -q '\"no_route\"' '$WORK/access.log' && grep -q '\"upstream_connect_failure\"' '$WORK/access.log' && grep -q '\"no_healthy_upstream\"' '$WORK/access.log'"
check "the proxy still serves other routes" test "$(code "http://$VIP/n/still")" == 200

log "--- WebSocket"
$CLIENT websocket "$VIP" 80 /py/ws >"$WORK/ws.out" 2>&1
rc=$?
cat "$WORK/ws.out"
check "WebSocket, backend greets first: 101 with the right accept key, greeting, text/70000-byte binary/ping echoed, close handshake" \
  test $rc -eq 0
$CLIENT websocket "$VIP" 80 /py/ws-quiet >"$WORK/ws-quiet.out" 2>&1
rc=$?
cat "$WORK/ws-quiet.out"
check "WebSocket, client speaks first: text/70000-byte binary/ping echoed, close handshake" \
  test $rc -eq 0

e2e_finish
