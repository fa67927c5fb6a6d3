#!/usr/bin/env python3
"""Measures how long a config change takes to reach every core (Locus) or
to be served (nginx), while wrk loads the proxy. Prints one line per
sample to stderr and, on stdout, a JSON summary.

  apply_latency.py locus PROXYCTL API ADMIN YAML N
  apply_latency.py nginx CONF URL N
"""
import http.client
import json
import re
import statistics
import subprocess
import sys
import time


def percentile(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def summary(name, lat_ms, call_ms, poll_ms, extra):
    return {
        "peer": name,
        "samples": len(lat_ms),
        "p50_ms": percentile(lat_ms, 50),
        "p99_ms": percentile(lat_ms, 99),
        "max_ms": max(lat_ms) if lat_ms else float("nan"),
        "call_p50_ms": percentile(call_ms, 50),
        "poll_rtt_p50_ms": percentile(poll_ms, 50),
        **extra,
    }


def locus(proxyctl, api, admin, yaml_path, n):
    host, port = admin.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    base = open(yaml_path).read()
    lat, call, poll = [], [], []
    for i in range(n):
        # A real change each time: the route's timeout alternates.
        text = base.replace("timeout: 5s", f"timeout: {5 + (i % 2)}s")
        path = f"{yaml_path}.{i % 2}"
        open(path, "w").write(text)
        t0 = time.perf_counter()
        out = subprocess.run([proxyctl, f"--server={api}", "apply", "-f", path],
                             capture_output=True, text=True)
        t_ret = time.perf_counter()
        m = re.search(r"version (\d+) -> (\d+)", out.stdout)
        if not m:
            print(f"apply {i}: {out.stdout.strip()} {out.stderr.strip()}", file=sys.stderr)
            continue
        version = int(m.group(2))
        polls = 0
        while True:
            p0 = time.perf_counter()
            conn.request("GET", "/stats")
            stats = json.loads(conn.getresponse().read())
            p1 = time.perf_counter()
            polls += 1
            poll.append((p1 - p0) * 1e3)
            if all(c["applied_version"] >= version for c in stats["cores"]):
                break
            if p1 - t_ret > 10:
                print(f"apply {i}: not applied after 10 s", file=sys.stderr)
                break
        lat.append((p1 - t_ret) * 1e3)
        call.append((t_ret - t0) * 1e3)
        print(f"locus apply {i}: version {version}, every core after {lat[-1]:.3f} ms "
              f"({polls} polls), proxyctl took {call[-1]:.1f} ms", file=sys.stderr)
        time.sleep(0.2)
    return summary("locus", lat, call, poll, {"cores": len(stats["cores"])})


def nginx(conf, url, n):
    m = re.match(r"http://([^:/]+):(\d+)", url)
    host, port = m.group(1), int(m.group(2))
    base = open(conf).read()
    lat, call, poll = [], [], []
    for i in range(n):
        version = f"v{i}-{time.time_ns()}"
        open(conf, "w").write(base.replace("location / {",
                                           f"location / {{\n      add_header X-Config-Version {version};", 1))
        t0 = time.perf_counter()
        subprocess.run(["nginx", "-c", conf, "-s", "reload"], check=True, capture_output=True)
        t_ret = time.perf_counter()
        polls = 0
        while True:
            p0 = time.perf_counter()
            # A new connection each time: keep-alive connections stay with
            # the old worker until they close.
            c = http.client.HTTPConnection(host, port, timeout=5)
            try:
                c.request("GET", "/")
                r = c.getresponse()
                r.read()
                got = r.getheader("X-Config-Version")
            except OSError:
                got = None
            finally:
                c.close()
            p1 = time.perf_counter()
            polls += 1
            poll.append((p1 - p0) * 1e3)
            if got == version:
                break
            if p1 - t_ret > 10:
                print(f"reload {i}: not served after 10 s", file=sys.stderr)
                break
        lat.append((p1 - t_ret) * 1e3)
        call.append((t_ret - t0) * 1e3)
        print(f"nginx reload {i}: served after {lat[-1]:.3f} ms ({polls} polls), "
              f"nginx -s reload took {call[-1]:.1f} ms", file=sys.stderr)
        time.sleep(0.2)
    open(conf, "w").write(base)
    return summary("nginx", lat, call, poll, {})


if __name__ == "__main__":
    if sys.argv[1] == "locus":
        r = locus(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        r = nginx(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    print(json.dumps(r))
