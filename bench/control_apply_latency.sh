#!/usr/bin/env bash
# bench/run control_apply_latency: the time from Apply returning (proxyctl
# apply, gRPC) until every core of proxyd reports the new version as
# applied (polling /stats over one keep-alive connection), while wrk loads
# the proxy (keep-alive, 50 connections). Peer, in the same run and the
# same topology: nginx (1 worker) under the same wrk load, from `nginx -s
# reload` returning until a new connection is answered with the new
# config (an X-Config-Version header). There is no natural peer: nginx
# reload is the nearest thing.
#
# Resolution: a thread polls /stats back to back; a sample is the time at
# which the first poll that saw the new version on every core returned
# (an upper bound; the lower bound, that poll's send time, is shown too).
# For nginx, each poll is a new connection (keep-alive ones stay with the
# old worker), so a sample includes one connection set-up.
#
# Environment: SAMPLES (default 40), PROXY_CPU (1), CLIENT_CPU (0).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SAMPLES=${SAMPLES:-40}
source bench/lib/topology.sh

bazel build //proxy/daemon:proxyd //ctl:proxyctl >&2
WORK=$(mktemp -d /tmp/locus-bench.XXXXXX)
trap topo_cleanup EXIT
topo_setup "$WORK"
# The bench config with a route timeout that the samples alternate.
sed 's|            - pool: backend|            - pool: backend\n          timeout: 5s|' \
  bench/lib/locus-bench.yaml >"$WORK/locus.yaml"
topo_start_proxyd "$ROOT/bazel-bin/proxy/daemon/proxyd" "$WORK/locus.yaml"
topo_start_nginx_proxy
echo "control_apply_latency: $SAMPLES applies under wrk -t1 -c50 keep-alive load on each proxy"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# wrk runs longer than the samples need and is stopped after them.
WRK_SECONDS=$((SAMPLES * 2 + 30))
topo_wrk -t1 -c50 -d"${WRK_SECONDS}s" "http://$LOCB_STACK_IP/" >"$WORK/wrk-locus.txt" &
WRK_PID=$!
sleep 2
LOCUS_JSON=$(python3 bench/lib/apply_latency.py locus "$ROOT/bazel-bin/ctl/proxyctl" "$LOCB_API" \
  "$LOCB_ADMIN" "$WORK/locus.yaml" "$SAMPLES" 2>"$WORK/locus-samples.txt")
kill "$WRK_PID" 2>/dev/null || true
wait "$WRK_PID" 2>/dev/null || true

topo_wrk -t1 -c50 -d"${WRK_SECONDS}s" "http://$LOCB_HOST_IP:$NGINX_PROXY_PORT/" >"$WORK/wrk-nginx.txt" &
WRK_PID=$!
sleep 2
NGINX_JSON=$(python3 bench/lib/apply_latency.py nginx "$WORK/nginx-proxy.conf" \
  "http://$LOCB_HOST_IP:$NGINX_PROXY_PORT/" "$SAMPLES" 2>"$WORK/nginx-samples.txt")
kill "$WRK_PID" 2>/dev/null || true
wait "$WRK_PID" 2>/dev/null || true
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$LOCUS_JSON" "$NGINX_JSON" <<'PY'
import json, sys
l, n = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print()
print("what                                         samples  p50 ms   p99 ms   max ms   call p50 ms  poll rtt p50 ms")
print("-" * 110)
print(f"locus: Apply returned -> all {l['cores']} core(s) applied  {l['samples']:5d}  {l['p50_ms']:7.3f}  {l['p99_ms']:7.3f}  {l['max_ms']:7.3f}  {l['call_p50_ms']:11.1f}  {l['poll_rtt_p50_ms']:15.3f}")
print(f"nginx: -s reload returned -> new config served {n['samples']:5d}  {n['p50_ms']:7.3f}  {n['p99_ms']:7.3f}  {n['max_ms']:7.3f}  {n['call_p50_ms']:11.1f}  {n['poll_rtt_p50_ms']:15.3f}")
print(f"locus lower bounds (poll sent): p50 {l['lower_p50_ms']:.3f} ms, p99 {l['lower_p99_ms']:.3f} ms")
print("(call = proxyctl apply / nginx -s reload as processes, spawn included)")
print(json.dumps({"bench": "control_apply_latency",
                  "metric": "p99 ms from Apply returning to every core serving the new version, under wrk load (lower is better)",
                  "ours": round(l["p99_ms"], 4), "peer": "nginx -s reload to new config served (same run, same load)",
                  "peer_value": round(n["p99_ms"], 4), "ratio": round(l["p99_ms"] / n["p99_ms"], 6)}))
PY
