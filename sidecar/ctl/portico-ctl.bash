# bash completion for portico-ctl (installed as share/bash-completion/completions/portico-ctl).
# Completes commands, subcommands and options; route prefixes come from the sidecar itself
# (`portico-ctl -o json routes`) when it answers within a second.

_portico_ctl_routes() {
  local server=()
  [ -n "$1" ] && server=(--server "$1")
  timeout 1 portico-ctl "${server[@]}" -o json routes 2>/dev/null \
    | grep -o '"prefixPath":"[^"]*"' | cut -d'"' -f4 | sort -u
}

_portico_ctl() {
  # Plain COMP_WORDS, so it works with or without the bash-completion package.
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD - 1]}"
  local words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
  local commands="routes targets add remove weight drain enable disable route config revert history proxies status"
  local global="--server --token --host -o --output --help"
  local i command="" sub="" server="" nargs=0
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      --server) server="${words[i + 1]}"; ((i++)) ;;
      --token | --host | -o | --output | -f | --weight | --balancer | --health-type | \
        --health-path | --health-interval | --since | --route | --target | --limit | --interval)
        ((i++)) ;;
      -*) ;;
      *)
        if [ -z "$command" ]; then command="${words[i]}"
        elif [ -z "$sub" ] && { [ "$command" = route ] || [ "$command" = config ]; }; then sub="${words[i]}"
        else ((nargs++)); fi ;;
    esac
  done
  case "$prev" in
    -o | --output)
      if [ "$command $sub" = "config get" ]; then COMPREPLY=($(compgen -W "yaml json" -- "$cur"))
      else COMPREPLY=($(compgen -W "table json" -- "$cur")); fi
      return ;;
    -f) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --balancer) COMPREPLY=($(compgen -W "round_robin least_conn ip_hash" -- "$cur")); return ;;
    --health-type) COMPREPLY=($(compgen -W "tcp http" -- "$cur")); return ;;
    --route) COMPREPLY=($(compgen -W "$(_portico_ctl_routes "$server")" -- "$cur")); return ;;
    --server | --token | --host | --weight | --health-path | --health-interval | --since | \
      --target | --limit | --interval) return ;;
  esac
  local options="$global"
  case "$command" in
    add) options+=" --weight" ;;
    route) [ "$sub" = create ] && options+=" --balancer --health-type --health-path --health-interval" ;;
    config) case "$sub" in diff) options+=" -f" ;; apply) options+=" -f --dry-run" ;; esac ;;
    revert) options+=" --dry-run" ;;
    history) options+=" --since --route --target --limit --follow --interval" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  elif [ -z "$command" ]; then
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
  elif [ "$command" = route ] && [ -z "$sub" ]; then
    COMPREPLY=($(compgen -W "create delete" -- "$cur"))
  elif [ "$command" = config ] && [ -z "$sub" ]; then
    COMPREPLY=($(compgen -W "get diff apply" -- "$cur"))
  elif [ "$nargs" -eq 0 ]; then
    case "$command" in
      targets | add | remove | weight | drain | enable | disable | route)
        COMPREPLY=($(compgen -W "$(_portico_ctl_routes "$server")" -- "$cur")) ;;
    esac
  fi
}
complete -F _portico_ctl portico-ctl
