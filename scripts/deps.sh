#!/usr/bin/env bash
# Installs the Debian packages Portico builds and tests with, when any is missing.
# Sourced by run.sh, test.sh and bench.sh; usable on its own too (arguments: more packages).
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
  local pkgs=(build-essential cmake pkg-config libpoco-dev libcppunit-dev libsqlite3-dev sqlite3 curl "$@")
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

portico_build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  portico_install_deps "$@"
fi
