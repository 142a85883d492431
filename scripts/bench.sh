#!/usr/bin/env bash
# bench.sh -- Portico against nginx as a reverse proxy, on loopback, in bounded time.
#
#   scripts/bench.sh                 build, then 2 rounds x 10 s per scenario and proxy
#   QUICK=1 scripts/bench.sh         one short round (validation)
#
# What it does
#   * installs wrk and nginx (nginx-light) when missing (apt-get), unless NO_INSTALL=1
#   * builds the project (cmake -S . -B build && cmake --build build -j2) unless NO_BUILD=1
#   * starts nginx (1 worker) as two backends answering `return 200 "hello\n"` (X-Backend b1/b2)
#     plus a stub_status page that counts the connections the backends accept
#   * starts the reference proxy: nginx (workers auto), /proxy/ -> both backends, upstream
#     keepalive 1024 (the stronger setting: nginx keeps that many idle upstream connections per
#     worker instead of opening new ones under load)
#   * starts portico-sidecar (temporary store, seeds route /proxy/ -> both backends) and
#     portico-proxy with its DEFAULT threads/queue and the access log off
#   * runs wrk in alternating rounds (the order flips every round) for each scenario:
#       ka64     64 keep-alive connections
#       ka1000   1,000 keep-alive connections
#       close64  64 connections sending `Connection: close` (a new connection per request)
#     and, over TLS (both proxies terminate TLS with the same self-signed ECDSA P-256 certificate,
#     made with the openssl command into the results directory):
#       tls64     64 keep-alive HTTPS connections (wrk)
#       tlsnew64  64 HTTPS clients sending `Connection: close`: a full handshake per request
#       h2        h2load, 64 HTTP/2 clients x 10 concurrent streams (nghttp2-client, installed when
#                 missing); h2load gives no percentiles, so its p50 column is the mean
#     and, when asked for (SCENARIOS="h2c-grpc"), gRPC in the clear:
#       h2c-grpc  h2load, 16 HTTP/2 clients (prior knowledge) x 10 streams, each a prepared unary
#                 gRPC call (-d, content-type application/grpc, te: trailers) to a gRPC backend
#                 (tests/e2e/grpc_peer.py on python3-grpcio, installed when missing): nginx by
#                 grpc_pass, Portico by a route with upstream_protocol h2. The Python backend is
#                 the bottleneck, so the figures compare overhead (CPU us per request), not speed.
#   * prints per scenario and proxy: requests/s (median over rounds, min-max), p50/p99 latency,
#     non-2xx, socket errors (of which timeouts), CPU us per request, peak RSS of the proxy
#     (VmHWM; nginx: master + workers), upstream connections the backends accepted (pool
#     churn), STALLED connections and the ratio Portico/nginx.
#     STALLED = wrk connections that received no byte between 20% and 70% of a keep-alive run
#     (two `ss -tinp` snapshots of wrk's sockets). wrk only reports completed requests, so a
#     connection parked in a server's queue is otherwise invisible in requests/s and latency.
#     For close64 connections live for one request, so the column shows '-'. Only connections
#     alive in both snapshots are tracked: past proxy.threads clients, Portico rotates
#     connections (Connection: close while others wait), so few stay alive for 5 s, but one
#     parked in the queue the whole time still shows as stalled.
#
# Knobs (env): DURATION=10 (s) ROUNDS=2 QUICK=1 (DURATION=3 ROUNDS=1) WARMUP=2 (s)
#   SCENARIOS="ka64 ka1000 close64" (any kaN works, e.g. ka2000) WRK_THREADS=1 WRK_TIMEOUT=2 (s) MAX_SECONDS=900
#   BUILD_DIR=<repo>/build NO_BUILD=1 NO_INSTALL=1 NGINX_KEEPALIVE=1024 READY_TIMEOUT=20 (s)
#   RESULTS_DIR=/tmp/portico-bench.<date> (raw wrk output, logs, summary.txt)
#   PORTICO_ARGS="--define=proxy.threads=2048"  extra arguments for portico-proxy
# Everything binds to 127.0.0.1; ports are chosen free at start. Every process this script
# starts is stopped by PID on exit (trap), nothing else is touched.
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ "${QUICK:-0}" == "1" ]]; then
  DURATION=${DURATION:-3}; ROUNDS=${ROUNDS:-1}; WARMUP=${WARMUP:-1}
fi
DURATION=${DURATION:-10}; DURATION=${DURATION%s}
ROUNDS=${ROUNDS:-2}; WARMUP=${WARMUP:-2}; WARMUP=${WARMUP%s}
SCENARIOS=${SCENARIOS:-"ka64 ka1000 close64"}
WRK_THREADS=${WRK_THREADS:-1}; WRK_TIMEOUT=${WRK_TIMEOUT:-2}; GAP=${GAP:-0.5}
MAX_SECONDS=${MAX_SECONDS:-900}; READY_TIMEOUT=${READY_TIMEOUT:-20}
NGINX_KEEPALIVE=${NGINX_KEEPALIVE:-1024}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BIN="$BUILD_DIR/bin"
RES=${RESULTS_DIR:-/tmp/portico-bench.$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RES/raw" "$RES/work" "$RES/logs"
W="$RES/work"
T0=$(date +%s)

log() { echo "[bench $(( $(date +%s) - T0 ))s] $*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# ---------------------------------------------------------------- processes we start
declare -a STARTED_PIDS=()
declare -A PID_OF=()
tree_pids() {
  local p=$1 c
  echo "$p"
  for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree_pids "$c"; done
}
kill_tree() {  # TERM, then KILL after ~3 s, only this PID and its descendants
  local p pids alive
  pids=$(tree_pids "$1" | tac)
  for p in $pids; do kill -TERM "$p" 2>/dev/null; done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && return 0
    sleep 0.3
  done
  for p in $pids; do kill -KILL "$p" 2>/dev/null; done
}
CLEANED=0
cleanup() {
  [[ $CLEANED == 1 ]] && return 0
  CLEANED=1
  local p
  for p in "${STARTED_PIDS[@]}"; do kill_tree "$p"; done
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

start_bg() {  # start_bg NAME DIR CMD...: runs CMD in DIR in the background; PID_OF[NAME]
  local name=$1 dir=$2; shift 2
  (cd "$dir" && exec "$@") >"$RES/logs/$name.out" 2>"$RES/logs/$name.err" </dev/null &
  STARTED_PIDS+=("$!")
  PID_OF[$name]=$!
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- install and build
if [[ "${NO_INSTALL:-0}" != "1" ]]; then
  missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
  command -v curl >/dev/null || missing+=(curl)
  command -v ss >/dev/null || missing+=(iproute2)
  command -v python3 >/dev/null || missing+=(python3)
  command -v openssl >/dev/null || missing+=(openssl)
  [[ " ${SCENARIOS:-} " == *" h2 "* || " ${SCENARIOS:-} " == *" h2c-grpc "* ]] &&
    ! command -v h2load >/dev/null && missing+=(nghttp2-client)
  [[ " ${SCENARIOS:-} " == *" h2c-grpc "* ]] && ! /usr/bin/python3 -c 'import grpc' 2>/dev/null &&
    missing+=(python3-grpcio)
  if (( ${#missing[@]} )); then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${missing[@]}" >"$RES/logs/apt.log" 2>&1 || {
      apt-get update >>"$RES/logs/apt.log" 2>&1
      for p in "${missing[@]}"; do
        apt-get install -y --no-install-recommends "$p" >>"$RES/logs/apt.log" 2>&1 ||
          { [[ $p == nginx-light ]] && apt-get install -y --no-install-recommends nginx >>"$RES/logs/apt.log" 2>&1; } ||
          log "could not install $p"
      done
    }
  fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for b in wrk curl ss python3 ps; do command -v $b >/dev/null || die "$b missing"; done
[[ -x "$NGINX" ]] || die "nginx missing"

if [[ "${NO_BUILD:-0}" != "1" ]]; then
  log "building into $BUILD_DIR (log: $RES/logs/build.log)"
  { cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release && cmake --build "$BUILD_DIR" -j2; } \
    >"$RES/logs/build.log" 2>&1 || { tail -20 "$RES/logs/build.log" >&2; die "build failed"; }
fi

HARD=$(ulimit -Hn); [[ "$HARD" == unlimited ]] && HARD=65536
(( HARD > 65536 )) && HARD=65536
ulimit -n "$HARD" 2>/dev/null || log "could not raise ulimit -n"
NOFILE=$(ulimit -n)
(( NOFILE < 4096 )) && log "WARNING: ulimit -n=$NOFILE; the 1,000-connection scenario will fail"

# ---------------------------------------------------------------- nginx configs
B1=$(free_port); B2=$(free_port); STATUS=$(free_port); NGX=$(free_port)
PORTICO_PORT=$(free_port); ADMIN_PORT=$(free_port)
NGX_TLS=$(free_port); PORTICO_TLS=$(free_port)
GRPC_B=$(free_port); NGX_GRPC=$(free_port)  # the h2c-grpc scenario's backend and nginx listener
# One certificate for both proxies' TLS listeners (the key is the bench's own, never committed).
TLSD="$W/tls"; mkdir -p "$TLSD"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$TLSD/key.pem" -out "$TLSD/cert.pem" \
  >"$RES/logs/openssl.log" 2>&1 || die "openssl could not make the bench certificate"
chmod 600 "$TLSD/key.pem"
USER_LINE=""; [[ $(id -u) == 0 ]] && USER_LINE="user root;"
nginx_http_common() {
  cat <<EOF
  access_log off;
  default_type text/plain;
  keepalive_requests 100000;
  keepalive_timeout 75s;
  client_body_temp_path $1/tmp/body; proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fcgi; uwsgi_temp_path $1/tmp/uwsgi; scgi_temp_path $1/tmp/scgi;
EOF
}
BD="$W/backend"; mkdir -p "$BD/logs" "$BD/tmp"
cat >"$BD/nginx.conf" <<EOF
$USER_LINE
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $BD/nginx.pid;
error_log $BD/logs/error.log warn;
events { worker_connections 16384; }
http {
$(nginx_http_common "$BD")
  server { listen 127.0.0.1:$B1 backlog=4096;
           location / { add_header X-Backend b1; return 200 "hello\n"; } }
  server { listen 127.0.0.1:$B2 backlog=4096;
           location / { add_header X-Backend b2; return 200 "hello\n"; } }
  server { listen 127.0.0.1:$STATUS; location / { stub_status; } }
}
EOF
ND="$W/nginx"; mkdir -p "$ND/logs" "$ND/tmp"
cat >"$ND/nginx.conf" <<EOF
$USER_LINE
worker_processes auto;
worker_rlimit_nofile $NOFILE;
pid $ND/nginx.pid;
error_log $ND/logs/error.log warn;
events { worker_connections 8192; }
http {
$(nginx_http_common "$ND")
  upstream up {
    server 127.0.0.1:$B1;
    server 127.0.0.1:$B2;
    keepalive $NGINX_KEEPALIVE;
    keepalive_requests 100000;
  }
  server {
    listen 127.0.0.1:$NGX backlog=4096;
    location /proxy/ { proxy_pass http://up/; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen 127.0.0.1:$NGX_TLS ssl http2 backlog=4096;
    ssl_certificate $TLSD/cert.pem; ssl_certificate_key $TLSD/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:SSL:10m; ssl_session_timeout 1h;
    http2_max_concurrent_streams 128;
    location /proxy/ { proxy_pass http://up/; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  upstream grpcup { server 127.0.0.1:$GRPC_B; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX_GRPC http2 backlog=4096;
    http2_max_concurrent_streams 128;
    location /portico.test.Echo/ { grpc_pass grpc://grpcup; }
  }
}
EOF

# ---------------------------------------------------------------- start everything
wait_ready() {  # wait_ready NAME URL: polls until 200, fails early if NAME died
  local name=$1 url=$2 i code=""
  for (( i = 0; i < READY_TIMEOUT * 10; i++ )); do
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url" 2>/dev/null)
    [[ "$code" == 200 ]] && return 0
    if ! kill -0 "${PID_OF[$name]}" 2>/dev/null; then
      log "$name exited early:"; tail -5 "$RES/logs/$name.err" >&2; return 1
    fi
    sleep 0.1
  done
  log "$name not ready at $url (last status $code)"; tail -5 "$RES/logs/$name.err" >&2; return 1
}
backends_seen() {  # which backend answered each of 6 requests
  local url=$1 i seen=""
  for i in 1 2 3 4 5 6; do
    seen+=" $(curl -s -D - -o /dev/null -m 2 "$url" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-backend"{print $2}')"
  done
  echo "$seen" | tr ' ' '\n' | grep . | sort | uniq -c | awk '{printf " %s x%s", $2, $1}'
}

declare -a TARGETS=()
declare -A URL_OF=() TLS_URL_OF=() GRPC_URL_OF=() WATCH_PID=()
log "results in $RES; ulimit -n=$NOFILE; nproc=$(nproc); backends on :$B1 :$B2"
start_bg backend "$W" "$NGINX" -p "$BD" -c "$BD/nginx.conf" -g "daemon off;"
wait_ready backend "http://127.0.0.1:$B1/" && wait_ready backend "http://127.0.0.1:$B2/" || die "backends failed"

if [[ " $SCENARIOS " == *" h2c-grpc "* ]]; then
  start_bg grpc "$W" /usr/bin/python3 "$ROOT/tests/e2e/grpc_peer.py" serve "--port=$GRPC_B" --name=bench
  for (( i = 0; i < READY_TIMEOUT * 10; i++ )); do grep -q ready "$RES/logs/grpc.out" && break; sleep 0.1; done
  grep -q ready "$RES/logs/grpc.out" || die "gRPC backend did not start (see $RES/logs/grpc.err)"
  # One unary call's body: the gRPC frame of the 5-byte message "hello".
  printf '\x00\x00\x00\x00\x05hello' >"$W/unary.bin"
fi
start_bg nginx "$W" "$NGINX" -p "$ND" -c "$ND/nginx.conf" -g "daemon off;"
wait_ready nginx "http://127.0.0.1:$NGX/proxy/" || die "reference nginx failed"
TARGETS+=(nginx); URL_OF[nginx]="http://127.0.0.1:$NGX/proxy/"; WATCH_PID[nginx]=${PID_OF[nginx]}
TLS_URL_OF[nginx]="https://127.0.0.1:$NGX_TLS/proxy/"
GRPC_URL_OF[nginx]="http://127.0.0.1:$NGX_GRPC/portico.test.Echo/Unary"

PORTICO_NOTE=""
ROUTE_DEFS=(--define=route.bench.prefix=/proxy/
            "--define=route.bench.targets=http://127.0.0.1:$B1,http://127.0.0.1:$B2")
[[ " $SCENARIOS " == *" h2c-grpc "* ]] &&
  ROUTE_DEFS+=(--define=route.grpc.prefix=/portico.test.Echo/
               "--define=route.grpc.targets=http://127.0.0.1:$GRPC_B/portico.test.Echo"
               --define=route.grpc.upstream_protocol=h2)
STORE_DEF="--define=store.path=$W/portico/portico.db"
mkdir -p "$W/portico"
if [[ ! -x "$BIN/portico-proxy" || ! -x "$BIN/portico-sidecar" ]]; then
  PORTICO_NOTE="portico binaries missing in $BIN"
else
  # The sidecar owns the store: it creates it and seeds the route; the proxy only reads it.
  start_bg sidecar "$W/portico" "$BIN/portico-sidecar" "$STORE_DEF" --define=admin.host=127.0.0.1 \
    "--define=admin.port=$ADMIN_PORT" "${ROUTE_DEFS[@]}"
  if ! wait_ready sidecar "http://127.0.0.1:$ADMIN_PORT/endpoints/routes"; then
    PORTICO_NOTE="portico-sidecar did not start (see $RES/logs/sidecar.err)"
  else
    # shellcheck disable=SC2086 # PORTICO_ARGS is a list of words on purpose
    start_bg portico "$W/portico" "$BIN/portico-proxy" "$STORE_DEF" --define=proxy.host=127.0.0.1 \
      "--define=proxy.port=$PORTICO_PORT" --define=proxy.access_log=off "${ROUTE_DEFS[@]}" \
      "--define=proxy.tls.port=$PORTICO_TLS" "--define=proxy.tls.certificates=$TLSD/cert.pem:$TLSD/key.pem" \
      ${PORTICO_ARGS:-}
    if wait_ready portico "http://127.0.0.1:$PORTICO_PORT/proxy/"; then
      TARGETS+=(portico); URL_OF[portico]="http://127.0.0.1:$PORTICO_PORT/proxy/"
      TLS_URL_OF[portico]="https://127.0.0.1:$PORTICO_TLS/proxy/"
      GRPC_URL_OF[portico]="http://127.0.0.1:$PORTICO_PORT/portico.test.Echo/Unary"
      WATCH_PID[portico]=${PID_OF[portico]}
    else
      PORTICO_NOTE="portico-proxy did not answer 200 on /proxy/ (see $RES/logs/portico.err)"
    fi
  fi
fi
[[ -n "$PORTICO_NOTE" ]] && log "PORTICO NOT MEASURED: $PORTICO_NOTE; measuring nginx alone"
for t in "${TARGETS[@]}"; do
  log "target $t ${URL_OF[$t]} pid=${WATCH_PID[$t]} backends seen:$(backends_seen "${URL_OF[$t]}")"
done

# ---------------------------------------------------------------- measurement
cpu_ticks() {  # utime+stime summed over a process tree
  local p s=0 v
  for p in $(tree_pids "$1"); do
    v=$(awk '{sub(/^.*\) /,""); print $12+$13}' "/proc/$p/stat" 2>/dev/null) && s=$((s + ${v:-0}))
  done
  echo $s
}
peak_rss_kb() {  # VmHWM summed over a process tree (peak so far)
  local p kb=0 v
  for p in $(tree_pids "$1"); do
    v=$(awk '/^VmHWM:/{print $2}' "/proc/$p/status" 2>/dev/null); kb=$((kb + ${v:-0}))
  done
  echo $kb
}
backend_accepts() { curl -s -m 2 "http://127.0.0.1:$STATUS/" | awk 'NR==3{print $1}'; }
scenario_args() {
  case $1 in
    ka[0-9]*) SA=("-c${1#ka}") ;;  # ka64, ka1000, ka2000: N keep-alive connections
    close64 | tlsnew64) SA=(-c64 -H "Connection: close") ;;
    tls64) SA=(-c64) ;;
    h2 | h2c-grpc) SA=() ;;
    *) die "unknown scenario $1" ;;
  esac
}
port_of() { local u=${1#*://}; u=${u%%/*}; echo "${u##*:}"; }
# "local_address/inode bytes_received" for each socket of process $2 connected to port $1. The
# inode makes the key unique: when a server rotates connections (Connection: close), the client
# reuses local ports within seconds, and a new connection that happened to have received as many
# bytes as the old one would otherwise look stalled.
snapshot() {
  local i out
  for i in 1 2 3; do  # a netlink dump can come back empty while sockets churn: retry
    out=$(ss -Htinpe state established "( dport = :$1 )" 2>>"$RES/logs/ss.err" | awk -v pid="pid=$2," -v port=":$1" '
      /users:/ { cur = ""; if (index($0, pid)) for (i = 2; i <= NF; i++) if ($i ~ port"$") { cur = $(i-1); break }
                 if (cur != "" && match($0, /ino:[0-9]+/)) cur = cur "/" substr($0, RSTART + 4, RLENGTH - 4); next }
      cur != "" { br = 0; if (match($0, /bytes_received:[0-9]+/)) br = substr($0, RSTART + 15, RLENGTH - 15); print cur, br; cur = "" }')
    [[ -n "$out" ]] && { echo "$out"; return 0; }
    sleep 0.05
  done
}
sleep_until() {  # sleep_until START FRACTION: until START + FRACTION * DURATION
  sleep "$(awk -v t0="$1" -v f="$2" -v d="$DURATION" -v now="$(date +%s.%N)" 'BEGIN { x = t0 + f * d - now; print (x > 0 ? x : 0) }')"
}
url_for() {  # url_for SCENARIO TARGET
  case $1 in tls* | h2) echo "${TLS_URL_OF[$2]}" ;; h2c-grpc) echo "${GRPC_URL_OF[$2]}" ;;
    *) echo "${URL_OF[$2]}" ;; esac
}
# h2load's summary in the lines the report reads from wrk: requests/s, requests, failures, and
# the mean time per request in the 50% slot (h2load prints no percentiles).
h2load_as_wrk() {
  awk '/^finished in/ { gsub(",", ""); print "Requests/sec: " $4 }
       /^requests:/ { print $2 " requests in"; print "Non-2xx or 3xx responses: " ($10 + $12) }
       /^time for request:/ { print "     50%    " $6 }' "$1"
}
run_wrk() {  # run_wrk SCENARIO TARGET OUTFILE
  local s=$1 t=$2 out=$3 port tpid wpid c0 c1 a0 a1 start st tr url
  scenario_args "$s"
  url=$(url_for "$s" "$t")
  port=$(port_of "$url")
  a0=$(backend_accepts); c0=$(cpu_ticks "${WATCH_PID[$t]}"); start=$(date +%s.%N)
  if [[ $s == h2 ]]; then
    timeout $((DURATION + 20)) h2load -c64 -m10 -t"$WRK_THREADS" -D "$DURATION" "$url" >"$out.h2" 2>&1 &
  elif [[ $s == h2c-grpc ]]; then
    timeout $((DURATION + 20)) h2load -c16 -m10 -t"$WRK_THREADS" -D "$DURATION" -d "$W/unary.bin" \
      -H 'content-type: application/grpc' -H 'te: trailers' "$url" >"$out.h2" 2>&1 &
  else
    timeout $((DURATION + 20)) wrk -t"$WRK_THREADS" "${SA[@]}" -d"${DURATION}s" --timeout "${WRK_TIMEOUT}s" \
      --latency "$url" >"$out" 2>&1 &
  fi
  tpid=$!
  if [[ $s == ka* || $s == tls64 ]]; then
    sleep_until "$start" 0.2
    wpid=$(ps -o pid= --ppid "$tpid" | head -1 | tr -d ' ')
    snapshot "$port" "$wpid" >"$out.s1"
    sleep_until "$start" 0.7
    snapshot "$port" "$wpid" >"$out.s2"
    kill -0 "$wpid" 2>/dev/null || : >"$out.s2"  # wrk already done: no valid window
  fi
  wait "$tpid"
  if [[ $s == h2 || $s == h2c-grpc ]]; then
    h2load_as_wrk "$out.h2" >"$out"
    cat "$out.h2" >>"$out"
    rm -f "$out.h2"
  fi
  c1=$(cpu_ticks "${WATCH_PID[$t]}"); a1=$(backend_accepts)
  echo "cpu_ticks $((c1 - c0)) hz $(getconf CLK_TCK)" >>"$out"
  echo "peak_rss_kb $(peak_rss_kb "${WATCH_PID[$t]}")" >>"$out"
  [[ -n "$a0" && -n "$a1" ]] && echo "backend_accepts $((a1 - a0 - 1))" >>"$out"
  if [[ -s "$out.s2" ]]; then
    read -r st tr < <(awk 'NR == FNR { a[$1] = $2; next } ($1 in a) { n++; if (a[$1] == $2) s++ } END { print s + 0, n + 0 }' "$out.s1" "$out.s2")
    echo "stalled_conns $st of $tr" >>"$out"
  fi
  rm -f "$out.s1" "$out.s2"
}

NT=${#TARGETS[@]}
log "targets: ${TARGETS[*]} | scenarios: $SCENARIOS | rounds=$ROUNDS duration=${DURATION}s"
for t in "${TARGETS[@]}"; do  # warm-up, not recorded: fills upstream pools and thread pools
  timeout $((WARMUP + 10)) wrk -t1 -c64 -d"${WARMUP}s" "${URL_OF[$t]}" >/dev/null 2>&1
done
TRUNC=0
for (( r = 1; r <= ROUNDS; r++ )); do
  for s in $SCENARIOS; do
    for (( k = 0; k < NT; k++ )); do
      t=${TARGETS[$(( (k + r - 1) % NT ))]}  # the order alternates every round
      if (( $(date +%s) - T0 + DURATION + 5 > MAX_SECONDS )); then TRUNC=1; break 3; fi
      run_wrk "$s" "$t" "$RES/raw/$s.$t.r$r.txt"
      log "r$r $s $t: $(awk '/Requests\/sec/{print $2" rps"}' "$RES/raw/$s.$t.r$r.txt") $(grep -h -E 'Socket errors|Non-2xx|stalled' "$RES/raw/$s.$t.r$r.txt" | tr -s ' ' | tr '\n' ' ')"
      sleep "$GAP"
    done
  done
done
(( TRUNC )) && log "MAX_SECONDS reached: remaining runs skipped"
cleanup

python3 - "$RES" "$SCENARIOS" "${TARGETS[*]}" "$ROUNDS" "$DURATION" "$TRUNC" "$PORTICO_NOTE" <<'PY'
import glob, os, re, statistics, sys
res, scens, targets, rounds, dur, trunc, note = sys.argv[1:8]
scens, targets = scens.split(), targets.split()
unit = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m|h)$", v)
    return float(m.group(1)) * unit[m.group(2)] if m else float("nan")
def num(pattern, txt, cast=int, default=None):
    m = re.search(pattern, txt, re.M)
    return cast(m.group(1)) if m else default
def parse(path):
    txt = open(path).read()
    d = {"rps": num(r"Requests/sec:\s+([\d.]+)", txt, float, 0.0),
         "p50": None, "p99": None,
         "non2xx": num(r"Non-2xx or 3xx responses:\s+(\d+)", txt, int, 0),
         "req": num(r"(\d+) requests in", txt, int, 0),
         "rss": num(r"^peak_rss_kb (\d+)", txt), "acc": num(r"^backend_accepts (-?\d+)", txt)}
    for q, k in (("50", "p50"), ("99", "p99")):
        m = re.search(r"^\s+%s%%\s+(\S+)" % q, txt, re.M)
        d[k] = ms(m.group(1)) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", txt)
    d["sock"] = sum(map(int, m.groups())) if m else 0
    d["tmo"] = int(m.group(4)) if m else 0
    m = re.search(r"cpu_ticks (-?\d+) hz (\d+)", txt)
    d["cpu"] = int(m.group(1)) / int(m.group(2)) * 1e6 / d["req"] if m and d["req"] else None
    m = re.search(r"stalled_conns (\d+) of (\d+)", txt)
    d["stall"] = (int(m.group(1)), int(m.group(2))) if m else None
    return d
med = lambda xs: statistics.median(xs) if xs else float("nan")
table = {}
for s in scens:
    for t in targets:
        runs = [parse(p) for p in sorted(glob.glob(os.path.join(res, "raw", "%s.%s.r*.txt" % (s, t))))]
        if not runs:
            continue
        table[(s, t)] = dict(
            n=len(runs), rps=med([r["rps"] for r in runs]),
            lo=min(r["rps"] for r in runs), hi=max(r["rps"] for r in runs),
            p50=med([r["p50"] for r in runs if r["p50"] is not None]),
            p99=med([r["p99"] for r in runs if r["p99"] is not None]),
            non2xx=sum(r["non2xx"] for r in runs), sock=sum(r["sock"] for r in runs),
            tmo=sum(r["tmo"] for r in runs),
            cpu=med([r["cpu"] for r in runs if r["cpu"] is not None]),
            rss=max([r["rss"] for r in runs if r["rss"] is not None] or [0]) / 1024,
            acc=med([r["acc"] for r in runs if r["acc"] is not None]),
            stall=[r["stall"] for r in runs if r["stall"]])
out = ["rounds=%s, %ss per run; rps = median over rounds (min-max); p50/p99 = median; errors summed" % (rounds, dur),
       "sockerr = wrk socket errors (tmo: of which timeouts); cpu_us = CPU per request of the proxy's processes;",
       "rss_MB = peak VmHWM of the proxy (nginx: master + workers); upconn = connections the backends accepted",
       "per run (a proxy's upstream pool churn); stalled = keep-alive connections that got no byte from 20%",
       "to 70% of a run / connections tracked (worst round); x_ngx = requests/s relative to nginx"]
if note:
    out.append("PORTICO NOT MEASURED: " + note)
if trunc == "1":
    out.append("WARNING: MAX_SECONDS reached, some runs missing (n column)")
fmt = "%-8s %-8s %2s %9s %-17s %8s %8s %7s %11s %7s %7s %7s %7s %10s"
hdr = fmt % ("scen", "proxy", "n", "rps", "(min-max)", "p50ms", "p99ms", "non2xx", "sockerr/tmo",
             "cpu_us", "rss_MB", "upconn", "x_ngx", "stalled")
for s in scens:
    out += ["", hdr]
    base = table.get((s, "nginx"), {}).get("rps")
    for t in targets:
        d = table.get((s, t))
        if not d:
            continue
        out.append(fmt % (s, t, d["n"], "%.0f" % d["rps"], "(%.0f-%.0f)" % (d["lo"], d["hi"]),
                          "%.2f" % d["p50"], "%.2f" % d["p99"], d["non2xx"], "%d/%d" % (d["sock"], d["tmo"]),
                          "%.1f" % d["cpu"], "%.1f" % d["rss"], "%.0f" % d["acc"],
                          "%.2f" % (d["rps"] / base) if base else "-",
                          "%d/%d" % max(d["stall"]) if d["stall"] else "-"))
stalled = ["%s %s %d/%d" % (s, t, *max(table[(s, t)]["stall"])) for (s, t) in table
           if table[(s, t)]["stall"] and max(table[(s, t)]["stall"])[0] > 0]
if stalled:
    out += ["", "WARNING: stalled connections (their requests/s and latency look better than what clients got): "
            + ", ".join(stalled)]
ratios = ["%s %.2f" % (s, table[(s, "portico")]["rps"] / table[(s, "nginx")]["rps"])
          for s in scens if (s, "portico") in table and (s, "nginx") in table and table[(s, "nginx")]["rps"]]
out += ["", "summary: portico/nginx requests/s: " + (", ".join(ratios) if ratios else "n/a (portico not measured)")]
print("\n".join(out))
open(os.path.join(res, "summary.txt"), "w").write("\n".join(out) + "\n")
PY
