#!/usr/bin/env bash
# Builds Portico and runs it on the default configuration (conf/portico.properties):
# four demo backends (portico-echo on 8081-8084), portico-sidecar (admin API on 127.0.0.1:9090)
# and portico-proxy (0.0.0.0:8080). Ctrl-C stops everything.
# Set NO_DEMO=1 to skip the demo backends, NO_BUILD=1 to skip the build.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
if [ -z "${NO_BUILD:-}" ]; then
  portico_install_deps
  SANITIZE="" portico_build  # the demo runs build/bin
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

wait_port() {  # port name
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run.sh: $2 did not start listening on port $1" >&2
  exit 1
}

if [ -z "${NO_DEMO:-}" ]; then
  for port in 8081 8082 8083 8084; do
    build/bin/portico-echo --port="$port" --name="demo-$port" &
    pids+=($!)
  done
  for port in 8081 8082 8083 8084; do wait_port "$port" "portico-echo"; done
fi

build/bin/portico-sidecar "$@" &
sidecar=$!
pids+=($sidecar)
wait_port 9090 portico-sidecar
build/bin/portico-proxy "$@" &
proxy=$!
pids+=($proxy)
wait_port 8080 portico-proxy

cat <<'MSG'

Portico is running:  proxy http://localhost:8080   admin http://127.0.0.1:9090/endpoints
  curl localhost:8080/proxy/hello
  build/bin/portico-ctl routes         # the admin API's command line (docs/ctl.md)
  curl 'localhost:9090/endpoints/list?prefixPath=/proxy/'
  curl localhost:9091/metrics          # the proxy's metrics (/healthz, /readyz beside it)
  curl localhost:9090/metrics          # the sidecar's
  sqlite3 data/portico.db 'SELECT r.prefix, t.url, t.healthy FROM targets t JOIN routes r ON r.id = t.route_id'
Ctrl-C stops everything.
MSG
# Stop everything when the sidecar or the proxy exits; a demo backend may be stopped on its own
# (e.g. to watch the health checker take it out).
wait -n "$sidecar" "$proxy"
