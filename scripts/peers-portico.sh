#!/usr/bin/env bash
# peers-portico.sh -- runs Portico in the foreground for a side-by-side benchmark harness that
# starts each proxy under test from a command (PORTICO_CMD) and sets BENCH_WORKDIR and
# BENCH_BACKENDS (host:port,host:port) for it; the harness itself is not part of this repository.
#
#   PORTICO_CMD="$PWD/scripts/peers-portico.sh" PORTICO_URL=http://127.0.0.1:18110/proxy/ \
#     <harness>
#
# Starts portico-sidecar (store in $BENCH_WORKDIR, route /proxy/ -> $BENCH_BACKENDS, admin on
# 127.0.0.1:$PORTICO_ADMIN_PORT) as a child, waits until its admin API answers, then execs
# portico-proxy on 127.0.0.1:$PORTICO_PORT with default threads/queue and the access log off.
# exec keeps the PID, so the harness measures proxy + sidecar as one process tree and stops both.
# Knobs (env): BUILD_DIR=<repo>/build PORTICO_PORT=18110 PORTICO_ADMIN_PORT=18111
#   PORTICO_ARGS (extra arguments for portico-proxy)
#   PORTICO_ROUTE_ARGS (extra --define=route.bench.* for both programs, e.g. a host or policies:
#     PORTICO_ROUTE_ARGS="--define=route.bench.host=127.0.0.1 --define=route.bench.retries.attempts=2")
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BUILD_DIR:-$ROOT/build}/bin
WORK=${BENCH_WORKDIR:?run this from peers.sh, which sets BENCH_WORKDIR}
PORT=${PORTICO_PORT:-18110}
ADMIN=${PORTICO_ADMIN_PORT:-18111}
TARGETS=$(echo "${BENCH_BACKENDS:?}" | sed 's#\([^,]*\)#http://\1#g')
# Run from the scratch directory: conf/portico.properties (the demo routes) must not be read.
cd "$WORK"
COMMON=("--define=store.path=$WORK/portico.db" --define=route.bench.prefix=/proxy/
        "--define=route.bench.targets=$TARGETS")
# shellcheck disable=SC2206
COMMON+=(${PORTICO_ROUTE_ARGS:-})

"$BIN/portico-sidecar" "${COMMON[@]}" --define=admin.host=127.0.0.1 "--define=admin.port=$ADMIN" \
  >"$WORK/sidecar.log" 2>&1 &
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$ADMIN/endpoints/routes" 2>/dev/null && break
  kill -0 $! 2>/dev/null || { echo "portico-sidecar exited, see $WORK/sidecar.log" >&2; exit 1; }
  sleep 0.1
done
# shellcheck disable=SC2086
exec "$BIN/portico-proxy" "${COMMON[@]}" --define=proxy.host=127.0.0.1 "--define=proxy.port=$PORT" \
  --define=proxy.access_log=off ${PORTICO_ARGS:-}
