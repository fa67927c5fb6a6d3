# Sourced by the proxy benches. A bench network that every proxy is
# measured on, all created here and removed by topo_cleanup:
#
#   netns locb-cl: wrk, 10.231.7.21 ─ veth ─┐
#                                         bridge locbbr0 10.231.7.1 (root ns:
#   netns locb-be: nginx backend,         │   nginx proxy :8081, haproxy :8082)
#                  10.231.7.11:8080 ─ veth ─┤
#   proxyd's DPDK tap locb0 ───────────────┘   Locus 10.231.7.2:80
#
# So every proxy's client traffic crosses the same veth and bridge, and
# every proxy reaches the same backend over the same veth and bridge. Only
# Locus's traffic also crosses the tap (its "NIC").
#
# CPUs: the proxy under test on PROXY_CPU (1), wrk and the backend on
# CLIENT_CPU (0).

LOCB_NS_BE=locb-be
LOCB_NS_CL=locb-cl
LOCB_BR=locbbr0
LOCB_TAP=locb0
LOCB_HOST_IP=10.231.7.1
LOCB_STACK_IP=10.231.7.2
LOCB_BACKEND_IP=10.231.7.11
LOCB_CLIENT_IP=10.231.7.21
LOCB_API=127.0.0.1:7190
LOCB_ADMIN=127.0.0.1:9911
NGINX_PROXY_PORT=8081
HAPROXY_PORT=8082
PROXY_CPU=${PROXY_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
# The backend's answer: a 19-byte body.
BACKEND_BODY='hello from backend'

TOPO_PIDS=()

topo_cleanup() {
  set +e
  for pid in "${TOPO_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${TOPO_PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for f in "$TOPO_WORK"/*.pid; do [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null; done
  sleep 0.3
  ip link del locbbe0 2>/dev/null
  ip link del locbcl0 2>/dev/null
  ip link del locbpx0 2>/dev/null
  ip netns del "$LOCB_NS_BE" 2>/dev/null
  ip netns del "$LOCB_NS_CL" 2>/dev/null
  ip link del "$LOCB_BR" 2>/dev/null
  set -e
}

topo_check_free() {
  for dev in "$LOCB_TAP" "$LOCB_BR" locbbe0 locbcl0 locbpx0; do
    if ip link show "$dev" >/dev/null 2>&1; then
      echo "topology: interface $dev exists (another bench running?); remove it first" >&2
      return 1
    fi
  done
  # Other engineers' tests use their own bridges and subnets on this host:
  # never add a second route to a subnet someone already uses.
  if ip route show | grep -q "^${LOCB_HOST_IP%.*}\."; then
    echo "topology: subnet ${LOCB_HOST_IP%.*}.0/24 is already routed here: $(ip route show | grep "^${LOCB_HOST_IP%.*}\.")" >&2
    return 1
  fi
  for ns in "$LOCB_NS_BE" "$LOCB_NS_CL"; do
    if ip netns list | grep -qw "$ns"; then
      echo "topology: netns $ns exists; remove it with: ip netns del $ns" >&2
      return 1
    fi
  done
}

# topo_setup WORKDIR
topo_setup() {
  TOPO_WORK=$1
  topo_check_free
  ip link add "$LOCB_BR" type bridge
  ip addr add "$LOCB_HOST_IP/24" dev "$LOCB_BR"
  ip link set "$LOCB_BR" up
  local ns peer ip
  for spec in "$LOCB_NS_BE:locbbe:$LOCB_BACKEND_IP" "$LOCB_NS_CL:locbcl:$LOCB_CLIENT_IP"; do
    IFS=: read -r ns peer ip <<<"$spec"
    ip netns add "$ns"
    ip link add "${peer}0" type veth peer name "${peer}1"
    ip link set "${peer}1" netns "$ns"
    ip link set "${peer}0" master "$LOCB_BR"
    ip link set "${peer}0" up
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip addr add "$ip/24" dev "${peer}1"
    ip netns exec "$ns" ip link set "${peer}1" up
  done
  cat >"$TOPO_WORK/backend.conf" <<CONF
worker_processes 1;
worker_cpu_affinity $(topo_cpu_mask "$CLIENT_CPU");
daemon on;
pid $TOPO_WORK/backend.pid;
error_log $TOPO_WORK/backend.error.log warn;
worker_rlimit_nofile 16384;
events { worker_connections 8000; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $TOPO_WORK/be-body;
  proxy_temp_path $TOPO_WORK/be-proxy;
  fastcgi_temp_path $TOPO_WORK/be-fastcgi;
  uwsgi_temp_path $TOPO_WORK/be-uwsgi;
  scgi_temp_path $TOPO_WORK/be-scgi;
  server {
    listen $LOCB_BACKEND_IP:8080 backlog=4096;
    location / { default_type text/plain; return 200 "$BACKEND_BODY\n"; }
  }
}
CONF
  ip netns exec "$LOCB_NS_BE" nginx -c "$TOPO_WORK/backend.conf" -e "$TOPO_WORK/backend.error.log"
}

# nginx's worker_cpu_affinity mask for one CPU: 1 -> 10, 0 -> 1.
topo_cpu_mask() {
  local cpu=$1 mask=1
  for ((i = 0; i < cpu; i++)); do mask="${mask}0"; done
  echo "$mask"
}

# topo_start_proxyd BINARY CONFIG_YAML
# LOCUS_PORT=tap (default): proxyd's own DPDK tap device joins the bridge.
# LOCUS_PORT=af_packet: a veth pair, one end in the bridge, proxyd on the
# other through DPDK's net_af_packet (PACKET_MMAP rings) instead.
topo_start_proxyd() {
  local device="net_tap0,iface=$LOCB_TAP"
  if [[ "${LOCUS_PORT:-tap}" == af_packet ]]; then
    ip link add locbpx0 type veth peer name "$LOCB_TAP"
    ip link set locbpx0 master "$LOCB_BR"
    ip link set locbpx0 up
    ip link set "$LOCB_TAP" up
    device="net_af_packet0,iface=$LOCB_TAP,qpairs=1"
    # Veths leave TCP checksums to "hardware" (CHECKSUM_PARTIAL), and
    # net_af_packet does not pass that state on: the senders must fill them.
    ip netns exec "$LOCB_NS_CL" ethtool -K locbcl1 tx off >/dev/null
    ip netns exec "$LOCB_NS_BE" ethtool -K locbbe1 tx off >/dev/null
  fi
  "$1" --device="$device" --ip="$LOCB_STACK_IP/24" --lcores="$PROXY_CPU" \
    --config="$2" --config_state="$TOPO_WORK/config.json" --access_log="" \
    --api_address="$LOCB_API" --admin_address="$LOCB_ADMIN" >"$TOPO_WORK/proxyd.log" 2>&1 &
  PROXYD_PID=$!
  TOPO_PIDS+=("$PROXYD_PID")
  for _ in $(seq 1 100); do
    ip link show "$LOCB_TAP" >/dev/null 2>&1 && break
    if ! kill -0 "$PROXYD_PID" 2>/dev/null; then
      echo "proxyd exited:" >&2
      cat "$TOPO_WORK/proxyd.log" >&2
      return 1
    fi
    sleep 0.1
  done
  if [[ "${LOCUS_PORT:-tap}" != af_packet ]]; then
    ip link set "$LOCB_TAP" master "$LOCB_BR"
    ip link set "$LOCB_TAP" up
  fi
  for _ in $(seq 1 100); do
    curl -sf "http://$LOCB_ADMIN/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "proxyd did not become ready" >&2
  return 1
}

topo_start_nginx_proxy() {
  cat >"$TOPO_WORK/nginx-proxy.conf" <<CONF
worker_processes 1;
worker_cpu_affinity $(topo_cpu_mask "$PROXY_CPU");
daemon on;
pid $TOPO_WORK/nginx-proxy.pid;
error_log $TOPO_WORK/nginx-proxy.error.log warn;
worker_rlimit_nofile 16384;
events { worker_connections 8000; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $TOPO_WORK/px-body;
  proxy_temp_path $TOPO_WORK/px-proxy;
  fastcgi_temp_path $TOPO_WORK/px-fastcgi;
  uwsgi_temp_path $TOPO_WORK/px-uwsgi;
  scgi_temp_path $TOPO_WORK/px-scgi;
  upstream backend {
    server $LOCB_BACKEND_IP:8080;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen $LOCB_HOST_IP:$NGINX_PROXY_PORT backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
  nginx -c "$TOPO_WORK/nginx-proxy.conf" -e "$TOPO_WORK/nginx-proxy.error.log"
  sleep 0.3
  NGINX_WORKER_PID=$(pgrep -P "$(cat "$TOPO_WORK/nginx-proxy.pid")" | head -1)
}

topo_start_haproxy() {
  cat >"$TOPO_WORK/haproxy.cfg" <<CONF
global
  nbthread 1
  cpu-map 1/1 $PROXY_CPU
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind $LOCB_HOST_IP:$HAPROXY_PORT
  default_backend be
backend be
  http-reuse always
  server b1 $LOCB_BACKEND_IP:8080
CONF
  haproxy -f "$TOPO_WORK/haproxy.cfg" -D -p "$TOPO_WORK/haproxy.pid"
  sleep 0.3
  HAPROXY_PID=$(head -1 "$TOPO_WORK/haproxy.pid")
}

# utime + stime of a process (all its threads), in clock ticks.
topo_cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Sum of a Prometheus counter over all its label sets, from proxyd.
topo_metric() {
  curl -s "http://$LOCB_ADMIN/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%.9f\n", s }'
}

# wrk from the client namespace, pinned to CLIENT_CPU. Extra args follow.
topo_wrk() {
  ip netns exec "$LOCB_NS_CL" taskset -c "$CLIENT_CPU" wrk "$@"
}
