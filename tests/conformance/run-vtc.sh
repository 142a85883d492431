#!/usr/bin/env bash
# Runs one varnishtest file of the conformance suite (tests/conformance/*.vtc) against the real
# binaries: picks free loopback ports, creates an empty store with portico-sidecar's own
# migrations, and hands both to the .vtc file as macros:
#   ${portico_bin}  build/bin          ${db}           the store (empty, schema current)
#   ${helper}       this folder's portico.sh (routes into the store, waits for readiness)
#   ${proxy_port} ${status_port} ${admin_port}   free 127.0.0.1 ports
# The .vtc file starts portico-proxy / portico-sidecar itself (varnishtest's `process`) and
# scripts clients and targets byte by byte. Usage: run-vtc.sh FILE.vtc BIN_DIR
set -euo pipefail
vtc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
bin=$2
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v varnishtest >/dev/null; then
  echo "varnishtest is not installed (Debian package varnish): skipped" >&2
  exit 77
fi
tmp=$(mktemp -d /tmp/portico-vtc.XXXXXX)
sidecar=""
cleanup() {
  [ -z "$sidecar" ] || kill "$sidecar" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# Four distinct free ports at once (each bound until all are picked).
read -r proxy_port status_port admin_port setup_port < <(python3 -c '
import socket
held = [socket.socket() for _ in range(4)]
for s in held: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in held))')

# The store, created and migrated by the sidecar (then stopped: its health checker must not
# probe the scripted targets, which answer only what their script says).
"$bin/portico-sidecar" --define=store.path="$tmp/p.db" --define=admin.port="$setup_port" \
  >"$tmp/setup.log" 2>&1 &
sidecar=$!
"$here/portico.sh" wait-http "$setup_port" /endpoints/routes || {
  cat "$tmp/setup.log" >&2
  exit 1
}
kill "$sidecar"
wait "$sidecar" || true
sidecar=""

cd "$tmp"
# Not exec: the trap removes the store and the temporary directory afterwards.
varnishtest -t 60 -D portico_bin="$bin" -D db="$tmp/p.db" -D helper="$here/portico.sh" \
  -D proxy_port="$proxy_port" -D status_port="$status_port" -D admin_port="$admin_port" "$vtc"
