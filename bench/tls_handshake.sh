#!/usr/bin/env bash
# bench/run tls_handshake: TLS handshakes per second on one server core,
# full and resumed, with an ECDSA P-256 and an RSA-2048 certificate (made
# at bench time with the openssl CLI), Locus (proxyd on a DPDK tap, one
# lcore) vs nginx (1 worker) vs haproxy (nbthread 1), all with the same
# certificates, in the same run and topology as proxy_wrk
# (bench/lib/topology.sh).
#
# What every server does per connection: the TLS handshake (TLS 1.3 is
# what all three negotiate with this client), then one `GET /` with
# `Connection: close` proxied to the same backend (nginx, 19-byte body,
# upstream keep-alive), a 200, and the server closes. "full": the client
# never offers a session. "resumed": each client slot offers the newest
# ticket the server gave its previous connection (TLS 1.3 PSK with ECDHE,
# psk_dhe_ke, OpenSSL's client default); the client checks every
# connection with SSL_session_reused and the table shows the resumed share.
#
# Client: bench/tls_client.cc (one thread, epoll, CONNS connections) in the
# client namespace on CLIENT_CPU, which it shares with the backend. Server
# CPU, sampled after the client's warm-up and after its last connection
# finished, so that it covers exactly the counted connections (see
# tls_client.cc): nginx's worker and haproxy's process, utime+stime from
# /proc/PID/stat. proxyd busy-polls its lcore, so its process CPU is all
# the CPU it was given, busy or not; its CPU for the work is estimated as
# process CPU x busy share (locus_loop_busy_seconds_total over the sampled
# wall time). Its raw busy time is shown too: on a loaded machine it also
# counts the time the lcore was runnable but preempted inside a busy
# iteration, so it overstates Locus's CPU (bench/lib/tls_table.py).
#
# A second table, "stall evidence", shows per cell how long the client
# and the server's main thread waited for a CPU (schedstat run delay) and
# the client's SYN retransmissions, retransmitted segments, tail loss
# probes and RTO expiries (nstat in its namespace), with Locus's own
# retransmissions and out-of-window drops: a cell far below its usual rate
# is either starved of CPU by other load or waiting on the network.
#
# Environment: DURATION (s, default 4), WARMUP (1), CONNS (32), REPEAT (1),
# PROXY_CPU (1), CLIENT_CPU (0).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${DURATION:-4}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-32}
REPEAT=${REPEAT:-1}
source bench/lib/topology.sh

bazel build //proxy/daemon:proxyd //bench:tls_client >&2
CLIENT=$ROOT/bazel-bin/bench/tls_client
SECONDS=0
WORK=$(mktemp -d /tmp/locus-bench.XXXXXX)
topo_trap
topo_setup "$WORK"
topo_tls_certs
topo_locus_tls_config "$ROOT/bench/lib/locus-bench.yaml" "$WORK/locus.yaml"
topo_start_proxyd "$ROOT/bazel-bin/proxy/daemon/proxyd" "$WORK/locus.yaml"
topo_start_nginx_proxy
topo_start_haproxy
TICK=$(getconf CLK_TCK)

declare -A HOST=([locus]=$LOCB_STACK_IP [nginx]=$LOCB_HOST_IP [haproxy]=$LOCB_HOST_IP)
port() {
  case $1 in
    locus) echo "${LOCUS_TLS_PORT[$2]}" ;;
    nginx) echo "${NGINX_TLS_PORT[$2]}" ;;
    haproxy) echo "${HAPROXY_TLS_PORT[$2]}" ;;
  esac
}
for s in locus nginx haproxy; do
  for k in "${TLS_KEYS[@]}"; do
    body=$(ip netns exec "$LOCB_NS_CL" curl -ksS --max-time 5 "https://${HOST[$s]}:$(port "$s" "$k")/")
    if [[ "$body" != "$BACKEND_BODY" ]]; then
      echo "tls_handshake: $s ($k) answered '$body'" >&2
      exit 1
    fi
  done
done

# Locus's own counters, one line: busy_s requests full resumed failures
# retransmits out_of_window_drops.
locus_counters() {
  curl -s "http://$LOCB_ADMIN/metrics" | awk '
    $1 ~ /^locus_loop_busy_seconds_total/ { busy += $2 }
    $1 ~ /^locus_requests_total/ { req += $2 }
    $1 ~ /^locus_tls_handshakes_total\{.*kind="full"/ { full += $2 }
    $1 ~ /^locus_tls_handshakes_total\{.*kind="resumed"/ { res += $2 }
    $1 ~ /^locus_tls_handshake_failures_total/ { fail += $2 }
    $1 ~ /^locus_tcp_retransmits_total/ { rtx += $2 }
    $1 ~ /^locus_stack_drops_total\{.*reason="out_of_window"/ { oow += $2 }
    END { printf "%.9f %d %d %d %d %d %d\n", busy, req, full, res, fail, rtx, oow }'
}
# Stall evidence (a cell once ran at a tenth of its usual rate with
# everything idle and nothing recorded): the client namespace's TCP
# counters, one line: SYN retransmissions, retransmitted segments, tail
# loss probes, RTO expiries (nstat absolute values, history untouched).
client_tcp_counters() {
  ip netns exec "$LOCB_NS_CL" nstat -asz 2>/dev/null | awk '
    { v[$1] = $2 }
    END { printf "%d %d %d %d\n", v["TcpExtTCPSynRetrans"], v["TcpRetransSegs"],
          v["TcpExtTCPLossProbes"], v["TcpExtTCPTimeouts"] }'
}
# Time a process's main thread spent runnable but waiting for a CPU
# (second field of its schedstat), in ns: a server starved by other load
# shows it here. The main thread is the one that works: proxyd's lcore
# thread (one lcore), nginx's worker, haproxy with nbthread 1. (%.0f:
# mawk's %d stops at 2^31 ns, about 2 s.)
runq_wait_ns() {
  awk '{ printf "%.0f\n", $2 }' /proc/"$1"/schedstat 2>/dev/null || echo 0
}
server_pid() {
  case $1 in
    locus) echo "$PROXYD_PID" ;;
    nginx) echo "$NGINX_WORKER_PID" ;;
    haproxy) echo "$HAPROXY_PID" ;;
  esac
}
server_ticks() {
  case $1 in
    locus) topo_cpu_ticks "$PROXYD_PID" ;;
    nginx) topo_cpu_ticks "$NGINX_WORKER_PID" ;;
    haproxy) topo_cpu_ticks "$HAPROXY_PID" ;;
  esac
}

# measure REP KEY MODE SERVER: one client run; appends a row to RESULTS.
measure() {
  local rep=$1 k=$2 mode=$3 s=$4 out=$WORK/client.out pid l0="- - - - - - -" l1="- - - - - - -" t0 t1 w0 w1
  local n0 n1 q0 q1
  ip netns exec "$LOCB_NS_CL" taskset -c "$CLIENT_CPU" "$CLIENT" --host="${HOST[$s]}" \
    --port="$(port "$s" "$k")" --mode="$mode" --conns="$CONNS" --warmup="$WARMUP" \
    --seconds="$DURATION" >"$out" 2>"$WORK/client.err" &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q '^ready' "$out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -q '^ready' "$out"; then
    echo "tls_handshake: the client did not get ready ($s $k $mode):" >&2
    cat "$out" "$WORK/client.err" >&2
    return 1
  fi
  [[ $s == locus ]] && l0=$(locus_counters)
  n0=$(client_tcp_counters)
  q0=$(runq_wait_ns "$(server_pid "$s")")
  w0=$(date +%s.%N)
  t0=$(server_ticks "$s")
  kill -USR1 "$pid"
  wait "$pid" || true
  t1=$(server_ticks "$s")
  w1=$(date +%s.%N)
  q1=$(runq_wait_ns "$(server_pid "$s")")
  n1=$(client_tcp_counters)
  [[ $s == locus ]] && l1=$(locus_counters)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$k" "$mode" "$s" \
    "$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.3f", b - a }')" \
    "$(awk -v t="$TICK" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / t }')" \
    "$l0" "$l1" "$(head -1 "$out")" "$(tail -1 "$out")" "$(tr '\n\t' '  ' <"$WORK/client.err")" \
    "$n0" "$n1" "$(awk -v a="$q0" -v b="$q1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')" >>"$RESULTS"
}

echo "tls_handshake: tls_client --conns=$CONNS --warmup=$WARMUP --seconds=$DURATION from netns $LOCB_NS_CL on CPU $CLIENT_CPU" \
  "(backend nginx also on CPU $CLIENT_CPU); servers on CPU $PROXY_CPU"
echo "per connection: TLS handshake, GET / (Connection: close) proxied to the backend, 200, server closes"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
RESULTS=$WORK/results.tsv
: >"$RESULTS"
for rep in $(seq 1 "$REPEAT"); do
  for k in "${TLS_KEYS[@]}"; do
    for mode in full resumed; do
      for s in locus nginx haproxy; do
        measure "$rep" "$k" "$mode" "$s"
      done
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); measuring took ${SECONDS}s (build excluded)"
curl -s "http://$LOCB_ADMIN/metrics" >"$WORK/metrics.txt"
grep -E '^locus_tls_(handshake_failures|protocol_errors)' "$WORK/metrics.txt" | grep -v ' 0$' >&2 || true

python3 bench/lib/tls_table.py "$RESULTS"
