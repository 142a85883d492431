#!/usr/bin/env bash
# Installs the Debian packages Portico builds and tests with, when any is missing, and builds.
# Sourced by run.sh, test.sh, fuzz.sh and bench.sh; usable on its own too (arguments: more
# packages).
set -euo pipefail

# Prints the packages of "$@" that are not installed.
portico_missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

portico_apt_install() {
  echo "installing: $*" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "$@" >/dev/null
}

portico_install_deps() {
  # node-llhttp: the HTTP parser's C sources (shared/http); prometheus: promtool checks the
  # /metrics answers; python3-jsonschema/yaml: the admin API's answers against docs/openapi.yaml;
  # npm: Redocly CLI lints that file (scripts/openapi-lint.sh); clang and its runtime libraries
  # build the libFuzzer harnesses (scripts/fuzz.sh); libssl-dev, libnghttp2-dev and openssl: TLS,
  # HTTP/2 and the tests' certificates. libpq-dev: the PostgreSQL store (store.url); postgresql:
  # the server its end-to-end tests start (initdb, pg_ctl) and the several-proxies walk-through.
  # varnish: varnishtest runs the conformance suite (tests/conformance/*.vtc). clang-format and
  # clang-tidy: the format check (scripts/format.sh) and scripts/tidy.sh. python3-h2 (with its
  # hyperframe and hpack): the HTTP/2 abuse tests write raw frames with them
  # (tests/e2e/http2_abuse.py). libsystemd-dev: socket activation and sd_notify (both programs);
  # systemd: systemd-socket-activate and systemd-analyze for the tests; wrk: the load under
  # which the binary-upgrade test upgrades; dpkg-dev and lintian: scripts/package.sh and its test.
  # python3-grpcio: the gRPC server and client of the gRPC tests (tests/e2e/grpc_peer.py);
  # nghttp2-client: h2load (h2c and gRPC load, scripts/bench.sh). libyaml-cpp-dev: portico-ctl
  # reads and writes the configuration as YAML (sidecar/ctl/YamlJson.cpp).
  local pkgs=(build-essential cmake pkg-config libpoco-dev libcppunit-dev libsqlite3-dev sqlite3 curl
              libyaml-cpp-dev
              libpq-dev postgresql
              node-llhttp libssl-dev libnghttp2-dev openssl prometheus python3-jsonschema
              python3-yaml python3-h2 python3-grpcio nghttp2-client clang clang-format clang-tidy
              libclang-rt-dev varnish libsystemd-dev systemd wrk dpkg-dev lintian "$@")
  # Node.js from elsewhere (a nodesource build ships npm inside) counts as present.
  command -v npm >/dev/null || pkgs+=(nodejs npm)
  local missing
  missing=$(portico_missing "${pkgs[@]}")
  # shellcheck disable=SC2086 # one package name per word
  [ -z "$missing" ] || portico_apt_install $missing
  # The status page's browser test drives headless Chromium through Selenium. Without them that
  # test reports itself skipped, so a machine that cannot install them still builds and tests.
  missing=$(portico_missing chromium chromium-driver python3-selenium)
  # shellcheck disable=SC2086
  if [ -n "$missing" ] && ! portico_apt_install $missing; then
    echo "warning: could not install $missing; the dashboard browser test will be skipped" >&2
  fi
}

# The build tree for SANITIZE (empty, address or thread): build/, build-asan/ or build-tsan/.
portico_build_dir() {
  case "${SANITIZE:-}" in
    "") echo build ;;
    address) echo build-asan ;;
    thread) echo build-tsan ;;
    *) echo "SANITIZE must be address or thread, not '${SANITIZE}'" >&2; return 1 ;;
  esac
}

portico_build() {
  local dir type=Release
  dir=$(portico_build_dir)
  # Sanitizer reports need symbols; optimised code keeps the instrumented suite quick enough.
  [ -n "${SANITIZE:-}" ] && type=RelWithDebInfo
  # compile_commands.json: scripts/tidy.sh reads it.
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=$type -DPORTICO_SANITIZE="${SANITIZE:-}" \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
  cmake --build "$dir" -j2
}

# The libFuzzer harnesses (tests/fuzz/), built by clang in build-fuzz/.
portico_build_fuzz() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DPORTICO_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-fuzz -j2 --target portico_fuzzers
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  portico_install_deps "$@"
fi
