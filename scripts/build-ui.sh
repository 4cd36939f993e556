#!/usr/bin/env bash
# Builds the viewer page and the @inlay/embed SDK into internal/web/dist, which the Go binary embeds.
set -euo pipefail
cd "$(dirname "$0")/.."
for pkg in web/viewer sdk/embed; do
  echo "== building $pkg"
  npm --prefix "$pkg" ci --no-audit --no-fund
  npm --prefix "$pkg" run build
done
