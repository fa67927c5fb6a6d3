#!/usr/bin/env bash
# bench/run redirect_cost [Google Benchmark flags]: the benchmark's own table,
# then the JSON line: ours = ns per packet with a redirect, peer = ns per
# packet delivered locally (same run).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(mktemp /tmp/redirect_cost.XXXXXX.json)
trap 'rm -f "$OUT"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
taskset -c "${BENCH_CPU:-1}" ./bazel-bin/bench/redirect_cost --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_out="$OUT" --benchmark_out_format=json "$@"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$OUT" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
med = {b["run_name"]: b for b in d["benchmarks"] if b.get("aggregate_name") == "median"}
def per_packet(name):
    b = med[name]
    scale = {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]
    return b["cpu_time"] * scale / 32
local, redirect, inject = per_packet("BM_Deliver/0"), per_packet("BM_Deliver/1"), per_packet("BM_InjectOnly")
print()
print("median of 5, CPU ns per packet (burst of 32, one thread):")
print(f"  local delivery           {local:7.1f}   (dispatcher + stack: {local - inject:.1f})")
print(f"  redirect to other shard  {redirect:7.1f}   (dispatcher + ring + stack: {redirect - inject:.1f})")
print(f"  injection only           {inject:7.1f}")
print(f"  a redirect adds          {redirect - local:7.1f} ns per packet")
print(json.dumps({"bench": "redirect_cost",
                  "metric": "ns per packet, redirected to another shard (same thread), lower is better",
                  "ours": round(redirect, 2), "peer": "local delivery on the receiving shard (same run)",
                  "peer_value": round(local, 2), "ratio": round(redirect / local, 4)}))
PY
