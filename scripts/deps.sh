#!/usr/bin/env bash
# Installs the Debian packages Portico builds and tests with, when any is missing.
# Sourced by run.sh, test.sh and bench.sh; usable on its own too.
set -euo pipefail

portico_install_deps() {
  # prometheus: promtool checks the /metrics answers; python3-jsonschema/yaml: the admin API's
  # answers against docs/openapi.yaml; npm: Redocly CLI lints that file (scripts/openapi-lint.sh).
  local pkgs=(build-essential cmake pkg-config libpoco-dev libcppunit-dev libsqlite3-dev sqlite3 curl
              node-llhttp libssl-dev libnghttp2-dev openssl prometheus python3-jsonschema
              python3-yaml "$@")
  # Node.js from elsewhere (a nodesource build ships npm inside) counts as present.
  command -v npm >/dev/null || pkgs+=(nodejs npm)
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

portico_build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  portico_install_deps "$@"
fi
