#!/usr/bin/env bash
# Runs one libFuzzer harness: run.sh HARNESS SEED_ROOT WORK_ROOT SECONDS
# Replays the seeds in SEED_ROOT/NAME/ and what earlier runs kept in WORK_ROOT/NAME/corpus/,
# then fuzzes for SECONDS. New inputs go to the work corpus (never into the source tree); a
# crash leaves its input in WORK_ROOT/NAME/ and fails. Exit 77 (skipped) when not built.
set -euo pipefail
harness=$1 seeds=$2 work=$3 seconds=$4
name=$(basename "$harness")
if [ ! -x "$harness" ]; then
  echo "$harness is not built: scripts/fuzz.sh 0 (or scripts/test.sh) builds it" >&2
  exit 77
fi
mkdir -p "$work/$name/corpus"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -error_exitcode=1 -timeout_exitcode=1
      -artifact_prefix="$work/$name/")
[ -f "$seeds/$name.dict" ] && args+=(-dict="$seeds/$name.dict")
exec "$harness" "${args[@]}" "$work/$name/corpus" "$seeds/$name"
