#!/usr/bin/env bash
# Helpers the conformance .vtc files call through `shell`:
#   portico.sh route DB PREFIX TARGET_URL...   a round-robin route into the store (no sidecar, so
#                                              no health probe reaches a scripted target)
#   portico.sh policies DB PREFIX JSON          sets the route's policies (routes.policies)
#   portico.sh wait-http PORT PATH             until 127.0.0.1:PORT answers PATH (any status)
#   portico.sh wait-ready PORT                 until the proxy's status listener says ready
# Every wait gives up after 15 s with a failure.
set -euo pipefail

wait_for() {
  local url=$1 want=$2 code
  for _ in $(seq 150); do
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url" || true)
    if [ "$want" = any ] && [ "$code" != 000 ]; then return 0; fi
    if [ "$code" = "$want" ]; then return 0; fi
    sleep 0.1
  done
  echo "no answer ($want) from $url within 15 s (last: $code)" >&2
  return 1
}

case "$1" in
  route)
    db=$2 prefix=$3
    shift 3
    sql="INSERT INTO routes (prefix, balancer, health_interval_ms, health_timeout_ms)
         VALUES ('$prefix', 'round_robin', 5000, 3000);"
    for url in "$@"; do
      sql+="INSERT INTO targets (route_id, url)
            SELECT id, '$url' FROM routes WHERE prefix = '$prefix';"
    done
    sql+="UPDATE revision SET value = value + 1;"
    sqlite3 -bail "$db" "PRAGMA busy_timeout = 5000; BEGIN; $sql COMMIT;"
    ;;
  policies)
    sqlite3 -bail "$2" "PRAGMA busy_timeout = 5000; BEGIN;
      UPDATE routes SET policies = '$4' WHERE prefix = '$3';
      UPDATE revision SET value = value + 1; COMMIT;"
    ;;
  wait-http) wait_for "http://127.0.0.1:$2$3" any ;;
  wait-ready) wait_for "http://127.0.0.1:$2/readyz" 200 ;;
  *)
    echo "usage: portico.sh route|policies|wait-http|wait-ready ..." >&2
    exit 2
    ;;
esac
