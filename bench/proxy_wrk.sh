#!/usr/bin/env bash
# bench/run proxy_wrk: wrk through Locus (proxyd on a DPDK tap, one lcore)
# vs nginx as a reverse proxy (one worker) vs haproxy (one thread), in the
# same run, same backend (nginx, 19-byte body, own namespace), same client
# (wrk -t1 in its own namespace), keep-alive and `Connection: close`.
# The topology is bench/lib/topology.sh's. Needs root.
#
# Environment: DURATION (s, default 5), CONNS (default 50), REPEAT (2),
# LOCUS_PORT (tap, the default, or af_packet: see bench/lib/topology.sh),
# PROXY_CPU (1), CLIENT_CPU (0).
#
# Per run and proxy: req/s and p99 from wrk --latency, and the proxy's own
# CPU time per request (bench/lib/wrk_measure.sh says how).
# "direct" is wrk straight to the backend: the ceiling of the client and
# backend side, which share CLIENT_CPU.
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
topo_start_proxyd "$ROOT/bazel-bin/proxy/daemon/proxyd" "$ROOT/bench/lib/locus-bench.yaml"
topo_start_nginx_proxy
topo_start_haproxy
source bench/lib/wrk_measure.sh

declare -A URL=(
  [direct]="http://$LOCB_BACKEND_IP:8080/"
  [locus]="http://$LOCB_STACK_IP/"
  [nginx]="http://$LOCB_HOST_IP:$NGINX_PROXY_PORT/"
  [haproxy]="http://$LOCB_HOST_IP:$HAPROXY_PORT/"
)
wrk_check_answers proxy_wrk
echo "proxy_wrk: locus port ${LOCUS_PORT:-tap}; wrk -t1 -c$CONNS -d${DURATION}s --latency from netns $LOCB_NS_CL on CPU $CLIENT_CPU" \
  "(backend nginx also on CPU $CLIENT_CPU); proxies on CPU $PROXY_CPU"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

RESULTS=$WORK/results.tsv
: >"$RESULTS"
for rep in $(seq 1 "$REPEAT"); do
  for mode in keepalive close; do
    extra=()
    [[ $mode == close ]] && extra=(-H "Connection: close")
    for p in direct locus nginx haproxy; do
      wrk_measure "$RESULTS" "$rep" "$mode" "$p" "${URL[$p]}" "${extra[@]}"
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); measuring took ${SECONDS}s (build excluded)"
curl -s "http://$LOCB_ADMIN/metrics" >"$WORK/metrics.txt"
grep -E '^locus_(stack_drops|tcp_retransmits|steering)' "$WORK/metrics.txt" >&2 || true

python3 bench/lib/wrk_table.py "$RESULTS" proxy_wrk close \
  "req/s through one proxy core with Connection: close, wrk -t1 (higher is better; mean of runs)"
