#!/usr/bin/python3
"""The change loop of config_churn_test.sh (standard library only).

Runs in the test's client namespace. Applies COUNT changes through
`proxyctl apply -f FILE --merge --if-version V`, alternating route-table and
pool changes, each a single resource and each a new version. After every
change one request on a new connection (http.client, Connection: close) must
come from the backend the new version routes to (the X-Backend header), and
proxyctl's output must say "applied: version V -> V+1" without the warning
that some core had not applied it. Every STATUS_EVERY-th change (and the last)
`proxyctl status -o json` must show that version on every core (default 20).

Config shape (wrk's /c/load follows the same route as the checks):
  listener web :80 -> route table main:
    hdr: prefix /c/ and header x-churn == h<N>  -> the pool chk does not use
    chk: prefix /c/                             -> pa or pb (or both, one weight 0)
  pools pa, pb: nginx endpoints (n1..n3 x ports 8080..8084); in each pool
  exactly one endpoint has a non-zero weight, and pa's and pb's differ.
Changes cycle route, pool, route, pool, ...; route changes cycle
  switch: chk's single pool becomes the other one,
  shift:  chk lists both pools with weights 1/0 swapped,
  header: hdr's exact header value (and its pool) changes;
pool changes (always of the pool chk sends to, so the check sees them) cycle
  endpoint: the pool's endpoint list becomes one new endpoint,
  weights:  [old endpoint weight 0, new endpoint weight 1].
Each change moves the check to an identity (backend:port) that the previous
version would not give, so a stale route table or pool is always caught.

Writes DIR/changes.tsv (one line per change) and prints a JSON summary.
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--proxyctl", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--vip", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--nginx", required=True, help="n1=IP,n2=IP,...")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--deadline_s", type=float, default=300)
    p.add_argument("--status_every", type=int, default=20)
    p.add_argument("--initial", action="store_true",
                   help="only write the initial config to DIR/v0.json and exit")
    return p.parse_args()


class State:
    def __init__(self, nginx):
        # identities in a fixed order: n1:8080, n2:8080, n3:8080, n1:8081, ...
        self.ids = ["%s:%d" % (n, port) for port in range(8080, 8085) for n, _ in nginx]
        self.addr = dict(nginx)
        self.next_id = 0
        self.pool_eps = {"pa": [(self.ids[0], 1)], "pb": [(self.ids[1], 1)]}
        self.next_id = 2
        self.chk = "pa"           # the pool chk sends to
        self.chk_shift = False    # chk as [pa w, pb w] instead of a single pool
        self.hdr_value = "h0"
        self.hdr_n = 0

    def other(self, pool):
        return "pb" if pool == "pa" else "pa"

    def active(self, pool):
        return [i for i, w in self.pool_eps[pool] if w > 0][0]

    def fresh_identity(self):
        """The next identity that neither pool serves now."""
        busy = {self.active("pa"), self.active("pb")}
        while True:
            i = self.ids[self.next_id % len(self.ids)]
            self.next_id += 1
            if i not in busy:
                return i

    def endpoint(self, ident, weight):
        name, port = ident.split(":")
        return {"address": self.addr[name], "port": int(port), "weight": weight}

    def pool(self, name):
        return {"name": name, "lb_policy": "ROUND_ROBIN",
                "endpoints": [self.endpoint(i, w) for i, w in self.pool_eps[name]]}

    def route_table(self):
        if self.chk_shift:
            wp = [{"pool": "pa", "weight": 1 if self.chk == "pa" else 0},
                  {"pool": "pb", "weight": 1 if self.chk == "pb" else 0}]
        else:
            wp = [{"pool": self.chk}]
        return {"name": "main", "routes": [
            {"name": "hdr", "match": {"prefix": "/c/", "headers": [{"name": "x-churn", "exact": self.hdr_value}]},
             "action": {"weighted_pools": [{"pool": self.other(self.chk)}]}},
            {"name": "chk", "match": {"prefix": "/c/"}, "action": {"weighted_pools": wp}},
        ]}

    def full(self):
        return {"listeners": [{"name": "web", "port": 80, "route_table": "main"}],
                "route_tables": [self.route_table()],
                "pools": [self.pool("pa"), self.pool("pb")]}

    def change(self, n):
        """Change number n (0-based): mutate the state; returns (kind, the
        resource-only config for --merge, the header to send, the identity
        the check must see)."""
        if n % 2 == 0:
            sub = ("switch", "shift", "header")[(n // 2) % 3]
            if sub == "switch":
                self.chk = self.other(self.chk)
                self.chk_shift = False
                header, want = None, self.active(self.chk)
            elif sub == "shift":
                self.chk = self.other(self.chk)
                self.chk_shift = True
                header, want = None, self.active(self.chk)
            else:
                self.hdr_n += 1
                self.hdr_value = "h%d" % self.hdr_n
                header, want = self.hdr_value, self.active(self.other(self.chk))
            return "route-" + sub, {"route_tables": [self.route_table()]}, header, want
        sub = ("endpoint", "weights")[(n // 2) % 2]
        pool = self.chk
        new = self.fresh_identity()
        if sub == "endpoint":
            self.pool_eps[pool] = [(new, 1)]
        else:
            self.pool_eps[pool] = [(self.active(pool), 0), (new, 1)]
        return "pool-" + sub, {"pools": [self.pool(pool)]}, None, new


def check_request(vip, header):
    """One GET /c/check on a new connection; the X-Backend it got, or an error."""
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection(vip, 80, timeout=5)
        h = {"Connection": "close"}
        if header:
            h["X-Churn"] = header
        c.request("GET", "/c/check", headers=h)
        r = c.getresponse()
        r.read()
        got = r.getheader("X-Backend") if r.status == 200 else "status %d" % r.status
        c.close()
    except (OSError, http.client.HTTPException) as e:
        got = "error %s" % e
    return got, (time.monotonic() - t0) * 1000


def ctl(args, *rest, timeout=30):
    t0 = time.monotonic()
    p = subprocess.run([args.proxyctl, "--server=" + args.server] + list(rest),
                       capture_output=True, text=True, timeout=timeout)
    return p, (time.monotonic() - t0) * 1000


def status(args):
    p, ms = ctl(args, "status", "-o", "json")
    if p.returncode != 0:
        return None, [], ms
    s = json.loads(p.stdout)
    return int(s.get("configVersion", 0)), [int(c.get("appliedVersion", 0)) for c in s.get("cores", [])], ms


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else 0


def main():
    args = parse_args()
    nginx = [kv.split("=") for kv in args.nginx.split(",")]
    st = State(nginx)
    if args.initial:
        json.dump(st.full(), open(os.path.join(args.work, "v0.json"), "w"), indent=1)
        return 0
    version, cores, _ = status(args)
    if version is None:
        print(json.dumps({"error": "proxyctl status failed"}))
        return 1
    start_version = version
    end = time.monotonic() + args.deadline_s
    out = open(os.path.join(args.work, "changes.tsv"), "w")
    out.write("n\tkind\tversion\tapply_ms\tcheck_ms\twant\tgot\tstatus_cores\tresult\n")
    res = {"start_version": start_version, "changes": 0, "mismatches": 0, "apply_failures": 0,
           "not_applied_warnings": 0, "version_errors": 0, "status_checks": 0, "status_mismatches": 0,
           "deadline_hit": False, "first_problems": []}
    apply_ms, check_ms, status_ms = [], [], []
    fpath = os.path.join(args.work, "change.json")
    t_start = time.monotonic()
    for n in range(args.count):
        if time.monotonic() > end:
            res["deadline_hit"] = True
            break
        kind, resource, header, want = st.change(n)
        with open(fpath, "w") as f:
            json.dump(resource, f)
        p, ms = ctl(args, "apply", "-f", fpath, "--merge", "--if-version", str(version))
        apply_ms.append(ms)
        problems = []
        expect = "applied: version %d -> %d" % (version, version + 1)
        if p.returncode != 0:
            res["apply_failures"] += 1
            problems.append("apply exit %d: %s" % (p.returncode, (p.stderr or p.stdout).strip()[:300]))
        else:
            if expect not in p.stdout:
                res["version_errors"] += 1
                problems.append("apply said %r, want %r" % (p.stdout.strip()[:200], expect))
            if "not every core" in p.stderr:
                res["not_applied_warnings"] += 1
                problems.append("apply warned: %s" % p.stderr.strip()[:200])
        version += 1
        got, cms = check_request(args.vip, header)
        check_ms.append(cms)
        if got != want:
            res["mismatches"] += 1
            problems.append("check got %s, want %s" % (got, want))
        cores_txt = "-"
        if (n + 1) % args.status_every == 0 or n + 1 == args.count:
            v, cores, sms = status(args)
            status_ms.append(sms)
            res["status_checks"] += 1
            cores_txt = ",".join(map(str, cores))
            if v != version or not cores or any(c != version for c in cores):
                res["status_mismatches"] += 1
                problems.append("status: version %s, cores %s, want %d" % (v, cores_txt, version))
        out.write("%d\t%s\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%s\n" % (
            n + 1, kind, version, ms, cms, want, got, cores_txt, "; ".join(problems) or "ok"))
        res["changes"] += 1
        if problems and len(res["first_problems"]) < 10:
            res["first_problems"].append("change %d (%s, version %d): %s" % (n + 1, kind, version, "; ".join(problems)))
        if p.returncode != 0:
            # Resynchronise the version so one refused apply does not fail
            # every later one on --if-version.
            v, _, _ = status(args)
            if v is not None:
                version = v
    out.close()
    res["loop_s"] = round(time.monotonic() - t_start, 1)
    res["end_version"] = version
    for name, xs in (("apply_ms", apply_ms), ("check_ms", check_ms), ("status_ms", status_ms)):
        res[name] = {"median": round(statistics.median(xs), 1) if xs else 0,
                     "p90": round(pct(xs, 0.90), 1), "p99": round(pct(xs, 0.99), 1),
                     "max": round(max(xs), 1) if xs else 0}
    kinds = {}
    with open(os.path.join(args.work, "changes.tsv")) as f:
        next(f)
        for line in f:
            k = line.split("\t")[1]
            kinds[k] = kinds.get(k, 0) + 1
    res["kinds"] = kinds
    json.dump(st.full(), open(os.path.join(args.work, "last.json"), "w"), indent=1)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
