#!/usr/bin/env bash
# Propagation on PostgreSQL (not a test): one sidecar and three proxies on a PostgreSQL server
# this script starts in a temporary directory; 100 changes (a new route each) through the
# sidecar, and for each the time from the sidecar's answer until each proxy serves the route.
# Prints p50, p99 and max per proxy and overall. Uses build/bin (scripts/test.sh or cmake builds
# it) and Debian's postgresql package (initdb, postgres). Loopback, ephemeral ports.
#   scripts/pg-propagation-bench.sh [CHANGES]
set -euo pipefail
cd "$(dirname "$0")/.."
changes=${1:-100}
bin=build/bin
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL not found: apt-get install postgresql" >&2; exit 1; }
for b in portico-sidecar portico-proxy portico-echo; do
  [ -x "$bin/$b" ] || { echo "$bin/$b missing: build first" >&2; exit 1; }
done
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$work"; mkdir "$work/pg"; chown postgres: "$work/pg"
  as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups)
else
  mkdir "$work/pg"
fi
"${as_pg[@]}" "$pgbin/initdb" -D "$work/pg/data" -U portico --auth=trust -E UTF8 --no-sync >"$work/initdb.log"
pgport=$(port)
(cd "$work/pg" && exec "${as_pg[@]}" "$pgbin/postgres" -D "$work/pg/data" -p "$pgport" \
  -c listen_addresses=127.0.0.1 -c unix_socket_directories= >"$work/postgres.log" 2>&1) &
pids+=($!)
url="postgresql://portico@127.0.0.1:$pgport/postgres"
for _ in $(seq 100); do psql -q "$url" -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done

admin=$(port)
"$bin/portico-sidecar" -Dstore.url="$url" -Dadmin.port="$admin" >"$work/sidecar.log" 2>&1 &
pids+=($!)
echoport=$(port)
# The echo backend spends a thread on each connection, idle ones too. Every change is a new
# route, and each route keeps its own idle connections to the backend (per proxy and event loop,
# up to 8 s): with 256 threads they filled the echo's pool after some 40 changes, and a request
# for the next new route then waited in the echo's queue until an idle connection timed out,
# seconds later (the 3-7 s "propagation" outliers, though every proxy had applied the change in
# milliseconds). Enough threads for every idle connection keep the backend out of the measure.
"$bin/portico-echo" --port="$echoport" --name=bench --threads=4096 >"$work/echo.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs "localhost:$admin/endpoints/routes" >/dev/null && break; sleep 0.1; done
proxies=()
for _ in 1 2 3; do
  p=$(port)
  "$bin/portico-proxy" -Dstore.url="$url" -Dproxy.port="$p" -Dproxy.host=127.0.0.1 \
    -Dproxy.status_port=off -Dproxy.access_log=off >"$work/proxy-$p.log" 2>&1 &
  pids+=($!)
  proxies+=("$p")
done
for p in "${proxies[@]}"; do
  for _ in $(seq 100); do curl -s -o /dev/null "localhost:$p/" && break; sleep 0.1; done
done

python3 - "$admin" "$echoport" "$changes" "${proxies[@]}" <<'PY'
import http.client, json, sys, time, threading
admin, echo, changes = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
proxies = [int(p) for p in sys.argv[4:]]
seen = {p: [] for p in proxies}

def wait_served(port, path, start, out):
    conn = None
    while True:
        try:
            conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            r = conn.getresponse(); r.read()
            if r.status != 404:
                out.append(time.perf_counter() - start); return
        except (OSError, http.client.HTTPException):
            conn = None  # a loaded machine: a new connection and on
        if time.perf_counter() - start > 10:
            out.append(float("inf")); return

api = http.client.HTTPConnection("127.0.0.1", admin, timeout=10)
for i in range(changes):
    body = json.dumps({"prefixPath": f"/bench{i}/", "targets": [f"http://127.0.0.1:{echo}"]})
    api.request("POST", "/endpoints/routes", body, {"Content-Type": "application/json"})
    r = api.getresponse(); r.read()
    assert r.status == 201, r.status
    start = time.perf_counter()
    threads = [threading.Thread(target=wait_served, args=(p, f"/bench{i}/", start, seen[p])) for p in proxies]
    for t in threads: t.start()
    for t in threads: t.join()

def pct(xs, q):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]
ms = lambda s: f"{s * 1000:.1f} ms"
allv = [v for p in proxies for v in seen[p]]
print(f"{changes} changes through one sidecar, 3 proxies on PostgreSQL (LISTEN/NOTIFY, reload_interval 100ms)")
for n, p in enumerate(proxies, 1):
    print(f"  proxy {n}: p50 {ms(pct(seen[p], .5))}  p99 {ms(pct(seen[p], .99))}  max {ms(max(seen[p]))}")
print(f"  all:     p50 {ms(pct(allv, .5))}  p99 {ms(pct(allv, .99))}  max {ms(max(allv))}")
PY
