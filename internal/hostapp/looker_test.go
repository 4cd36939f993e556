package hostapp

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestEncodeURIComponent(t *testing.T) {
	for in, want := range map[string]string{
		"/embed/dashboards/sales?embed_domain=http://127.0.0.1:8471&sdk=3": "%2Fembed%2Fdashboards%2Fsales%3Fembed_domain%3Dhttp%3A%2F%2F127.0.0.1%3A8471%26sdk%3D3",
		"a b+c!~*'()-_.": "a%20b%2Bc!~*'()-_.",
		"é":              "%C3%A9",
	} {
		if got := encodeURIComponent(in); got != want {
			t.Errorf("encodeURIComponent(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSignEmbedURL checks the signed URL the way a verifier reads it: the received parameter
// values and the encoded path, one a line, under HMAC-SHA1 of the secret.
func TestSignEmbedURL(t *testing.T) {
	app, err := New(Config{InlayURL: "https://127.0.0.1:8443", ClientID: "id", ClientSecret: "secret", DashboardID: "sales",
		Looker: &LookerConfig{Host: "127.0.0.1:8443", EmbedSecret: "s3cret", Users: map[string]map[string]any{"alice": {
			"external_user_id": "looker-alice", "first_name": "Alice", "session_length": 3600,
			"permissions": []string{"access_data", "see_lookml_dashboards"}, "models": []string{"sales"},
			"user_attributes": map[string]any{"external_value": "Sales"},
			"access_filters":  map[string]any{"sales": map[string]any{"region": "East"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	target := "/embed/dashboards/sales?embed_domain=http://127.0.0.1:8471&sdk=3&Region=East"
	now := time.Unix(1_700_000_000, 0)
	def, ok := app.lookerUser(users["alice"])
	if !ok {
		t.Fatal("alice has no embed user")
	}
	if _, ok := app.lookerUser(users["bob"]); ok {
		t.Fatal("bob has an embed user he was not given")
	}
	signed, err := signEmbedURL("127.0.0.1:8443", "s3cret", target, def, now)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "127.0.0.1:8443" {
		t.Fatalf("url %s", signed)
	}
	rawPath := u.EscapedPath()
	if !strings.HasPrefix(rawPath, "/login/embed/") {
		t.Fatalf("path %s", rawPath)
	}
	if got, _ := url.PathUnescape(strings.TrimPrefix(rawPath, "/login/embed/")); got != target {
		t.Fatalf("target %q, want %q", got, target)
	}
	q := u.Query()
	lines := []string{"127.0.0.1:8443", rawPath}
	for _, k := range []string{"nonce", "time", "session_length", "external_user_id", "permissions", "models", "user_attributes", "access_filters"} {
		if !q.Has(k) {
			t.Fatalf("missing %s", k)
		}
		lines = append(lines, q.Get(k))
	}
	for _, k := range []string{"group_ids", "external_group_id"} {
		if q.Has(k) {
			t.Fatalf("absent optional %s sent", k)
		}
	}
	mac := hmac.New(sha1.New, []byte("s3cret"))
	mac.Write([]byte(strings.Join(lines, "\n")))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); q.Get("signature") != want {
		t.Fatalf("signature %s, want %s", q.Get("signature"), want)
	}
	for k, want := range map[string]string{
		"time":               "1700000000",
		"external_user_id":   `"looker-alice"`,
		"models":             `["sales"]`,
		"access_filters":     `{"sales":{"region":"East"}}`,
		"first_name":         `"Alice"`,
		"force_logout_login": `true`,
	} {
		if q.Get(k) != want {
			t.Errorf("%s = %s, want %s", k, q.Get(k), want)
		}
	}
	if !strings.HasPrefix(q.Get("nonce"), `"`) || len(q.Get("nonce")) != 34 {
		t.Errorf("nonce %s", q.Get("nonce"))
	}
}
