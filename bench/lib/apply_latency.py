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
import threading
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


class Poller(threading.Thread):
    """Polls /stats back to back over one keep-alive connection and keeps
    (sent, received, lowest applied version over the cores)."""

    def __init__(self, admin):
        super().__init__(daemon=True)
        host, port = admin.split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=5)
        self.samples = []
        self.lock = threading.Lock()
        self.stop = False
        self.cores = 0

    def run(self):
        while not self.stop:
            t0 = time.perf_counter()
            self.conn.request("GET", "/stats")
            stats = json.loads(self.conn.getresponse().read())
            t1 = time.perf_counter()
            self.cores = len(stats["cores"])
            with self.lock:
                self.samples.append((t0, t1, min(c["applied_version"] for c in stats["cores"])))

    def first_with(self, version, after, deadline=10):
        end = time.perf_counter() + deadline
        while time.perf_counter() < end:
            with self.lock:
                for t0, t1, v in self.samples:
                    if v >= version and t1 >= after:
                        return t0, t1
            time.sleep(0.001)
        return None


def locus(proxyctl, api, admin, yaml_path, n):
    base = open(yaml_path).read()
    poller = Poller(admin)
    poller.start()
    lat, low, call = [], [], []
    for i in range(n):
        # A real change each time: the route's timeout alternates 6s, 5s.
        text = base.replace("timeout: 5s", f"timeout: {5 + ((i + 1) % 2)}s")
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
        seen = poller.first_with(version, t_ret)
        if seen is None:
            print(f"apply {i}: version {version} not applied after 10 s", file=sys.stderr)
            continue
        # The cores switched between the poll's send and its answer; a
        # poll sent before Apply returned bounds the latency by 0 below.
        lat.append((seen[1] - t_ret) * 1e3)
        low.append(max(0.0, seen[0] - t_ret) * 1e3)
        call.append((t_ret - t0) * 1e3)
        print(f"locus apply {i}: version {version}, every core within {low[-1]:.3f}..{lat[-1]:.3f} ms "
              f"of Apply returning; proxyctl took {call[-1]:.1f} ms", file=sys.stderr)
        time.sleep(0.2)
    poller.stop = True
    with poller.lock:
        rtts = [(t1 - t0) * 1e3 for t0, t1, _ in poller.samples]
    return summary("locus", lat, call, rtts,
                   {"cores": poller.cores, "lower_p50_ms": percentile(low, 50),
                    "lower_p99_ms": percentile(low, 99)})


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
