#!/usr/bin/env bash
# Formats every C++ source with clang-format (.clang-format at the root), or with --check only
# reports what it would change and exits 1 if anything (scripts/test.sh runs the check).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format.sh: clang-format is missing (apt-get install clang-format)" >&2; exit 1; }
mapfile -t files < <(git ls-files -co --exclude-standard -- 'shared/*' 'proxy/*' 'sidecar/*' 'tests/*' \
                     | grep -E '\.(h|cpp)$' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
if [ "${1:-}" = "--check" ]; then
  if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/format-check.$$; then
    grep -E '^[^ ].*: (error|warning):' /tmp/format-check.$$ | head -40 >&2
    echo "format.sh: $(grep -cE ': (error|warning):' /tmp/format-check.$$) line(s) not formatted; run scripts/format.sh" >&2
    rm -f /tmp/format-check.$$
    exit 1
  fi
  rm -f /tmp/format-check.$$
  echo "format.sh: ${#files[@]} files formatted"
else
  clang-format -i "${files[@]}"
fi
