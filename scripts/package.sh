#!/usr/bin/env bash
# Builds the Debian package portico_<version>_<arch>.deb from a Release build (dpkg-deb, no
# debian/ source tree): the binaries (stripped) in /usr/bin, portico-ctl's bash completion and
# man page, the systemd units and sockets in
# /lib/systemd/system, /etc/portico/portico.properties and /etc/logrotate.d/portico as
# conffiles, the sysusers file, the documentation, and maintainer scripts that create the
# portico user and /var/lib/portico and upgrade the proxy with a reload (packaging/debian/).
# Usage: scripts/package.sh [BUILD_DIR [OUT_DIR]]   (default build/ and build/package/)
# PORTICO_VERSION overrides the version (default 0.1.<commits>); PORTICO_SKIP_BUILD=1 packages
# what BUILD_DIR holds without building.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${2:-$BUILD/package}
if [ -z "${PORTICO_SKIP_BUILD:-}" ]; then
  . scripts/deps.sh
  portico_install_deps
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target portico-proxy portico-sidecar portico-ctl
fi
VERSION=${PORTICO_VERSION:-0.1.$(git rev-list --count HEAD 2>/dev/null || echo 0)}
ARCH=$(dpkg --print-architecture)
ROOT=$(mktemp -d /tmp/portico-deb-XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
STAGE=$ROOT/portico

install -d "$STAGE/DEBIAN" "$STAGE/usr/bin" "$STAGE/lib/systemd/system" \
  "$STAGE/etc/portico" "$STAGE/etc/logrotate.d" "$STAGE/usr/lib/sysusers.d" \
  "$STAGE/usr/share/doc/portico/docs" "$STAGE/usr/share/man/man8" "$STAGE/usr/share/man/man1" \
  "$STAGE/usr/share/bash-completion/completions"
for program in portico-proxy portico-sidecar portico-ctl; do
  install -m 0755 "$BUILD/bin/$program" "$STAGE/usr/bin/$program"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$STAGE/usr/bin/$program"
done
for unit in portico-proxy.service portico-sidecar.service; do
  sed -e 's|@PREFIX@|/usr|g' -e 's|@SYSCONFDIR@|/etc|g' "packaging/$unit.in" \
    > "$STAGE/lib/systemd/system/$unit"
done
install -m 0644 packaging/portico-proxy.socket packaging/portico-sidecar.socket \
  "$STAGE/lib/systemd/system/"
install -m 0644 packaging/portico.properties "$STAGE/etc/portico/portico.properties"
install -m 0644 packaging/portico.logrotate "$STAGE/etc/logrotate.d/portico"
install -m 0644 packaging/portico.sysusers "$STAGE/usr/lib/sysusers.d/portico.conf"
DOC=$STAGE/usr/share/doc/portico
install -m 0644 README.md docs/openapi.yaml "$DOC/"
install -m 0644 docs/*.md docs/*.png "$DOC/docs/"
install -m 0644 packaging/debian/copyright "$DOC/copyright"
for page in portico-proxy.8 portico-sidecar.8; do
  gzip -9n < "packaging/debian/$page" > "$STAGE/usr/share/man/man8/$page.gz"
done
gzip -9n < packaging/debian/portico-ctl.1 > "$STAGE/usr/share/man/man1/portico-ctl.1.gz"
install -m 0644 sidecar/ctl/portico-ctl.bash "$STAGE/usr/share/bash-completion/completions/portico-ctl"
printf 'portico (%s) unstable; urgency=medium\n\n  * Built from %s.\n\n -- Portico developers <portico@example.org>  %s\n' \
  "$VERSION" "$(git rev-parse --short HEAD 2>/dev/null || echo 'a source tree')" \
  "$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")" | gzip -9n > "$DOC/changelog.gz"

install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm \
  "$STAGE/DEBIAN/"
install -m 0644 packaging/debian/conffiles "$STAGE/DEBIAN/conffiles"
# The libraries the binaries link, as Debian versions them (dpkg-shlibdeps wants a debian/ dir).
mkdir -p "$ROOT/debian"
printf 'Source: portico\n\nPackage: portico\nArchitecture: any\n' > "$ROOT/debian/control"
DEPENDS=$(cd "$ROOT" && dpkg-shlibdeps -O "portico/usr/bin/portico-proxy" \
  "portico/usr/bin/portico-sidecar" "portico/usr/bin/portico-ctl" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@SIZE@|$SIZE|" \
  -e "s|@DEPENDS@|$DEPENDS|" packaging/debian/control.in > "$STAGE/DEBIAN/control"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort \
  | xargs md5sum > DEBIAN/md5sums)
chmod 0644 "$STAGE/DEBIAN/md5sums"
find "$STAGE" -type d -exec chmod 0755 {} +

mkdir -p "$OUT"
DEB=$OUT/portico_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
