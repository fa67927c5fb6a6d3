#!/usr/bin/env python3
"""Prints wrk_measure's rows (bench/lib/wrk_measure.sh), the means per
mode and proxy, and the JSON line: Locus's mean req/s in HEADLINE_MODE
against the faster of nginx and haproxy in that mode.

usage: wrk_table.py RESULTS_TSV BENCH HEADLINE_MODE METRIC
"""
import json
import sys
from collections import defaultdict

results, bench, headline, metric = sys.argv[1:5]
rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
modes = list(dict.fromkeys(r[1] for r in rows))
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
print("means (ratio = locus req/s / peer req/s: higher is better for Locus, > 1 means faster than the peer)")
print("        mode       proxy    req/s    p99 ms  proxy CPU us/req  req/s ratio locus/peer")
for mode in modes:
    for p in ("direct", "locus", "nginx", "haproxy"):
        m = mean[(mode, p)]
        if not m["rps"]:
            continue
        ratio = ""
        if p in ("nginx", "haproxy"):
            ratio = f"{avg(mean[(mode, 'locus')]['rps']) / avg(m['rps']):.2f}"
        print(f"        {mode:10s} {p:8s} {avg(m['rps']):8.0f} {avg(m['p99']):8.2f}  {avg(m['cpu']):16.2f}  {ratio}")
ours = avg(mean[(headline, "locus")]["rps"])
peers = {p: avg(mean[(headline, p)]["rps"]) for p in ("nginx", "haproxy")}
best = max(peers, key=peers.get)
print(json.dumps({"bench": bench,
                  "metric": metric,
                  "ours": round(ours, 1),
                  "peer": f"{best} (the faster of nginx 1 worker and haproxy 1 thread in this run)",
                  "peer_value": round(peers[best], 1),
                  "ratio": round(ours / peers[best], 4)}))
