#!/usr/bin/env bash
# TLS termination end to end: certificates made with the openssl CLI at test
# time (a test CA; ECDSA P-256, RSA-2048, wildcard and default leaves),
# inline in the listeners of a config applied through proxyctl. openssl
# s_client and curl over TLS 1.2 and 1.3 get 200 from the backends; SNI
# picks the right certificate (and an unknown name fails on a listener
# without default_certificate); sessions resume over 1.2 and 1.3; TLS 1.0
# and 1.1 (really offered: a local openssl s_server accepts the same
# client) are refused and counted; garbage and a malformed ClientHello are
# closed and counted and proxyd keeps serving; a key that does not match is
# refused at apply time without echoing the key; a certificate rotated 4
# times under wrk load over HTTPS loses no request; ALPN h2-only is refused;
# big bodies, pipelining and one-byte segments and records work over TLS.
E2E_SUBNET=10.79.0   # a /24 of its own (the other e2e_proxy tests use 10.78.0)
E2E_TAP=lpxtls
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_DEADLINE=240 e2e_init tls
for t in openssl mount; do command -v "$t" >/dev/null || die "$t is not installed"; done
e2e_topology
N1=${NGINX_IPS[0]} N2=${NGINX_IPS[1]} P1=${PY_IPS[0]}
start_nginx n1 "$N1"
start_nginx n2 "$N2"
start_py p1 "$P1" 9000

# wrk takes its TLS server name from the URL's host: the test names resolve
# to the proxy through a hosts file bind-mounted over /etc/hosts in the
# test's own mount namespace (lib.sh made it private; nothing outside sees it).
printf '127.0.0.1 localhost\n%s a.example.test b.example.test x.wild.example.test\n' "$VIP" >"$WORK/hosts"
mount --bind "$WORK/hosts" /etc/hosts || die "cannot bind-mount a hosts file"

# ---------------------------------------------------------------- certificates
C=$WORK/certs
mkdir -p "$C"
EC="-newkey ec -pkeyopt ec_paramgen_curve:P-256"
RSA="-newkey rsa:2048"
ossl() { timeout 30 openssl "$@" 2>>"$C/openssl.log"; }
ossl req -x509 -new $EC -nodes -keyout "$C/ca.key" -out "$C/ca.pem" -days 30 \
  -subj "/CN=Locus e2e test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null || die "test CA: $(cat "$C/openssl.log")"
# leaf NAME KEYSPEC DNSNAME: $C/NAME.key and $C/NAME.pem (leaf, then the CA).
leaf() {
  local n=$1 spec=$2 dns=$3
  ossl req -new $spec -nodes -keyout "$C/$n.key" -out "$C/$n.csr" -subj "/CN=$dns" >/dev/null &&
    printf '%s\n' "subjectAltName=DNS:$dns" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$C/$n.ext" &&
    ossl x509 -req -in "$C/$n.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
      -days 60 -sha256 -extfile "$C/$n.ext" -out "$C/$n.leaf" >/dev/null &&
    cat "$C/$n.leaf" "$C/ca.pem" >"$C/$n.pem" || die "certificate $n: $(cat "$C/openssl.log")"
}
leaf a "$EC" a.example.test
leaf b "$RSA" b.example.test
leaf wild "$EC" '*.wild.example.test'
leaf dflt "$EC" default.example.test
for i in 1 2 3 4; do leaf "a$i" "$EC" a.example.test; done   # rotations of a
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/other.key" || die "other key"
fp_of() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//'; }
for n in a b wild dflt a1 a2 a3 a4; do eval "FP_$n=$(fp_of "$C/$n.leaf")"; done
log "certificates made: a (ECDSA P-256) $FP_a, b (RSA-2048) $FP_b, wild $FP_wild, dflt $FP_dflt"

# ---------------------------------------------------------------- config
# config OUT A_CERT A_KEY: the whole config (JSON), certificate "a" of the
# listener tls from the given files. Listeners: web :80 (plain), tls :443
# (a, b, wild, dflt; default dflt), strict :8443 (a only, no default
# certificate, TLS 1.3 only). Routes: /py/ -> python (echoes the request
# headers), the rest -> nginx n1 and n2.
config() {
  "$PYTHON" - "$C" "$@" <<'PY'
import json, sys
d, out, acert, akey = sys.argv[1:5]
def pem(path): return open(path).read()
def cert(name, c, k): return {"name": name, "cert_chain_pem": pem(c), "private_key_pem": pem(k)}
a = cert("a", acert, akey)
named = lambda n: cert(n, "%s/%s.pem" % (d, n), "%s/%s.key" % (d, n))
cfg = {
  "listeners": [
    {"name": "web", "port": 80, "route_table": "main"},
    {"name": "tls", "port": 443, "route_table": "main",
     "tls": {"certificates": [a, named("b"), named("wild"), named("dflt")],
             "default_certificate": "dflt"}},
    {"name": "strict", "port": 8443, "route_table": "main",
     "tls": {"certificates": [a], "min_version": "TLS1_3"}},
  ],
  "route_tables": [{"name": "main", "routes": [
    {"name": "py", "match": {"prefix": "/py/"}, "action": {"weighted_pools": [{"pool": "py"}]}},
    {"name": "all", "match": {"prefix": "/"}, "action": {"weighted_pools": [{"pool": "web"}]}},
  ]}],
  "pools": [
    {"name": "web", "endpoints": [{"address": sys.argv[5], "port": 8080}, {"address": sys.argv[6], "port": 8080}],
     "keepalive": {"max_idle_per_core": 32}},
    {"name": "py", "endpoints": [{"address": sys.argv[7], "port": 9000}]},
  ],
}
json.dump(cfg, open(out, "w"), indent=1)
PY
}
cfg() { config "$1" "$2" "$3" "$N1" "$N2" "$P1" || die "config $1"; }
cfg "$WORK/v1.json" "$C/a.pem" "$C/a.key"
start_proxyd --config="$WORK/v1.json"

# ---------------------------------------------------------------- helpers
# sc OUT PORT SNI|- ARGS...: openssl s_client against the proxy, output
# (stdout and stderr) in OUT; stdin from $SC_IN (default: nothing, so the
# client closes right after the handshake). Returns s_client's status.
sc() {
  local out=$1 port=$2 sni=$3; shift 3
  local name=(-servername "$sni")
  [[ $sni == - ]] && name=(-noservername)
  inp timeout 10 openssl s_client -connect "$VIP:$port" "${name[@]}" -CAfile "$C/ca.pem" "$@" \
    <"${SC_IN:-/dev/null}" >"$out" 2>&1
}
# get_req HOST PATH: a request file for s_client (HTTP/1.1, Connection: close).
req_file() {
  printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$2" "$1" >"$WORK/req-$1"
  echo "$WORK/req-$1"
}
served_fp() {  # served_fp FILE: SHA-256 fingerprint of the certificate s_client saw
  openssl x509 -noout -fingerprint -sha256 <"$1" 2>/dev/null | sed 's/.*=//'
}
served_subject() { openssl x509 -noout -subject -nameopt compat <"$1" 2>/dev/null | sed 's/^subject=//'; }
proto_of() { sed -nE 's/^ *Protocol *: *(TLSv[0-9.]+)$/\1/p' "$1" | head -1; }
# tls_failures [REASON]: locus_tls_handshake_failures_total, all cores,
# one reason or all of them.
tls_failures() {
  admin /metrics | awk -v r="${1:-}" '
    /^locus_tls_handshake_failures_total\{/ && (r == "" || index($0, "reason=\"" r "\"")) {s += $NF}
    END {print s + 0}'
}
handshakes() {  # handshakes KIND: locus_tls_handshakes_total{kind=KIND}, all cores
  admin /metrics | awk -v k="$1" '/^locus_tls_handshakes_total\{/ && index($0, "kind=\"" k "\"") {s += $NF} END {print s + 0}'
}
failures_above() { [[ $(tls_failures) -gt $1 ]]; }
failure_reasons() {  # the non-zero failure counters, for the log
  admin /metrics | awk '/^locus_tls_handshake_failures_total\{/ && $NF != 0 {printf "%s ", $0}'
}
# https_ok [SNI]: a TLS 1.3 request through :443 gets 200 (proxyd still serves).
https_ok() {
  pcurl -o /dev/null -w '%{http_code}' --resolve "${1:-a.example.test}:443:$VIP" --cacert "$C/ca.pem" \
    "https://${1:-a.example.test}/n/alive" | grep -qx 200
}
# raw HEX [SHUT]: the bytes in one write to :443 (SHUT: then half-close);
# prints "closed N" (the proxy closed, N bytes came back first, e.g. an
# alert) or "open" (nothing closed it within 5 s).
raw() {
  inp "$PYTHON" - "$VIP" 443 "$1" "${2:-}" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(bytes.fromhex(sys.argv[3]))
if sys.argv[4]:
    s.shutdown(socket.SHUT_WR)
got = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            print("closed %d" % len(got)); break
        got += d
except socket.timeout:
    print("open")
except ConnectionResetError:
    print("closed %d" % len(got))
PY
}

log "--- TLS 1.2 and 1.3: handshake and GET / through the proxy"
for v in 1_2 1_3; do
  want=TLSv${v/_/.}
  SC_IN=$(req_file a.example.test /n/hello) sc "$WORK/get$v.out" 443 a.example.test -tls$v -ign_eof -verify_return_error
  rc=$?
  check "s_client -tls$v: exit 0 ($rc), verified, GET -> 200 from a backend" \
    bash -c "[[ $rc -eq 0 ]] && grep -q 'Verify return code: 0 (ok)' '$WORK/get$v.out' &&
             grep -q '^HTTP/1.1 200' '$WORK/get$v.out' && grep -q '^backend=n[12] ' '$WORK/get$v.out'"
  check "s_client -tls$v: negotiated $(proto_of "$WORK/get$v.out") (want $want)" \
    test "$(proto_of "$WORK/get$v.out")" == "$want"
done

log "--- SNI picks the certificate"
# sni_is PORT SNI WANT_FP [ARGS]: the certificate served for SNI is WANT_FP.
for c in "a.example.test a" "b.example.test b" "x.wild.example.test wild" "unknown.example.test dflt" \
         "- dflt" "wild.example.test dflt"; do
  set -- $c
  sc "$WORK/sni-$1.out" 443 "$1"
  fp=$(served_fp "$WORK/sni-$1.out")
  want=FP_$2
  check "SNI $1 -> certificate $2 ($(served_subject "$WORK/sni-$1.out"))" test "$fp" == "${!want}"
done
check "b's certificate is RSA and a's ECDSA (s_client: Server public key)" \
  bash -c "grep -q 'Server public key is 2048 bit' '$WORK/sni-b.example.test.out' &&
           grep -q 'Server public key is 256 bit' '$WORK/sni-a.example.test.out'"
f0=$(tls_failures unknown_sni)
sc "$WORK/strict-unknown.out" 8443 unknown.example.test
rc=$?
check "listener without default_certificate: unknown SNI fails the handshake (exit $rc, no certificate)" \
  bash -c "[[ $rc -ne 0 ]] && ! grep -q 'BEGIN CERTIFICATE' '$WORK/strict-unknown.out'"
check "... with an unrecognized_name alert ($(grep -o 'unrecognized name' "$WORK/strict-unknown.out" | head -1))" \
  grep -q 'unrecognized name' "$WORK/strict-unknown.out"
check "... counted: unknown_sni $f0 -> $(tls_failures unknown_sni)" test "$(tls_failures unknown_sni)" -gt "$f0"
sc "$WORK/strict-nosni.out" 8443 -
rc=$?
check "listener without default_certificate: no SNI fails the handshake (exit $rc)" test "$rc" -ne 0
sc "$WORK/strict-a.out" 8443 a.example.test
check "the same listener serves a.example.test (certificate a)" test "$(served_fp "$WORK/strict-a.out")" == "$FP_a"
f0=$(tls_failures unsupported_version)
sc "$WORK/strict-12.out" 8443 a.example.test -tls1_2
rc=$?
check "min_version TLS1_3: a TLS 1.2 client fails (exit $rc), counted as unsupported_version" \
  bash -c "[[ $rc -ne 0 ]] && [[ \$0 -gt $f0 ]]" "$(tls_failures unsupported_version)"

log "--- session resumption"
for v in 1_2 1_3; do
  rm -f "$WORK/sess$v"
  r0=$(handshakes resumed)
  # The TLS 1.3 ticket comes after the handshake: send a request and read
  # the whole response before closing, so the ticket is in the file.
  SC_IN=$(req_file a.example.test /n/resume) sc "$WORK/sess$v-1.out" 443 a.example.test -tls$v -ign_eof \
    -sess_out "$WORK/sess$v"
  SC_IN=$(req_file a.example.test /n/resume) sc "$WORK/sess$v-2.out" 443 a.example.test -tls$v -ign_eof \
    -sess_in "$WORK/sess$v"
  r1=$(handshakes resumed)
  log "TLS$v: first $(grep -Eo '^(New|Reused), TLSv[0-9.]+' "$WORK/sess$v-1.out"), second $(grep -Eo '^(New|Reused), TLSv[0-9.]+' "$WORK/sess$v-2.out")"
  check "TLS$v: the first connection is new, the second resumes (Reused, TLSv${v/_/.}) and gets 200" \
    bash -c "[[ -s '$WORK/sess$v' ]] && grep -q '^New, ' '$WORK/sess$v-1.out' &&
             grep -q '^Reused, TLSv${v/_/.}' '$WORK/sess$v-2.out' && grep -q '^HTTP/1.1 200' '$WORK/sess$v-2.out'"
  check "TLS$v: resumed handshakes counted ($r0 -> $r1)" test "$r1" -eq $((r0 + 1))
done

log "--- TLS 1.0 and 1.1 are refused by the server"
# Debian's openssl.cnf sets MinProtocol TLSv1.2 and SECLEVEL=2; an empty
# config, -tlsN and SECLEVEL=0 make the client offer the old version for
# real, proven by a local s_server that accepts the same client.
: >"$WORK/legacy.cnf"
for v in 1 1_1; do
  name=TLSv1${v#1}; name=${name/_/.}
  inp env OPENSSL_CONF="$WORK/legacy.cnf" timeout 10 openssl s_server -accept 127.0.0.1:4433 \
    -cert "$C/a.leaf" -key "$C/a.key" -tls$v -cipher 'DEFAULT@SECLEVEL=0' -naccept 1 -quiet \
    >"$WORK/legacy-server$v.out" 2>&1 &
  spid=$!
  PIDS+=($spid)
  wait_for 5 "local s_server" inp bash -c "ss -ltn | grep -q 127.0.0.1:4433"
  inp env OPENSSL_CONF="$WORK/legacy.cnf" timeout 10 openssl s_client -connect 127.0.0.1:4433 \
    -tls$v -cipher 'DEFAULT@SECLEVEL=0' </dev/null >"$WORK/legacy-local$v.out" 2>&1
  wait "$spid" 2>/dev/null
  check "control: the client completes $name with a local openssl s_server ($(proto_of "$WORK/legacy-local$v.out"))" \
    test "$(proto_of "$WORK/legacy-local$v.out")" == "$name"
  f0=$(tls_failures unsupported_version)
  # (ip netns exec keeps the environment: the same empty config here.)
  OPENSSL_CONF=$WORK/legacy.cnf sc "$WORK/legacy$v.out" 443 a.example.test -tls$v -cipher 'DEFAULT@SECLEVEL=0'
  rc=$?
  f1=$(tls_failures unsupported_version)
  log "$name to the proxy: exit $rc: $(grep -m1 -o 'alert [a-z ]*' "$WORK/legacy$v.out")"
  check "$name to the proxy: refused (exit $rc, protocol_version alert, no certificate)" \
    bash -c "[[ $rc -ne 0 ]] && grep -q 'alert protocol version' '$WORK/legacy$v.out' &&
             ! grep -q 'BEGIN CERTIFICATE' '$WORK/legacy$v.out'"
  check "$name refusal counted: unsupported_version $f0 -> $f1" test "$f1" -gt "$f0"
done

log "--- curl over HTTPS"
for v in "1.2 --tlsv1.2 --tls-max 1.2" "1.3 --tlsv1.3"; do
  set -- $v
  want=TLSv$1; shift
  pcurl -v "$@" --resolve "a.example.test:443:$VIP" --cacert "$C/ca.pem" -D "$WORK/curl$want.h" \
    "https://a.example.test/n/curl" >"$WORK/curl$want.body" 2>"$WORK/curl$want.err"
  rc=$?
  check "curl $*: exit $rc, 200, body from a backend, $want (curl: $(grep -o 'SSL connection using [^ ]*' "$WORK/curl$want.err"))" \
    bash -c "[[ $rc -eq 0 ]] && grep -q '^HTTP/1.1 200' '$WORK/curl$want.h' &&
             grep -q '^backend=n[12] .*host=a.example.test' '$WORK/curl$want.body' &&
             grep -q 'SSL connection using $want' '$WORK/curl$want.err'"
done
xfp() {  # xfp URL [CURL ARGS]: the X-Forwarded-Proto the python backend saw
  pcurl "$@" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["headers"].get("x-forwarded-proto"))'
}
got=$(xfp --resolve "a.example.test:443:$VIP" --cacert "$C/ca.pem" https://a.example.test/py/xfp)
check "the backend sees X-Forwarded-Proto: $got over TLS (want https)" test "$got" == https
got=$(xfp "http://$VIP/py/xfp")
check "... and $got on the plain listener (want http)" test "$got" == http

log "--- bodies, pipelining and tiny segments over TLS"
head -c 5000000 /dev/urandom >"$WORK/big.bin"
want=$(sha256sum <"$WORK/big.bin" | cut -d' ' -f1)
got=$(pcurl --max-time 30 --resolve "a.example.test:443:$VIP" --cacert "$C/ca.pem" --data-binary @"$WORK/big.bin" \
  -H 'Content-Type: application/octet-stream' https://a.example.test/py/echo-raw | sha256sum | cut -d' ' -f1)
check "a 5 MB POST over TLS is echoed back byte-exact (sha256 ${got:0:12}, want ${want:0:12})" test "$got" == "$want"
printf 'GET /n/p1 HTTP/1.1\r\nHost: a\r\n\r\nGET /py/p2 HTTP/1.1\r\nHost: a\r\n\r\nGET /n/p3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' \
  >"$WORK/pipe.req"
SC_IN=$WORK/pipe.req sc "$WORK/pipe.out" 443 a.example.test -ign_eof -quiet
order=$(grep -aoE 'uri=/n/p[0-9]|"path": "/py/p[0-9]"' "$WORK/pipe.out" | grep -oE 'p[0-9]$|p[0-9]"$' | tr -d '"' | tr '\n' ' ')
check "3 pipelined requests in one TLS write: 3 x 200, answered in order ($order)" \
  test "$(grep -ac '^HTTP/1.1 200' "$WORK/pipe.out")" -eq 3 -a "$order" == "p1 p2 p3 "
# dribble VERSION: the ClientHello one byte per TCP segment, then the
# request one byte per TLS record (Python's ssl over memory BIOs); prints
# the status line.
dribble() {
  inp timeout 60 "$PYTHON" - "$VIP" "$1" <<'PY'
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, sys.argv[2])
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
o = ctx.wrap_bio(inc, out, server_hostname="a.example.test")
try:
    o.do_handshake()
except ssl.SSLWantReadError:
    pass
s = socket.create_connection((sys.argv[1], 443), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for b in out.read():
    s.send(bytes([b]))
    time.sleep(0.001)
done = False
while not done:
    d = s.recv(65536)
    if not d:
        print("closed during the handshake")
        sys.exit(1)
    inc.write(d)
    try:
        o.do_handshake()
        done = True
    except ssl.SSLWantReadError:
        pass
    s.sendall(out.read())
for b in b"GET /n/dribble HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n":
    o.write(bytes([b]))
    s.sendall(out.read())
    time.sleep(0.001)
resp = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    inc.write(d)
    try:
        while True:
            c = o.read(65536)
            if not c:
                break
            resp += c
    except (ssl.SSLWantReadError, ssl.SSLZeroReturnError, ssl.SSLEOFError):
        pass
print(o.version(), resp.split(b"\r\n")[0].decode(), "backend" if b"backend=" in resp else "-")
PY
}
for v in TLSv1_2 TLSv1_3; do
  got=$(dribble "$v" 2>&1 | tail -1)
  check "ClientHello 1 byte per segment, request 1 byte per record ($v): $got" \
    test "$got" == "${v/_/.} HTTP/1.1 200 OK backend"
done

log "--- ALPN"
sc "$WORK/alpn-both.out" 443 a.example.test -alpn h2,http/1.1
check "ALPN h2,http/1.1: the proxy selects http/1.1 ($(grep -m1 'ALPN' "$WORK/alpn-both.out"))" \
  grep -q 'ALPN protocol: http/1.1' "$WORK/alpn-both.out"
f0=$(tls_failures no_application_protocol)
sc "$WORK/alpn-h2.out" 443 a.example.test -alpn h2
rc=$?
check "ALPN h2 only: refused (exit $rc, no_application_protocol alert), counted ($f0 -> $(tls_failures no_application_protocol))" \
  bash -c "[[ $rc -ne 0 ]] && grep -q 'no application protocol' '$WORK/alpn-h2.out' && [[ \$0 -gt $f0 ]]" \
  "$(tls_failures no_application_protocol)"

log "--- garbage, plain HTTP and malformed ClientHellos on the TLS port"
# garbage: not a TLS record at all. plain: an HTTP request. hello: a
# handshake record whose ClientHello claims a 255-byte session id with 8
# bytes left. trunc: a handshake record claiming 516 bytes, 16 of them
# sent, then our FIN.
random32=$(printf '%064d' 0 | tr 0 a)
cases=(
  "garbage $(printf 'deadbeef%.0s' {1..16}) - bad_client_hello"
  "plain $(printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' | od -An -tx1 | tr -d ' \n') - plain_http"
  "hello 160301002f0100002b0303${random32}ff0000000000000000 - bad_client_hello"
  "trunc 16030102040100020003030102030405060708090a shut eof"
)
for c in "${cases[@]}"; do
  set -- $c
  f0=$(tls_failures); r0=$(tls_failures "$4")
  shut=$3; [[ $shut == - ]] && shut=""
  got=$(raw "$2" "$shut")
  wait_for 3 "the failure counted" failures_above "$f0"
  f1=$(tls_failures); r1=$(tls_failures "$4")
  log "$1: $got; failures $f0 -> $f1; now: $(failure_reasons)"
  check "$1 bytes: the proxy closes the connection ($got)" bash -c "[[ '$got' == closed* ]]"
  check "$1 bytes: counted as $4 ($r0 -> $r1), total $f0 -> $f1" test "$r1" -gt "$r0" -a "$f1" -gt "$f0"
  check "$1 bytes: proxyd still serves HTTPS" https_ok
done

log "--- a key that does not match its certificate is refused at apply time"
v0=$(ctl status -o json | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin).get("configVersion", 0))')
cfg "$WORK/badkey.json" "$C/a.pem" "$C/other.key"
ctl apply -f "$WORK/badkey.json" >"$WORK/badkey.out" 2>&1
rc=$?
log "apply with a mismatched key: exit $rc: $(head -c 400 "$WORK/badkey.out" | tr '\n' ' ')"
check "proxyctl apply: non-zero exit ($rc)" test "$rc" -ne 0
check "the error names the field listeners[1].tls.certificates[0].private_key_pem" \
  grep -q 'listeners\[1\]\.tls\.certificates\[0\]\.private_key_pem' "$WORK/badkey.out"
# No line of either key's base64 (nor a PEM header) in the message.
leak=0
grep -q 'PRIVATE KEY' "$WORK/badkey.out" && leak=1
while read -r line; do
  [[ $line == -----* || ${#line} -lt 16 ]] && continue
  grep -qF -- "${line:0:16}" "$WORK/badkey.out" && leak=1
done < <(cat "$C/other.key" "$C/a.key")
check "the error contains no key text" test "$leak" -eq 0
v1=$(ctl status -o json | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin).get("configVersion", 0))')
sc "$WORK/after-badkey.out" 443 a.example.test
check "version unchanged ($v0 -> $v1), the old certificate still served" \
  test "$v1" == "$v0" -a "$(served_fp "$WORK/after-badkey.out")" == "$FP_a"

log "--- rotating certificate a 4 times under wrk load over HTTPS"
# wrk over keep-alive connections (they keep the contexts they started
# with) and wrk with Connection: close (a new handshake per request, so
# handshakes keep starting across every rotation). wrk does not verify
# certificates.
inp timeout 30 wrk -t1 -c8 -d12s --timeout 5s https://a.example.test/n/rot-ka >"$WORK/wrk-ka.txt" 2>&1 &
wrk1=$!
inp timeout 30 wrk -t1 -c4 -d12s --timeout 5s -H 'Connection: close' https://a.example.test/n/rot-close \
  >"$WORK/wrk-close.txt" 2>&1 &
wrk2=$!
# wrk resumes its TLS sessions, so most of its handshakes are resumptions
# (which send no certificate). A new curl process per request has no
# session: each one is a full handshake that verifies the chain it gets.
(
  end=$((SECONDS + 12))
  for ((n = 0; n < 600 && SECONDS < end; n++)); do
    pcurl -o /dev/null -w '%{http_code}\n' --resolve "a.example.test:443:$VIP" \
      --cacert "$C/ca.pem" https://a.example.test/n/rot-new || echo "curl-exit-$?"
  done
) >"$WORK/curl-rot.txt" 2>/dev/null &
curls=$!
PIDS+=($wrk1 $wrk2 $curls)
h0=$(handshakes full); hr0=$(handshakes resumed)
sleep 2
for i in 1 2 3 4; do
  cfg "$WORK/rot$i.json" "$C/a$i.pem" "$C/a$i.key"
  ctl apply -f "$WORK/rot$i.json" >"$WORK/rot$i.out" 2>&1
  rc=$?
  want=FP_a$i
  # apply returns once every core runs the new config (unless it warns that
  # one did not within 2 s): the very next handshake must see a$i.
  sc "$WORK/rot$i-sc.out" 443 a.example.test
  if [[ $(served_fp "$WORK/rot$i-sc.out") != "${!want}" ]] && grep -q 'not every core' "$WORK/rot$i.out"; then
    log "rotation $i: apply says not every core applied it yet; waiting"
    seen() { sc "$WORK/rot$i-sc.out" 443 a.example.test && [[ $(served_fp "$WORK/rot$i-sc.out") == "${!want}" ]]; }
    wait_for 5 "certificate a$i served" seen
  fi
  check "rotation $i: apply exit $rc ($(head -1 "$WORK/rot$i.out")); the next handshake sees certificate a$i" \
    test "$rc" -eq 0 -a "$(served_fp "$WORK/rot$i-sc.out")" == "${!want}"
  sleep 1.5
done
wait "$wrk1"; rc1=$?
wait "$wrk2"; rc2=$?
wait "$curls"
curl_total=$(wc -l <"$WORK/curl-rot.txt")
curl_ok=$(grep -c '^200$' "$WORK/curl-rot.txt")
h1=$(handshakes full); hr1=$(handshakes resumed)
log "handshakes during the rotations: $((h1 - h0)) full, $((hr1 - hr0)) resumed (wrk reuses its sessions)"
for w in ka close; do
  cat "$WORK/wrk-$w.txt"
  reqs=$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' "$WORK/wrk-$w.txt")
  non2xx=$(sed -nE 's/^ *Non-2xx or 3xx responses: ([0-9]+)/\1/p' "$WORK/wrk-$w.txt")
  sockerr=$(grep -c 'Socket errors' "$WORK/wrk-$w.txt")
  check "wrk ($w) during the rotations: ${reqs:-0} requests (want >= 100), 0 socket errors ($(grep 'Socket errors' "$WORK/wrk-$w.txt" | tr -s ' '|| echo none)), 0 non-2xx (${non2xx:-0})" \
    test "${reqs:-0}" -ge 100 -a "${non2xx:-0}" -eq 0 -a "$sockerr" -eq 0
done
check "wrk exited 0 ($rc1, $rc2)" test "$rc1" -eq 0 -a "$rc2" -eq 0
check "new curl per request during the rotations: $curl_ok of $curl_total verified and got 200 (want all, at least 20)" \
  test "$curl_total" -ge 20 -a "$curl_ok" -eq "$curl_total"
check "$((h1 - h0)) full handshakes during the rotations (want >= 20)" test $((h1 - h0)) -ge 20
sc "$WORK/after-rot.out" 443 a.example.test -tls1_2
check "after the rotations a TLS 1.2 handshake sees certificate a4" \
  test "$(served_fp "$WORK/after-rot.out")" == "$FP_a4"
check "b is still served unchanged" bash -c "
  ip netns exec '$NS_P' timeout 10 openssl s_client -connect $VIP:443 -servername b.example.test </dev/null 2>/dev/null |
  openssl x509 -noout -fingerprint -sha256 | grep -q '$FP_b'"
log "TLS failures over the run: $(failure_reasons)"

check "proxyd exits 0 on SIGTERM" stop_proxyd
e2e_finish
