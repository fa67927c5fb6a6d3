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
# TLS listeners (topo_tls_certs first): one per key type and server, each
# with the same certificate for that key type, proxying to the same backend.
TLS_KEYS=(ecdsa rsa)
declare -A LOCUS_TLS_PORT=([ecdsa]=443 [rsa]=444)
declare -A NGINX_TLS_PORT=([ecdsa]=8443 [rsa]=8444)
declare -A HAPROXY_TLS_PORT=([ecdsa]=8445 [rsa]=8446)
PROXY_CPU=${PROXY_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
# The backend's answer: a 19-byte body.
BACKEND_BODY='hello from backend'

TOPO_PIDS=()

# The EXIT trap. Also run on INT/TERM/HUP (topo_trap installs both), so
# an interrupted bench leaves no namespace, bridge, tap or process behind.
# The work directory (configs, logs) is removed on success and kept, with
# its path printed, on failure.
topo_cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM HUP
  if [[ -z "${TOPO_OWNED:-}" ]]; then
    # topo_check_free refused: the interfaces are someone else's. The work
    # directory (mktemp's) is ours and empty.
    [[ -n "${TOPO_WORK:-}" ]] && rm -rf "$TOPO_WORK"
    return $rc
  fi
  for pid in "${TOPO_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${TOPO_PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for f in "$TOPO_WORK"/*.pid; do [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null; done
  # Whatever still runs in our namespaces (a wrk in the background, the
  # backend's workers) is ours.
  topo_kill_ns "$LOCB_NS_CL"
  topo_kill_ns "$LOCB_NS_BE"
  sleep 0.3
  ip link del locbbe0 2>/dev/null
  ip link del locbcl0 2>/dev/null
  ip link del locbpx0 2>/dev/null
  ip netns del "$LOCB_NS_BE" 2>/dev/null
  ip netns del "$LOCB_NS_CL" 2>/dev/null
  ip link del "$LOCB_BR" 2>/dev/null
  if [[ -n "${TOPO_WORK:-}" && -d "$TOPO_WORK" ]]; then
    if [[ $rc -eq 0 && -z "${KEEP_WORK:-}" ]]; then
      rm -rf "$TOPO_WORK"
    else
      echo "bench: logs kept in $TOPO_WORK" >&2
    fi
  fi
  return $rc
}

# Installs topo_cleanup on exit and on the signals that would otherwise
# skip the EXIT trap.
topo_trap() {
  trap topo_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

# topo_kill_ns NS: ends every process in our namespace NS (by pid).
topo_kill_ns() {
  local pids
  pids=$(ip netns pids "$1" 2>/dev/null) || return 0
  [[ -z "$pids" ]] && return 0
  # shellcheck disable=SC2086
  kill $pids 2>/dev/null
  for _ in $(seq 1 20); do
    pids=$(ip netns pids "$1" 2>/dev/null)
    [[ -z "$pids" ]] && return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -9 $pids 2>/dev/null
  return 0
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
  TOPO_OWNED=1
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
$(topo_nginx_tls_servers)
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
$(topo_haproxy_tls_frontends)
CONF
  haproxy -f "$TOPO_WORK/haproxy.cfg" -D -p "$TOPO_WORK/haproxy.pid"
  sleep 0.3
  HAPROXY_PID=$(head -1 "$TOPO_WORK/haproxy.pid")
}

# topo_tls_certs: a self-signed ECDSA P-256 and an RSA-2048 certificate
# (CN and DNS name bench.locus, 1 year) made now with the openssl CLI, in
# $TOPO_WORK/tls: KEY.crt, KEY.key (PKCS#8) and KEY.pem (both, for
# haproxy). Afterwards topo_start_nginx_proxy and topo_start_haproxy add
# their TLS listeners and topo_locus_tls_config writes proxyd's.
topo_tls_certs() {
  TOPO_TLS_DIR=$TOPO_WORK/tls
  mkdir -p "$TOPO_TLS_DIR"
  local k
  for k in "${TLS_KEYS[@]}"; do
    local newkey=(-newkey rsa:2048)
    [[ $k == ecdsa ]] && newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
    openssl req -x509 "${newkey[@]}" -sha256 -nodes -days 365 -subj "/CN=bench.locus" \
      -addext "subjectAltName=DNS:bench.locus" -keyout "$TOPO_TLS_DIR/$k.key" \
      -out "$TOPO_TLS_DIR/$k.crt" 2>/dev/null
    cat "$TOPO_TLS_DIR/$k.crt" "$TOPO_TLS_DIR/$k.key" >"$TOPO_TLS_DIR/$k.pem"
  done
}

# nginx server blocks for the TLS listeners (empty before topo_tls_certs).
# Defaults otherwise: session tickets on (a key per nginx start), no
# session cache.
topo_nginx_tls_servers() {
  [[ -z "${TOPO_TLS_DIR:-}" ]] && return 0
  local k
  for k in "${TLS_KEYS[@]}"; do
    cat <<CONF
  server {
    listen $LOCB_HOST_IP:${NGINX_TLS_PORT[$k]} ssl backlog=4096;
    ssl_certificate $TOPO_TLS_DIR/$k.crt;
    ssl_certificate_key $TOPO_TLS_DIR/$k.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
CONF
  done
}

# haproxy frontends for the TLS listeners (empty before topo_tls_certs).
# haproxy's defaults: tickets on, its own session cache.
topo_haproxy_tls_frontends() {
  [[ -z "${TOPO_TLS_DIR:-}" ]] && return 0
  local k
  for k in "${TLS_KEYS[@]}"; do
    cat <<CONF
frontend fe_tls_$k
  bind $LOCB_HOST_IP:${HAPROXY_TLS_PORT[$k]} ssl crt $TOPO_TLS_DIR/$k.pem ssl-min-ver TLSv1.2
  default_backend be
CONF
  done
}

# topo_locus_tls_config BASE_YAML OUT_YAML: BASE_YAML with one more HTTP
# listener per key type (LOCUS_TLS_PORT), TLS with that certificate as the
# default one, same route table and limits as the plain listener.
topo_locus_tls_config() {
  local listeners=$TOPO_WORK/tls-listeners.yaml k
  : >"$listeners"
  for k in "${TLS_KEYS[@]}"; do
    cat >>"$listeners" <<YAML
  - name: tls-$k
    port: ${LOCUS_TLS_PORT[$k]}
    protocol: HTTP
    route_table: main
    limits:
      max_connections: 100000
      idle_timeout: 60s
      header_timeout: 10s
    tls:
      default_certificate: $k
      certificates:
        - name: $k
          cert_chain_pem: |
$(sed 's/^/            /' "$TOPO_TLS_DIR/$k.crt")
          private_key_pem: |
$(sed 's/^/            /' "$TOPO_TLS_DIR/$k.key")
YAML
  done
  sed "/^listeners:\$/r $listeners" "$1" >"$2"
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
