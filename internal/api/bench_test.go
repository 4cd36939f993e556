package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// BenchmarkMintScopedToken measures the third call of the token flow over loopback HTTP.
func BenchmarkMintScopedToken(b *testing.B) {
	e := newEnv(b, envOptions{})
	info := e.tokenInfo(e.serviceToken(), salesDash, url.Values{"external_viewer_id": {"bench@example.com"}, "external_value": {"Sales"}})
	form := exchangeForm(b, info.json(b))
	basic := e.basic()
	for b.Loop() {
		if r := e.postToken(basic, form); r.status != 200 {
			b.Fatalf("%d %s", r.status, r.body)
		}
	}
}

// BenchmarkLooker measures Looker embedding over loopback HTTPS against a bare net/http handler
// served the same way in the same run (same client, TLS and keep-alive), so the ratio is Inlay's
// own cost: signed-URL login (verify the signature against the active secrets, consume the
// nonce, upsert the user, start a session, redirect with the cookie; the URL is signed in the
// loop, as a host would) and generate_tokens (check three tokens, move the session to its next
// token generation). State is the in-memory store.
//
//	go test ./internal/api -run '^$' -bench BenchmarkLooker -benchtime 3000x
func BenchmarkLooker(b *testing.B) {
	b.Run("bare_net_http", func(b *testing.B) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "s", Value: "v", Path: "/", Secure: true, HttpOnly: true})
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":true}`)
		}))
		defer srv.Close()
		c := srv.Client()
		for b.Loop() {
			resp, err := c.Get(srv.URL + "/x?nonce=" + nonce())
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("signed_url_login", func(b *testing.B) {
		l := newLookerEnvTB(b, envOptions{})
		u := alice()
		for b.Loop() {
			if r := l.send("GET", l.sign(u, salesTarget).tsURL(), nil, ""); r.status != http.StatusFound {
				b.Fatalf("%d %s", r.status, r.body)
			}
		}
	})
	b.Run("generate_tokens", func(b *testing.B) {
		l := newLookerEnvTB(b, envOptions{})
		api := l.apiLogin()
		c := tokensOf(b, l.acquire(api, browserUA, cookielessUser("pat", nil)))
		for b.Loop() {
			next := tokensOf(b, l.generate(api, browserUA, c.ref, c.api, c.nav))
			c.api, c.nav = next.api, next.nav
		}
	})
}

// BenchmarkLookerInterleaved runs one bare request, one signed-URL login and one generate_tokens
// per iteration, timing each, so that a busy machine slows all three alike; it reports each
// one's mean and the two ratios to the bare handler.
//
//	go test ./internal/api -run '^$' -bench BenchmarkLookerInterleaved -benchtime 3000x
func BenchmarkLookerInterleaved(b *testing.B) {
	bare := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "v", Path: "/", Secure: true, HttpOnly: true})
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer bare.Close()
	bc := bare.Client()
	l := newLookerEnvTB(b, envOptions{})
	api := l.apiLogin()
	c := tokensOf(b, l.acquire(api, browserUA, cookielessUser("pat", nil)))
	u := alice()
	var tBare, tLogin, tGen time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		resp, err := bc.Get(bare.URL + "/x?nonce=" + nonce())
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t1 := time.Now()
		if r := l.send("GET", l.sign(u, salesTarget).tsURL(), nil, ""); r.status != http.StatusFound {
			b.Fatalf("%d %s", r.status, r.body)
		}
		t2 := time.Now()
		next := tokensOf(b, l.generate(api, browserUA, c.ref, c.api, c.nav))
		c.api, c.nav = next.api, next.nav
		t3 := time.Now()
		tBare, tLogin, tGen = tBare+t1.Sub(t0), tLogin+t2.Sub(t1), tGen+t3.Sub(t2)
		n++
	}
	b.ReportMetric(float64(tBare.Microseconds())/float64(n), "bare-µs")
	b.ReportMetric(float64(tLogin.Microseconds())/float64(n), "login-µs")
	b.ReportMetric(float64(tGen.Microseconds())/float64(n), "generate-µs")
	b.ReportMetric(float64(tLogin)/float64(tBare), "login/bare")
	b.ReportMetric(float64(tGen)/float64(tBare), "generate/bare")
}
