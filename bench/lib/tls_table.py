#!/usr/bin/env python3
"""Prints bench/tls_handshake.sh's rows and its JSON line.

Row (tab-separated): rep, key, mode, server, sampled wall s, server
process CPU s (utime+stime), locus counters before and after ("busy_s requests full resumed failures
retransmits out_of_window_drops", or dashes), the client's ready line, its result line, its stderr,
the client namespace's TCP counters before and after ("syn_retrans retrans_segs loss_probes
rto_timeouts"), and the server's run-queue wait over the sampled window (s).
"""
import json
import sys
from collections import defaultdict


def kv(line):
    return dict(f.split("=", 1) for f in line.split() if "=" in f)


rows = []
for raw in open(sys.argv[1]):
    r = raw.rstrip("\n").split("\t")
    if len(r) < 10:
        continue
    rep, key, mode, server, window_s, ticks_s, l0, l1, ready, result = r[:10]
    res = kv(result) if result.startswith("mode=") else {}
    row = dict(rep=rep, key=key, mode=mode, server=server, ok=bool(res), res=res,
               ready=kv(ready), err=r[10].strip() if len(r) > 10 else "")
    if len(r) >= 14:
        n0, n1 = [list(map(int, x.split())) for x in (r[11], r[12])]
        row["client_tcp"] = [b - a for a, b in zip(n0, n1)]
        row["server_runq"] = float(r[13])
    if server == "locus" and len(l0.split()) >= 7 and "-" not in l0.split():
        a, b = [list(map(float, x.split())) for x in (l0, l1)]
        row["locus_tcp"] = [int(b[5] - a[5]), int(b[6] - a[6])]
    if not res:
        rows.append(row)
        continue
    wall = float(res["wall"])
    done = int(res["completed"])
    if server == "locus":
        a, b = [list(map(float, x.split())) for x in (l0, l1)]
        busy = b[0] - a[0]
        window = float(window_s)
        # The CPU proxyd was given x the share of it that was busy.
        cpu = float(ticks_s) * min(1.0, busy / window) if window > 0 else float("nan")
        row["busy"] = busy
        row["per_busy"] = done / busy if busy > 0 else float("nan")
        row["locus"] = dict(full=int(b[2] - a[2]), resumed=int(b[3] - a[3]), failures=int(b[4] - a[4]))
    else:
        cpu = float(ticks_s)
    row.update(wall=wall, done=done, cpu=cpu, proc_cpu=float(ticks_s),
               per_wall=done / wall if wall > 0 else 0.0,
               per_cpu=done / cpu if cpu > 0 else float("nan"),
               resumed_pct=100.0 * int(res["resumed"]) / done if done else 0.0,
               ticket_pct=(100.0 * int(res.get("tickets_after_resumed", 0)) / int(res["resumed"])
                           if int(res["resumed"]) else float("nan")),
               client_util=float(res["client_cpu"]) / wall if wall > 0 else 0.0)
    rows.append(row)

print()
hdr = ["run", "key", "mode", "server", "handshakes", "per wall s", "server CPU s", "per server CPU s",
       "server util", "locus busy s", "per busy s", "client util", "resumed %", "new ticket %", "errors", "proto", "cert", "locus counted (full/resumed/failed)"]
table = [hdr]
for r in rows:
    if not r["ok"]:
        table.append([r["rep"], r["key"], r["mode"], r["server"], "FAILED", "", "", "", "", "", "", "", "", "", "", "", "",
                      r["err"][:60]])
        continue
    res = r["res"]
    errs = int(res["errors"])
    detail = ",".join(f"{n}={res[n]}" for n in ("connect", "handshake", "io", "status", "timeout") if res.get(n, "0") != "0")
    lc = r.get("locus")
    table.append([r["rep"], r["key"], r["mode"], r["server"], str(r["done"]), f"{r['per_wall']:.0f}",
                  f"{r['cpu']:.2f}", f"{r['per_cpu']:.0f}", f"{r['cpu'] / r['wall']:.2f}",
                  f"{r['busy']:.2f}" if "busy" in r else "-", f"{r['per_busy']:.0f}" if "busy" in r else "-",
                  f"{r['client_util']:.2f}", f"{r['resumed_pct']:.1f}",
                  "-" if r["ticket_pct"] != r["ticket_pct"] else f"{r['ticket_pct']:.1f}",
                  str(errs) + (f" ({detail})" if detail else ""), res.get("version", "-"), res.get("key", "-"),
                  f"{lc['full']}/{lc['resumed']}/{lc['failures']}" if lc else "-"])
w = [max(len(t[i]) for t in table) for i in range(len(hdr))]
for i, t in enumerate(table):
    print("  ".join(c.ljust(w[j]) for j, c in enumerate(t)).rstrip())
    if i == 0:
        print("-" * (sum(w) + 2 * (len(w) - 1)))

# Where the time went, per cell: a cell far below its usual rate with
# low utils is either starved of CPU (run-queue waits near the wall time)
# or waiting on the network (SYN retransmissions, RTO expiries).
if any("client_tcp" in r for r in rows if r["ok"]):
    print()
    print("stall evidence per cell (client = netns TCP counters; runq = s runnable but waiting for a CPU)")
    hdr2 = ["run", "key", "mode", "server", "per wall s", "client runq s", "server runq s", "syn retrans",
            "retrans segs", "loss probes", "rto timeouts", "locus retrans", "locus out_of_window"]
    t2 = [hdr2]
    for r in rows:
        if not r["ok"] or "client_tcp" not in r:
            continue
        ct, lt = r["client_tcp"], r.get("locus_tcp")
        crq = float(r["res"].get("client_runq_wait", "-1"))
        t2.append([r["rep"], r["key"], r["mode"], r["server"], f"{r['per_wall']:.0f}",
                   f"{crq:.2f}" if crq >= 0 else "-", f"{r['server_runq']:.2f}"] + [str(x) for x in ct] +
                  ([str(x) for x in lt] if lt else ["-", "-"]))
    w2 = [max(len(t[i]) for t in t2) for i in range(len(hdr2))]
    for i, t in enumerate(t2):
        print("  ".join(c.ljust(w2[j]) for j, c in enumerate(t)).rstrip())
        if i == 0:
            print("-" * (sum(w2) + 2 * (len(w2) - 1)))
    starved = [r for r in rows if r["ok"] and r["wall"] > 0 and
               float(r["res"].get("client_runq_wait", "-1")) / r["wall"] > 0.5]
    if starved:
        print("WARNING: the client waited for a CPU more than half of the wall time in: " +
              ", ".join(f"{r['server']} {r['key']} {r['mode']}" for r in starved) +
              " (its rate measures the machine's other load, not the server)")
    waited = [r for r in rows if r["ok"] and "client_tcp" in r and (r["client_tcp"][0] or r["client_tcp"][3])]
    if waited:
        print("WARNING: client SYN retransmissions or RTO expiries (each costs at least 1 s) in: " +
              ", ".join(f"{r['server']} {r['key']} {r['mode']}" for r in waited))

mean = defaultdict(lambda: defaultdict(list))
for r in rows:
    if r["ok"]:
        m = mean[(r["key"], r["mode"], r["server"])]
        m["wall"].append(r["per_wall"])
        m["cpu"].append(r["per_cpu"])
        if "per_busy" in r:
            m["busy"].append(r["per_busy"])
avg = lambda v: sum(v) / len(v) if v else float("nan")
# A cell that completed nothing (every connection timed out) has a rate of 0.
div = lambda a, b: a / b if b else float("nan")
print()
print("server CPU s: nginx worker / haproxy = utime+stime; Locus = proxyd's process CPU x busy share (busy-polling,")
print("its process uses all the CPU it is given). locus busy s = raw busy time of its poll loop, which on a loaded")
print("machine also counts preemption inside busy iterations: 'per busy s' is a lower bound for Locus.")
print("util = CPU s / wall s; both utils well below 1.00 means the machine's other load set the pace.")
print("resumed % = share of the counted connections that SSL_session_reused says resumed; new ticket % = share")
print("of those that got a new ticket from the server (the client reuses its newest ticket when none comes).")
print()
print("means; ratio = locus / peer handshakes per server CPU second (higher is better for Locus)")
print("  key    mode     server   per wall s  per server CPU s  ratio locus/peer  (locus per busy s, ratio)")
for k in ("ecdsa", "rsa"):
    for mode in ("full", "resumed"):
        for s in ("locus", "nginx", "haproxy"):
            m = mean[(k, mode, s)]
            ratio = extra = ""
            if s != "locus" and m["cpu"]:
                ratio = f"{div(avg(mean[(k, mode, 'locus')]['cpu']), avg(m['cpu'])):.2f}"
                extra = f"({div(avg(mean[(k, mode, 'locus')]['busy']), avg(m['cpu'])):.2f})"
            elif s == "locus" and m["busy"]:
                extra = f"({avg(m['busy']):.0f})"
            print(f"  {k:6s} {mode:8s} {s:8s} {avg(m['wall']):10.0f}  {avg(m['cpu']):16.0f}  {ratio:16s}  {extra}")

bad = [r for r in rows if r["ok"] and r["mode"] == "resumed" and r["resumed_pct"] < 99.0]
if bad:
    print("WARNING: resumed runs with under 99% resumed handshakes: " +
          ", ".join(f"{r['server']} {r['key']} {r['resumed_pct']:.1f}%" for r in bad))
noticket = [r for r in rows if r["ok"] and r["mode"] == "resumed" and r["ticket_pct"] == 0.0]
if noticket:
    print("NOTE: no new ticket after resumed handshakes from: " +
          ", ".join(f"{r['server']} {r['key']}" for r in noticket) +
          " (clients that use a TLS 1.3 ticket once, as OpenSSL's cache and browsers do, would resume only every other connection)")
errs = [r for r in rows if not r["ok"] or int(r["res"]["errors"]) > 0]
if errs:
    print("WARNING: runs with client errors or failures: " +
          ", ".join(f"{r['server']} {r['key']} {r['mode']}" for r in errs))

ours = avg(mean[("ecdsa", "full", "locus")]["cpu"])
peers = {p: avg(mean[("ecdsa", "full", p)]["cpu"]) for p in ("nginx", "haproxy")}
best = max(peers, key=lambda p: peers[p] if peers[p] == peers[p] else -1)
busy_ratio = div(avg(mean[("ecdsa", "full", "locus")]["busy"]), peers[best])
print(f"JSON headline: ECDSA P-256 full handshakes per server CPU second, Locus (process CPU x busy share) vs {best} "
      f"(the better of nginx and haproxy in this run); ratio = ours / peer: higher is better; "
      f"with Locus's raw busy time instead: ratio {busy_ratio:.2f}")
print(json.dumps({"bench": "tls_handshake",
                  "metric": "full TLS handshakes (ECDSA P-256, + GET 200) per server CPU second, one core (higher is better; mean of runs)",
                  "ours": round(ours, 1),
                  "peer": f"{best} (the better of nginx 1 worker and haproxy 1 thread in this run, same certificate)",
                  "peer_value": round(peers[best], 1),
                  "ratio": round(div(ours, peers[best]), 4)}))
