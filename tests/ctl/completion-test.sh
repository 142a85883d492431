#!/usr/bin/env bash
# portico-ctl's bash completion (sidecar/ctl/portico-ctl.bash) as bash runs it on <TAB>:
# commands, subcommands, options, output formats. No sidecar is needed (route prefixes then
# complete to nothing). Usage: completion-test.sh SOURCE_DIR
set -uo pipefail  # not -e: completion code returns non-zero as a matter of course (compgen, ((i++)))
source "${1:?usage: completion-test.sh SOURCE_DIR}/sidecar/ctl/portico-ctl.bash"
export PORTICO_SERVER=http://127.0.0.1:1
fails=0
expect() {  # "words..." "expected completions"
  local line=$1 want=$2
  read -ra COMP_WORDS <<<"$line"
  [[ "$line" == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _portico_ctl
  local got="${COMPREPLY[*]}"
  if [ "$got" != "$want" ]; then
    echo "completion-test: '$line' gave '$got', not '$want'" >&2
    fails=$((fails + 1))
  fi
}
expect "portico-ctl con" "config"
expect "portico-ctl r" "routes remove route revert"
expect "portico-ctl config " "get diff apply"
expect "portico-ctl route " "create delete"
expect "portico-ctl config apply -f x.yaml --d" "--dry-run"
expect "portico-ctl history --f" "--follow"
expect "portico-ctl add /api/ http://a --w" "--weight"
expect "portico-ctl routes -o " "table json"
expect "portico-ctl config get -o " "yaml json"
expect "portico-ctl route create /a/ --balancer " "round_robin least_conn ip_hash"
expect "portico-ctl --server http://x:1 st" "status"
[ "$fails" -eq 0 ] || exit 1
echo "completion-test: ok"
