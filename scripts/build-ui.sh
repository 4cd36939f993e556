#!/usr/bin/env bash
# Builds the viewer page and the @inlay/embed SDK into internal/web/dist, which the Go binary embeds,
# and copies the unmodified @looker/embed-sdk bundle there for the demo host's Looker mode.
set -euo pipefail
cd "$(dirname "$0")/.."
for pkg in web/viewer sdk/embed web/looker-sdk; do
  echo "== building $pkg"
  npm --prefix "$pkg" ci --no-audit --no-fund
  npm --prefix "$pkg" run build
done
