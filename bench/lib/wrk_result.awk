#!/usr/bin/awk -f
# Prints 'requests rps p99_ms errors' from wrk --latency output on stdin.
# awk, not Python: on this 2-core machine with busy-polling lcores, a
# Python start-up takes seconds, and the bench runs this 16 times.
function ms(v,   n, u) {
  if (!match(v, /^[0-9.]+/)) return "nan"
  n = substr(v, 1, RLENGTH) + 0
  u = substr(v, RLENGTH + 1)
  if (u == "us") return n / 1000
  if (u == "ms") return n
  if (u == "s") return n * 1000
  if (u == "m") return n * 60000
  return "nan"
}
BEGIN { requests = 0; rps = 0; p99 = "nan"; errors = 0 }
$1 == "99%" { p99 = ms($2) }
$2 == "requests" && $3 == "in" { requests = $1 + 0 }
$1 == "Requests/sec:" { rps = $2 + 0 }
/Socket errors:/ {
  for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { v = $i; sub(/,/, "", v); errors += v }
}
/Non-2xx or 3xx responses:/ { errors += $NF }
END { printf "%d %.2f %s %d\n", requests, rps, p99, errors }
