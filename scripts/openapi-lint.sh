#!/usr/bin/env bash
# Lints docs/openapi.yaml with Redocly CLI (the "recommended" rules plus the project's in
# docs/redocly.yaml). The CLI is installed from npm into a project-local directory on first use
# ($PORTICO_TOOLS, default build/tools; never committed).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${PORTICO_TOOLS:-$ROOT/build/tools}
VERSION=2.77.0
CLI="$TOOLS/node_modules/.bin/redocly"
if ! command -v npm >/dev/null; then
  echo "openapi-lint: npm is missing (scripts/deps.sh installs it)" >&2
  exit 1
fi
if [ ! -x "$CLI" ] || ! "$CLI" --version 2>/dev/null | grep -qx "$VERSION"; then
  mkdir -p "$TOOLS"
  echo "openapi-lint: installing @redocly/cli@$VERSION into $TOOLS" >&2
  npm install --prefix "$TOOLS" --no-save --no-audit --no-fund --loglevel=error \
    "@redocly/cli@$VERSION" >&2
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
cd "$ROOT/docs"
exec "$CLI" lint --config redocly.yaml openapi.yaml
