#!/usr/bin/env bash
# `cmake --install` into a scratch prefix, then checks what an operator gets: the binaries, a
# production configuration they accept (--check), and systemd units that `systemd-analyze
# verify` accepts without a single warning (skipped, exit 77, where systemd-analyze is missing).
# Usage: install-test.sh BUILD_DIR
set -euo pipefail
BUILD=${1:?usage: install-test.sh BUILD_DIR}
PREFIX=$(mktemp -d /tmp/portico-install-XXXXXX)
trap 'rm -rf "$PREFIX"' EXIT
fail() { echo "install-test: $*" >&2; exit 1; }

cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null
for f in bin/portico-proxy bin/portico-sidecar bin/portico-ctl etc/portico/portico.properties \
         lib/systemd/system/portico-proxy.service lib/systemd/system/portico-sidecar.service \
         lib/systemd/system/portico-proxy.socket lib/systemd/system/portico-sidecar.socket \
         lib/sysusers.d/portico.conf etc/logrotate.d/portico share/doc/portico/openapi.yaml \
         share/bash-completion/completions/portico-ctl; do
  [ -e "$PREFIX/$f" ] || fail "$f was not installed"
done

CONF=$PREFIX/etc/portico/portico.properties
grep -qx 'store.path = /var/lib/portico/portico.db' "$CONF" || fail "the store is not under /var/lib/portico"
grep -qx 'proxy.access_log = /var/log/portico/access.log' "$CONF" || fail "the access log is not a file"
for program in portico-proxy portico-sidecar; do
  out=$("$PREFIX/bin/$program" --config="$CONF" --check 2>&1) || fail "$program --check: $out"
  [ "$out" = "$program: configuration ok" ] || fail "$program --check said: $out"
done

UNITS=$PREFIX/lib/systemd/system
for unit in portico-proxy portico-sidecar; do
  u=$UNITS/$unit.service
  for line in "User=portico" "Group=portico" "StateDirectory=portico" "Restart=on-failure" \
              "Type=notify" "WatchdogSec=30s" "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
              "ExecStart=$PREFIX/bin/$unit --config=$CONF"; do
    grep -qxF "$line" "$u" || fail "$unit.service lacks '$line'"
  done
done
# A reload is a binary upgrade (SIGUSR2); its new process notifies as the main one.
grep -qxF 'ExecReload=/bin/kill -USR2 $MAINPID' "$UNITS/portico-proxy.service" \
  || fail "portico-proxy.service does not upgrade on reload"
grep -qxF 'NotifyAccess=all' "$UNITS/portico-proxy.service" \
  || fail "portico-proxy.service does not let the upgraded process notify"
grep -q 'kill-who=main --signal=USR1 portico-proxy' "$PREFIX/etc/logrotate.d/portico" \
  || fail "logrotate does not make the proxy reopen its log"
grep -qxF 'FileDescriptorName=http' "$UNITS/portico-proxy.socket" \
  || fail "portico-proxy.socket does not name its socket http"
grep -qxF 'Service=portico-sidecar.service' "$UNITS/portico-sidecar.socket" \
  || fail "portico-sidecar.socket does not feed the sidecar"
grep -q '^Wants=.*portico-sidecar.service' "$UNITS/portico-proxy.service" \
  || fail "portico-proxy.service does not want the sidecar"
if grep -q '^\(Requires\|BindsTo\|Requisite\)=.*portico-sidecar' "$UNITS/portico-proxy.service"; then
  fail "portico-proxy.service must run without the sidecar"
fi

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIPPED: systemd-analyze is not installed; the units were not verified" >&2
  exit 77
fi
# verify only warns (exit 0) about unknown keys or bad values: any output is a failure.
out=$(systemd-analyze verify "$UNITS/portico-sidecar.service" "$UNITS/portico-proxy.service" \
      "$UNITS/portico-sidecar.socket" "$UNITS/portico-proxy.socket" 2>&1) \
  || fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
echo "install-test: installed to $PREFIX and verified"
