#!/usr/bin/env bash
# The demo with an OAuth integration: starts a local OpenID provider (npm oidc-provider, the one
# the tests use, standing in for Databricks) and `inlay demo` with the sample data running on each
# viewer's credentials of it. Log in to the host app as alice: the dashboard asks to "Connect your
# Databricks account"; the popup's login and consent accept any user name and password.
set -euo pipefail
cd "$(dirname "$0")/.."
ADDR="${ADDR:-127.0.0.1:8470}"
PROVIDER=internal/oauth/testdata/provider
[ -d "$PROVIDER/node_modules/oidc-provider" ] || npm --prefix "$PROVIDER" ci --no-audit --no-fund
out=$(mktemp)
# The provider lives as long as its standard input: the fifo is held open by this script and,
# after exec, by the demo (so the provider ends with it).
fifo=$(mktemp -u) && mkfifo "$fifo"
(cd "$PROVIDER" && REDIRECT_URIS="http://$ADDR/__oauth__/integrations/callback" node provider.mjs <"$fifo" >"$out" 2>/dev/null) &
exec 3>"$fifo"
for _ in $(seq 1 100); do grep -q issuer "$out" && break; sleep 0.1; done
ISSUER=$(sed -n 's/.*"issuer":"\([^"]*\)".*/\1/p' "$out")
[ -n "$ISSUER" ] || { echo "the OpenID provider did not start" >&2; exit 1; }
export DEMO_OAUTH_SECRET=confidential-secret
exec go run ./cmd/inlay demo --addr "$ADDR" --oauth-issuer "$ISSUER" --oauth-client-id inlay-confidential \
  --oauth-client-secret-env DEMO_OAUTH_SECRET "$@"
