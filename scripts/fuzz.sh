#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz/ (clang, ASan+UBSan, in build-fuzz/) and runs each
# in turn for SECONDS (default 60; 0 only builds). Inputs found go to build-fuzz/corpus/NAME/ and
# are replayed by later runs; a crash stops with its input saved in build-fuzz/corpus/NAME/.
#   scripts/fuzz.sh [SECONDS] [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
portico_install_deps
portico_build_fuzz
seconds=${1:-60}
shift || true
[ "$seconds" = 0 ] && exit 0
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for h in build-fuzz/fuzz/*; do [ -x "$h" ] && names+=("$(basename "$h")"); done
fi
summary=()
for name in "${names[@]}"; do
  echo "== fuzz $name for ${seconds}s" >&2
  log="build-fuzz/corpus/$name.log"
  mkdir -p build-fuzz/corpus
  if ! tests/fuzz/run.sh "build-fuzz/fuzz/$name" tests/fuzz build-fuzz/corpus "$seconds" \
      >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz $name: FAILED (log: $log, input saved in build-fuzz/corpus/$name/)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  corpus=$(ls "build-fuzz/corpus/$name/corpus" | wc -l)
  summary+=("$(printf '%-16s %12s executions  %6s inputs in corpus' "$name" "$runs" "$corpus")")
done
printf '%s\n' "${summary[@]}"
