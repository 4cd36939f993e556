package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/oauth"
	"github.com/inlay/inlay/internal/oauth/oauthtest"
)

// BenchmarkOAuthExchange measures the credential exchange for a viewer whose token is fresh
// (the hot path: API key check, subject token opened, association, token from memory) against a
// bare net/http handler answering a similar form POST with a small JSON body, in the same run
// and over the same loopback HTTP client:
//
//	INLAY_TEST_OIDC_PROVIDER=1 go test -run '^$' -bench BenchmarkOAuthExchange -benchtime 3s -count 3 ./internal/api/
func BenchmarkOAuthExchange(b *testing.B) {
	e := newOAuthEnv(b, oauthEnvOptions{})
	guid := e.oidcIntegration("idp", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic")
	_, key := e.app(guid)
	e.login("bench", guid, "bench")
	form := url.Values{"grant_type": {oauth.GrantTokenExchange}, "subject_token_type": {oauth.TokenTypeUserSession},
		"subject_token": {e.userToken(key, "bench")}}.Encode()

	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"x","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3600}`)
	}))
	b.Cleanup(bare.Close)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	post := func(b *testing.B, u string) {
		req, _ := http.NewRequest("POST", u, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Key "+key)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	// The two are interleaved in one loop so that both see the same machine load; the ratio is
	// reported as a metric.
	var bareTime, exchangeTime time.Duration
	for b.Loop() {
		t0 := time.Now()
		post(b, bare.URL+"/")
		t1 := time.Now()
		post(b, e.url+"/__api__/v1/oauth/integrations/credentials")
		exchangeTime += time.Since(t1)
		bareTime += t1.Sub(t0)
	}
	b.ReportMetric(float64(bareTime.Nanoseconds())/float64(b.N), "bare-ns/op")
	b.ReportMetric(float64(exchangeTime.Nanoseconds())/float64(b.N), "exchange-ns/op")
	b.ReportMetric(float64(exchangeTime)/float64(bareTime), "ratio")
}
