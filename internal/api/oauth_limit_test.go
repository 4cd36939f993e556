package api_test

import (
	"strconv"
	"testing"

	"github.com/inlay/inlay/internal/api"
	"github.com/inlay/inlay/internal/oauth/oauthtest"
	"github.com/inlay/inlay/internal/ratelimit"
)

// TestOAuthExchangeIsRateLimitedPerAPIKey: the credential exchange is limited per content API
// key, like the token endpoints per principal: over the limit a 429 with Retry-After and an
// OAuth-shaped error, while another application's key is unaffected.
func TestOAuthExchangeIsRateLimitedPerAPIKey(t *testing.T) {
	e := newOAuthEnv(t, oauthEnvOptions{deps: func(d *api.Deps) { d.ExchangeLimiter = ratelimit.New(0.01, 2, nil) }})
	guid := e.oidcIntegration("idp", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic")
	_, key := e.app(guid)
	_, otherKey := e.app(guid)
	e.login("dana", guid, "dana")
	subject := e.userToken(key, "dana")
	for range 2 {
		e.accessToken(key, subject)
	}
	r := e.exchange(key, subject, "")
	if r.status != 429 {
		t.Fatalf("third exchange within the burst of 2: %d %s; want 429", r.status, r.body)
	}
	if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	if m := oauthErr(t, r); m["error"] != "temporarily_unavailable" || m["error_code"] != "rate_limited" || m["access_token"] != nil {
		t.Fatalf("429 body: %v", m)
	}
	// Another application's key has its own budget.
	e.accessToken(otherKey, e.userToken(otherKey, "dana"))
}
