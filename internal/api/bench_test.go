package api_test

import (
	"net/url"
	"testing"
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
