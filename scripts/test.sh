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

# Python 3 signs Looker embed URLs like Looker's Python helper in one test (skipped without it).
if ! command -v python3 >/dev/null 2>&1; then
  echo "== installing python3"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null
fi

# PostgreSQL: the data-source and store tests run against the real server; `inlay loadtest`'s
# test runs a private one with initdb and pg_ctl. Installed here, loopback connections of the
# postgres user are trusted, as the test DSN has no password.
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "== installing postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  hba="/etc/postgresql/$(ls /etc/postgresql | head -n1)/main/pg_hba.conf"
  sed -i -E 's#^(host\s+all\s+all\s+(127\.0\.0\.1/32|::1/128)\s+)\S+#\1trust#' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main reload 2>/dev/null || true
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "== starting postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if [ -z "${INLAY_TEST_POSTGRES_DSN:-}" ]; then
  # The default test database: created on a fresh server.
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 ||
    createdb -h 127.0.0.1 -U postgres test
fi
export INLAY_TEST_POSTGRES_DSN="${INLAY_TEST_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

# Redis: the shared result cache's tests run against the real server (and start private
# redis-server processes of their own to stop mid-run).
if ! command -v redis-server >/dev/null 2>&1; then
  echo "== installing redis-server"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "== starting redis-server"
  redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
export INLAY_TEST_REDIS_URL="${INLAY_TEST_REDIS_URL:-redis://127.0.0.1:6379/9}"

bash scripts/build-ui.sh

# A real OpenID provider (npm oidc-provider) for the OAuth integration tests.
echo "== test OpenID provider"
npm --prefix internal/oauth/testdata/provider ci --no-audit --no-fund
export INLAY_TEST_OIDC_PROVIDER=1

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
