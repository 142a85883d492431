#!/usr/bin/env bash
# scripts/health-keepalive-bench.sh [N] [INTERVAL]: what keep-alive probes save. One portico-echo
# speaking TLS (a throwaway self-signed certificate), a sidecar on a fresh store probing N
# https:// targets on it (default 100) with an http check every INTERVAL (default 1s), run twice:
# health.keepalive_max=0 (a TCP and TLS handshake per probe) and the default 4096 (one kept
# connection per target). Prints the sidecar's CPU over 10 s and the targets marked down.
# BUILD=dir picks the binaries (default build/). Needs openssl, curl, sqlite3 and python3.
set -euo pipefail
N=${1:-100}
INTERVAL=${2:-1s}
BIN=$(cd "${BUILD:-build}/bin" && pwd)
WORK=$(mktemp -d /tmp/portico-hka.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 1 \
  -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
ECHO=$(free_port)
"$BIN/portico-echo" --port="$ECHO" --threads=1024 --tls-cert="$WORK/cert.pem" --tls-key="$WORK/key.pem" \
  >"$WORK/echo.log" 2>&1 &
PIDS+=($!)
wait_port "$ECHO"
TARGETS=$(python3 -c "print(','.join('\"https://127.0.0.1:$ECHO/t%d\"' % i for i in range($N)))")
echo "## health-keepalive-bench: $N https targets, http check every $INTERVAL"
echo
echo "| health.keepalive_max | sidecar CPU over 10 s (% of a core) | targets down |"
echo "|---|---|---|"
for KA in 0 4096; do
  ADMIN=$(free_port)
  # From the work directory: no conf/portico.properties, so no seed routes beside ours.
  (cd "$WORK" && exec "$BIN/portico-sidecar" --define=admin.port="$ADMIN" \
    --define=store.path="$WORK/p$KA.db" --define=log.level=warn \
    --define=upstream_tls.ca_file="$WORK/cert.pem" --define=health.keepalive_max="$KA" \
    >"$WORK/sidecar$KA.log" 2>&1) &
  SIDECAR=$!
  PIDS+=("$SIDECAR")
  wait_port "$ADMIN"
  curl -sf -o /dev/null -X POST "localhost:$ADMIN/endpoints/routes" -d "{\"prefixPath\":\"/tls/\",\"targets\":[$TARGETS],\"healthCheck\":{\"type\":\"http\",\"interval\":\"$INTERVAL\",\"timeout\":\"1s\"}}"
  sleep 5
  A=$(awk '{print $14+$15}' "/proc/$SIDECAR/stat")
  sleep 10
  Z=$(awk '{print $14+$15}' "/proc/$SIDECAR/stat")
  DOWN=$(sqlite3 "$WORK/p$KA.db" "SELECT count(*) FROM targets WHERE healthy = 0 AND url LIKE 'https://127.0.0.1:$ECHO/%'")
  [ -n "${HKA_DEBUG:-}" ] && sqlite3 "$WORK/p$KA.db" 'SELECT url LIKE "https:%", last_error, count(*) FROM targets GROUP BY 1, 2' >&2
  echo "| $KA | $(python3 -c "print('%.1f %%' % (($Z - $A) / $(getconf CLK_TCK) / 10 * 100))") | $DOWN |"
  kill "$SIDECAR"
  wait "$SIDECAR" 2>/dev/null || true
done
