#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and end-to-end) through CTest.
# Extra arguments go to ctest, e.g. scripts/test.sh -L unit   or   scripts/test.sh -R store
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
portico_install_deps
portico_build
ctest --test-dir build --output-on-failure --timeout 600 "$@"
