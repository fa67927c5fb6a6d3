#!/usr/bin/env bash
# bench/run https_wrk: keep-alive HTTPS through Locus (proxyd on a DPDK tap,
# one lcore, TLS terminated in proxyd) vs nginx (one worker) vs haproxy
# (one thread), all with the same ECDSA P-256 certificate (made at bench
# time, bench/lib/topology.sh's topo_tls_certs), the same backend (plain
# HTTP, upstream keep-alive) and the same client (Debian's wrk, which
# speaks TLS through OpenSSL; it negotiates TLS 1.3), in the same run.
# The topology and the measurement are proxy_wrk's (bench/lib/topology.sh,
# bench/lib/wrk_measure.sh); "direct" is plain-HTTP wrk straight to the
# backend, the ceiling of the client side. Needs root.
#
# Each measured wrk run opens its CONNS connections afresh (CONNS full
# handshakes), a negligible share of a keep-alive run's requests: this is
# the cost of TLS records, not of handshakes (see tls_handshake).
#
# Environment: DURATION (s, default 5), CONNS (default 50), REPEAT (2),
# PROXY_CPU (1), CLIENT_CPU (0).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${DURATION:-5}
CONNS=${CONNS:-50}
REPEAT=${REPEAT:-2}
source bench/lib/topology.sh

bazel build //proxy/daemon:proxyd >&2
SECONDS=0
WORK=$(mktemp -d /tmp/locus-bench.XXXXXX)
topo_trap
topo_setup "$WORK"
topo_tls_certs
topo_locus_tls_config "$ROOT/bench/lib/locus-bench.yaml" "$WORK/locus.yaml"
topo_start_proxyd "$ROOT/bazel-bin/proxy/daemon/proxyd" "$WORK/locus.yaml"
topo_start_nginx_proxy
topo_start_haproxy
source bench/lib/wrk_measure.sh

declare -A URL=(
  [direct]="http://$LOCB_BACKEND_IP:8080/"
  [locus]="https://$LOCB_STACK_IP:${LOCUS_TLS_PORT[ecdsa]}/"
  [nginx]="https://$LOCB_HOST_IP:${NGINX_TLS_PORT[ecdsa]}/"
  [haproxy]="https://$LOCB_HOST_IP:${HAPROXY_TLS_PORT[ecdsa]}/"
)
wrk_check_answers https_wrk -k
echo "https_wrk: keep-alive HTTPS (ECDSA P-256 certificate); wrk -t1 -c$CONNS -d${DURATION}s --latency from netns $LOCB_NS_CL on CPU $CLIENT_CPU" \
  "(backend nginx also on CPU $CLIENT_CPU); proxies on CPU $PROXY_CPU; direct = plain HTTP to the backend"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

RESULTS=$WORK/results.tsv
: >"$RESULTS"
for rep in $(seq 1 "$REPEAT"); do
  for p in direct locus nginx haproxy; do
    wrk_measure "$RESULTS" "$rep" keepalive "$p" "${URL[$p]}"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); measuring took ${SECONDS}s (build excluded)"
curl -s "http://$LOCB_ADMIN/metrics" >"$WORK/metrics.txt"
grep -E '^locus_(stack_drops|tcp_retransmits|tls_handshake_failures|tls_protocol_errors|tls_handshakes|tls_versions)' \
  "$WORK/metrics.txt" | grep -v ' 0$' >&2 || true

python3 bench/lib/wrk_table.py "$RESULTS" https_wrk keepalive \
  "keep-alive HTTPS req/s through one proxy core, wrk -t1 (higher is better; mean of runs)"
