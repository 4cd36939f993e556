#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need (Debian's Chromium, npm
# packages), makes sure PostgreSQL is up, builds the viewer and SDK, then runs the Go tests
# (DuckDB, SQLite and PostgreSQL included), the viewer's and the SDK's unit tests and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium drives the browser tests (test tools cannot download a browser here).
if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi

# PostgreSQL: the data-source and store tests run against the real server.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "== starting postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
export INLAY_TEST_POSTGRES_DSN="${INLAY_TEST_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

bash scripts/build-ui.sh

echo "== go vet"
go vet ./...
go vet -tags bench ./cmd/inlay
echo "== go test"
go test -count=1 ./...

echo "== sdk unit tests"
npm --prefix sdk/embed test

echo "== viewer unit tests"
npm --prefix web/viewer test

echo "== browser tests"
npm --prefix e2e ci --no-audit --no-fund
npm --prefix e2e test
