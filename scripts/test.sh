#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, end-to-end, fuzz) through CTest;
# the whole run (no arguments) first holds the sources to scripts/tidy.sh (clang-tidy).
# Extra arguments go to ctest, e.g. scripts/test.sh -L unit   or   scripts/test.sh -R store
# SANITIZE=address (ASan+UBSan) or SANITIZE=thread (TSan) builds and tests an instrumented copy
# in build-asan/ or build-tsan/; a sanitizer report fails the test it happens in.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
portico_install_deps
portico_build
portico_build_fuzz
dir=$(portico_build_dir)
supp="$PWD/tests/sanitizers"
# Every process a test starts inherits these: the first report ends it with a failure. A
# proxy or sidecar a test starts logs into a directory the test deletes, and its exit status at
# stop is not checked, so every report also goes to $reports: any file there fails the run.
reports="$PWD/$dir/sanitizer-reports"
rm -rf "$reports" && mkdir -p "$reports"
log="log_path=$reports/report"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:$log:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:$log:${UBSAN_OPTIONS:-}"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp:$log:${TSAN_OPTIONS:-}"
# The whole run (no ctest arguments) also holds the sources to clang-tidy's checks (about 2 min).
if [ $# -eq 0 ] && [ -z "${SANITIZE:-}" ]; then
  BUILD_DIR="$dir" scripts/tidy.sh
fi
status=0
ctest --test-dir "$dir" --output-on-failure --timeout 600 "$@" || status=$?
if [ -n "${SANITIZE:-}" ] && [ -n "$(ls -A "$reports")" ]; then
  echo "test.sh: sanitizer reports from processes the tests started:" >&2
  cat "$reports"/* >&2
  status=1
fi
exit $status
