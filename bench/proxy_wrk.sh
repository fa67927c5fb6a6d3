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
# CPU time per request: proxyd's busy time (locus_loop_busy_seconds_total,
# poll iterations that did work; its lcore busy-polls so its process CPU is
# always 100%) over its requests (locus_requests_total); nginx's worker and
# haproxy's process: utime+stime from /proc/PID/stat over wrk's requests.
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
WORK=$(mktemp -d /tmp/locus-bench.XXXXXX)
trap topo_cleanup EXIT
topo_setup "$WORK"
topo_start_proxyd "$ROOT/bazel-bin/proxy/daemon/proxyd" "$ROOT/bench/lib/locus-bench.yaml"
topo_start_nginx_proxy
topo_start_haproxy
TICK=$(getconf CLK_TCK)

declare -A URL=(
  [direct]="http://$LOCB_BACKEND_IP:8080/"
  [locus]="http://$LOCB_STACK_IP/"
  [nginx]="http://$LOCB_HOST_IP:$NGINX_PROXY_PORT/"
  [haproxy]="http://$LOCB_HOST_IP:$HAPROXY_PORT/"
)
for p in direct locus nginx haproxy; do
  body=$(ip netns exec "$LOCB_NS_CL" curl -sS --max-time 5 "${URL[$p]}")
  if [[ "$body" != "$BACKEND_BODY" ]]; then
    echo "proxy_wrk: $p answered '$body'" >&2
    exit 1
  fi
done
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
      # Warm-up, not measured: upstream pools, ARP, caches.
      topo_wrk -t1 -c"$CONNS" -d1s "${extra[@]}" "${URL[$p]}" >/dev/null
      case $p in
        locus) b0=$(topo_metric locus_loop_busy_seconds_total); r0=$(topo_metric locus_requests_total)
               t0=$(topo_cpu_ticks "$PROXYD_PID") ;;
        nginx) t0=$(topo_cpu_ticks "$NGINX_WORKER_PID") ;;
        haproxy) t0=$(topo_cpu_ticks "$HAPROXY_PID") ;;
      esac
      out=$(topo_wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "${extra[@]}" "${URL[$p]}")
      read -r requests rps p99 errors <<<"$(python3 bench/lib/wrk_result.py <<<"$out")"
      cpu_us="-"
      proc_us="-"
      case $p in
        locus)
          b1=$(topo_metric locus_loop_busy_seconds_total); r1=$(topo_metric locus_requests_total)
          t1=$(topo_cpu_ticks "$PROXYD_PID")
          cpu_us=$(python3 -c "print(f'{($b1-$b0)*1e6/max(1,$r1-$r0):.2f}')")
          proc_us=$(python3 -c "print(f'{($t1-$t0)/$TICK*1e6/max(1,$requests):.2f}')") ;;
        nginx)
          t1=$(topo_cpu_ticks "$NGINX_WORKER_PID")
          cpu_us=$(python3 -c "print(f'{($t1-$t0)/$TICK*1e6/max(1,$requests):.2f}')"); proc_us=$cpu_us ;;
        haproxy)
          t1=$(topo_cpu_ticks "$HAPROXY_PID")
          cpu_us=$(python3 -c "print(f'{($t1-$t0)/$TICK*1e6/max(1,$requests):.2f}')"); proc_us=$cpu_us ;;
      esac
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$mode" "$p" "$requests" "$rps" "$p99" \
        "$errors" "$cpu_us" "$proc_us" >>"$RESULTS"
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
curl -s "http://$LOCB_ADMIN/metrics" >"$WORK/metrics.txt"
grep -E '^locus_(stack_drops|tcp_retransmits|steering)' "$WORK/metrics.txt" >&2 || true

python3 - "$RESULTS" <<'PY'
import json, sys
from collections import defaultdict
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print()
hdr = ["run", "mode", "proxy", "requests", "req/s", "p99 ms", "errors", "proxy CPU us/req", "process CPU us/req"]
table = [hdr] + [[r[0], r[1], r[2], r[3], f"{float(r[4]):.0f}", f"{float(r[5]):.2f}", r[6], r[7], r[8]] for r in rows]
w = [max(len(t[i]) for t in table) for i in range(len(hdr))]
for i, t in enumerate(table):
    print("  ".join(c.ljust(w[j]) for j, c in enumerate(t)).rstrip())
    if i == 0:
        print("-" * (sum(w) + 2 * (len(w) - 1)))
mean = defaultdict(lambda: defaultdict(list))
for r in rows:
    mean[(r[1], r[2])]["rps"].append(float(r[4]))
    mean[(r[1], r[2])]["p99"].append(float(r[5]))
    if r[7] != "-":
        mean[(r[1], r[2])]["cpu"].append(float(r[7]))
avg = lambda v: sum(v) / len(v) if v else float("nan")
print()
print("means:  mode       proxy    req/s    p99 ms  proxy CPU us/req  req/s ratio locus/peer")
for mode in ("keepalive", "close"):
    for p in ("direct", "locus", "nginx", "haproxy"):
        m = mean[(mode, p)]
        ratio = ""
        if p in ("nginx", "haproxy"):
            ratio = f"{avg(mean[(mode, 'locus')]['rps']) / avg(m['rps']):.2f}"
        print(f"        {mode:10s} {p:8s} {avg(m['rps']):8.0f} {avg(m['p99']):8.2f}  {avg(m['cpu']):16.2f}  {ratio}")
ours = avg(mean[("close", "locus")]["rps"])
peers = {p: avg(mean[("close", p)]["rps"]) for p in ("nginx", "haproxy")}
best = max(peers, key=peers.get)
print(json.dumps({"bench": "proxy_wrk",
                  "metric": "req/s through one proxy core with Connection: close, wrk -t1 (higher is better; mean of runs)",
                  "ours": round(ours, 1),
                  "peer": f"{best} (the faster of nginx 1 worker and haproxy 1 thread in this run)",
                  "peer_value": round(peers[best], 1),
                  "ratio": round(ours / peers[best], 4)}))
PY
