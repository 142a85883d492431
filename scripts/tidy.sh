#!/usr/bin/env bash
# clang-tidy over shared/, proxy/ and sidecar/ (not tests/), with a short list of checks that find
# bugs or waste and do not argue about style (clang-format owns that):
#   bugprone-*          real mistakes: use after move, suspicious string/memset/sizeof, dangling
#                       handles, unchecked optional-like access, forwarding-reference overloads
#     minus easily-swappable-parameters  flags every (int, int) or (string, string) signature
#     minus implicit-widening-of-multiplication-result  fires only on `16 * 1024` buffer sizes
#   performance-*       copies that could be moves or references, inefficient string/algorithm use
#     minus inefficient-string-concatenation  fires only on error messages built in a loop just
#                                        before a throw (config parsing): nothing to gain
#   misc-unused-using-decls, misc-unused-alias-decls, misc-unused-parameters
#                       dead code the compiler does not warn about
#   readability-function-size (LineThreshold 80)
#                       the developers' guide: functions stay under ~60 lines, 80 is the edge
#   clang-analyzer-* is left out to keep the run short (its checks are path-sensitive, the
#   costly kind); the ASan/UBSan/TSan builds (scripts/test.sh with SANITIZE=...) cover much of it.
#
# Needs a build with compile_commands.json (cmake -DCMAKE_EXPORT_COMPILE_COMMANDS=ON; this script
# configures build/ with it when missing), built once so that generated headers exist. Usage:
#   scripts/tidy.sh [PATH...]      PATHs are folders or files (default: shared proxy sidecar)
# Prints one line per finding (file:line: warning: text [check]) and exits 1 if there are any.
# JOBS (default 2) sets how many clang-tidy processes run at once.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${BUILD_DIR:-build}
command -v clang-tidy >/dev/null || { echo "tidy.sh: clang-tidy is missing (apt-get install clang-tidy)" >&2; exit 2; }
if [ ! -f "$build/compile_commands.json" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
fi
checks='-*,bugprone-*,-bugprone-easily-swappable-parameters,'
checks+='-bugprone-implicit-widening-of-multiplication-result,'
checks+='performance-*,-performance-inefficient-string-concatenation,'
checks+='misc-unused-using-decls,misc-unused-alias-decls,misc-unused-parameters,'
checks+='readability-function-size'
config="{Checks: '$checks', CheckOptions: [{key: readability-function-size.LineThreshold, value: 80}]}"

paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(shared proxy sidecar)
mapfile -t files < <(python3 - "$build/compile_commands.json" "$root" "${paths[@]}" <<'EOF'
import json, os, sys
db, root, wanted = sys.argv[1], sys.argv[2], [os.path.join(sys.argv[2], p) for p in sys.argv[3:]]
seen = set()
for entry in json.load(open(db)):
    f = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    if f in seen or not f.endswith(".cpp"):
        continue
    if any(f == w or f.startswith(w.rstrip("/") + "/") for w in wanted):
        seen.add(f)
        print(f)
EOF
)
[ ${#files[@]} -gt 0 ] || { echo "tidy.sh: no sources under ${paths[*]} in $build/compile_commands.json" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
# Headers count where they are (shared/, proxy/, sidecar/), once each however often included.
printf '%s\n' "${files[@]}" |
  xargs -P "${JOBS:-2}" -n 4 clang-tidy -p "$build" --quiet --config="$config" \
    --header-filter="^$root/(shared|proxy|sidecar)/" 2>/dev/null >>"$out" || true
findings=$(grep -E '^/.*:[0-9]+:[0-9]+: (warning|error):' "$out" | sed "s|^$root/||" | sort -u || true)
echo "tidy.sh: ${#files[@]} files in $(( $(date +%s) - start ))s"
if [ -n "$findings" ]; then
  echo "$findings"
  echo "tidy.sh: $(echo "$findings" | wc -l) finding(s)" >&2
  exit 1
fi
echo "tidy.sh: clean"
