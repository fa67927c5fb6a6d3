#!/usr/bin/env python3
"""Prints 'requests rps p99_ms errors' from wrk --latency output on stdin."""
import re
import sys

text = sys.stdin.read()
def num(pattern, default="0"):
    m = re.search(pattern, text)
    return m.group(1) if m else default

def ms(value):
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]

requests = int(num(r"(\d+) requests in"))
rps = float(num(r"Requests/sec:\s+([\d.]+)"))
p99 = ms(num(r"\s99%\s+(\S+)", "nan"))
errors = 0
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
if m:
    errors += sum(int(x) for x in m.groups())
errors += int(num(r"Non-2xx or 3xx responses: (\d+)"))
print(requests, rps, p99, errors)
