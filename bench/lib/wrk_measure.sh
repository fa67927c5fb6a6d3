# Sourced by the wrk benches (proxy_wrk, https_wrk) after topology.sh and
# once the proxies run: one measured wrk run against one proxy, with the
# proxy's CPU time around it, appended as a row to a TSV that
# bench/lib/wrk_table.py prints.
#
# Proxy CPU: proxyd's busy time (locus_loop_busy_seconds_total, poll
# iterations that did work; its lcore busy-polls so its process CPU is
# always 100%) over its requests (locus_requests_total); nginx's worker and
# haproxy's process: utime+stime from /proc/PID/stat over wrk's requests.

WRK_TICK=$(getconf CLK_TCK)

# per_req NUMERATOR_EXPR COUNT_EXPR: NUMERATOR / max(1, COUNT), 2 decimals.
# (awk: a Python start-up costs seconds on this loaded 2-core machine.)
per_req() { awk "BEGIN { n = $2; if (n < 1) n = 1; printf \"%.2f\", ($1) / n }"; }

# wrk_check_answers BENCH [CURL ARGS...]: each of the caller's URL[direct],
# URL[locus], URL[nginx], URL[haproxy] answers with the backend's body
# before anything is measured; exits otherwise.
wrk_check_answers() {
  local bench=$1 p body
  shift
  for p in direct locus nginx haproxy; do
    body=$(ip netns exec "$LOCB_NS_CL" curl -sS "$@" --max-time 5 "${URL[$p]}")
    if [[ "$body" != "$BACKEND_BODY" ]]; then
      echo "$bench: $p answered '$body'" >&2
      exit 1
    fi
  done
}

# wrk_measure RESULTS REP MODE PROXY URL [EXTRA WRK ARGS...]
# PROXY is direct, locus, nginx or haproxy. Uses CONNS and DURATION. A 1 s
# warm-up run (upstream pools, ARP, caches; TLS session caches) comes first
# and is not measured.
wrk_measure() {
  local results=$1 rep=$2 mode=$3 p=$4 url=$5
  shift 5
  local b0 r0 t0 b1 r1 t1 out requests rps p99 errors cpu_us="-" proc_us="-"
  topo_wrk -t1 -c"$CONNS" -d1s "$@" "$url" >/dev/null
  case $p in
    locus) b0=$(topo_metric locus_loop_busy_seconds_total); r0=$(topo_metric locus_requests_total)
           t0=$(topo_cpu_ticks "$PROXYD_PID") ;;
    nginx) t0=$(topo_cpu_ticks "$NGINX_WORKER_PID") ;;
    haproxy) t0=$(topo_cpu_ticks "$HAPROXY_PID") ;;
  esac
  out=$(topo_wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$url")
  read -r requests rps p99 errors <<<"$(awk -f bench/lib/wrk_result.awk <<<"$out")"
  case $p in
    locus)
      b1=$(topo_metric locus_loop_busy_seconds_total); r1=$(topo_metric locus_requests_total)
      t1=$(topo_cpu_ticks "$PROXYD_PID")
      cpu_us=$(per_req "($b1 - $b0) * 1e6" "$r1 - $r0")
      proc_us=$(per_req "($t1 - $t0) / $WRK_TICK * 1e6" "$requests") ;;
    nginx)
      t1=$(topo_cpu_ticks "$NGINX_WORKER_PID")
      cpu_us=$(per_req "($t1 - $t0) / $WRK_TICK * 1e6" "$requests"); proc_us=$cpu_us ;;
    haproxy)
      t1=$(topo_cpu_ticks "$HAPROXY_PID")
      cpu_us=$(per_req "($t1 - $t0) / $WRK_TICK * 1e6" "$requests"); proc_us=$cpu_us ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$mode" "$p" "$requests" "$rps" "$p99" \
    "$errors" "$cpu_us" "$proc_us" >>"$results"
}
