#!/usr/bin/env bash
# scripts/package.sh on the built binaries, then what an operator gets from the .deb: its file
# list (dpkg-deb --contents) against the one the package promises, lintian without an error,
# and an installation into a scratch root (dpkg --root, maintainer scripts chrootless under
# DPKG_ROOT) whose /usr/bin programs pass --check on its /etc/portico/portico.properties, then
# a purge that leaves nothing of the package behind. Skipped (77) without dpkg-deb or lintian.
# Usage: package-test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "${1:?usage: package-test.sh BUILD_DIR}" && pwd)
SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "package-test: $*" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps lintian; do
  command -v $tool >/dev/null || { echo "SKIPPED: $tool is not installed (scripts/deps.sh)" >&2; exit 77; }
done
WORK=$(mktemp -d /tmp/portico-package-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

DEB=$(PORTICO_SKIP_BUILD=1 PORTICO_VERSION=1.2.3 "$SOURCE/scripts/package.sh" "$BUILD" "$WORK/out")
[ "$(basename "$DEB")" = "portico_1.2.3_$(dpkg --print-architecture).deb" ] || fail "named $DEB"

contents=$(dpkg-deb --contents "$DEB")
for f in ./usr/bin/portico-proxy ./usr/bin/portico-sidecar ./usr/bin/portico-ctl \
         ./lib/systemd/system/portico-proxy.service ./lib/systemd/system/portico-sidecar.service \
         ./lib/systemd/system/portico-proxy.socket ./lib/systemd/system/portico-sidecar.socket \
         ./etc/portico/portico.properties ./etc/logrotate.d/portico \
         ./usr/lib/sysusers.d/portico.conf ./usr/share/doc/portico/copyright \
         ./usr/share/doc/portico/changelog.gz ./usr/share/man/man8/portico-proxy.8.gz \
         ./usr/share/man/man8/portico-sidecar.8.gz ./usr/share/man/man1/portico-ctl.1.gz \
         ./usr/share/bash-completion/completions/portico-ctl; do
  grep -q " $f\$" <<<"$contents" || fail "the package lacks $f"
done
grep -q ' root/root .* ./usr/bin/portico-proxy$' <<<"$contents" || fail "files not owned by root"
[ "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles)" = \
  "$(printf '/etc/logrotate.d/portico\n/etc/portico/portico.properties')" ] || fail "conffiles"
dpkg-deb --field "$DEB" Depends | grep -q 'libsystemd0' || fail "Depends lacks the libraries"
dpkg-deb --field "$DEB" Depends | grep -q 'libyaml-cpp' || fail "Depends lacks portico-ctl's yaml-cpp"
unit=$(dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./lib/systemd/system/portico-proxy.service)
grep -qxF 'ExecStart=/usr/bin/portico-proxy --config=/etc/portico/portico.properties' <<<"$unit" \
  || fail "the proxy unit does not run /usr/bin with /etc/portico"

# lintian's errors fail the package; its warnings are printed.
report=$(lintian --allow-root "$DEB" 2>&1 || true)
[ -z "$report" ] || echo "$report"
! grep -q '^E:' <<<"$report" || fail "lintian reports errors"

ROOT=$WORK/root
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates"
touch "$ROOT/var/lib/dpkg/status"
dpkg=(dpkg "--root=$ROOT" --log=/dev/null --force-not-root --force-script-chrootless)
"${dpkg[@]}" --force-depends -i "$DEB" >/dev/null 2>&1 || fail "dpkg -i into $ROOT failed"
[ -d "$ROOT/var/lib/portico" ] || fail "postinst did not make /var/lib/portico"
for program in portico-proxy portico-sidecar; do
  out=$("$ROOT/usr/bin/$program" --config="$ROOT/etc/portico/portico.properties" --check 2>&1) \
    || fail "$program --check: $out"
  [ "$out" = "$program: configuration ok" ] || fail "$program --check said: $out"
done
out=$("$ROOT/usr/bin/portico-ctl" --server http://127.0.0.1:1 status 2>&1) && fail "portico-ctl: $out"
grep -q 'cannot reach the sidecar' <<<"$out" || fail "portico-ctl said: $out"
"${dpkg[@]}" -P portico >/dev/null 2>&1 || fail "dpkg -P failed"
[ ! -e "$ROOT/usr/bin/portico-proxy" ] && [ ! -e "$ROOT/etc/portico/portico.properties" ] \
  || fail "purge left files behind"
echo "package-test: $(basename "$DEB") built, its contents and conffiles checked, lintian" \
  "without error, installed into and purged from a scratch root"
