package oauth

import (
	"strings"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage/memory"
)

func newTestBroker(t *testing.T) *Broker {
	t.Helper()
	k, _ := secret.GenerateMasterKey()
	keys, err := secret.NewKeys(k)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBroker(memory.New(), keys, Options{PublicURL: "https://inlay.example.com", AllowedOrigins: []string{"https://app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDatabricksEndpoints(t *testing.T) {
	b := newTestBroker(t)
	cases := []struct {
		name        string
		cfg         Config
		auth, token string
	}{
		{"workspace", Config{WorkspaceHost: "adb-1.azuredatabricks.net"},
			"https://adb-1.azuredatabricks.net/oidc/v1/authorize", "https://adb-1.azuredatabricks.net/oidc/v1/token"},
		{"account", Config{AccountHost: "accounts.cloud.databricks.com", AccountID: "abc-123"},
			"https://accounts.cloud.databricks.com/oidc/accounts/abc-123/v1/authorize", "https://accounts.cloud.databricks.com/oidc/accounts/abc-123/v1/token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.ClientID, c.cfg.ClientSecret = "id", "secret"
			it, err := b.CreateIntegration(t.Context(), Input{Name: "dbx-" + c.name, Template: TemplateDatabricks, Config: c.cfg})
			if err != nil {
				t.Fatal(err)
			}
			full, _ := b.Resolve(t.Context(), it.GUID)
			p, err := b.endpoints(t.Context(), full)
			if err != nil {
				t.Fatal(err)
			}
			if p.endpoint.AuthURL != c.auth || p.endpoint.TokenURL != c.token {
				t.Fatalf("endpoints %s %s", p.endpoint.AuthURL, p.endpoint.TokenURL)
			}
			if full.Config.Scopes != "all-apis offline_access" {
				t.Fatalf("scopes %q", full.Config.Scopes)
			}
		})
	}
}

func TestValidationReportsEveryProblem(t *testing.T) {
	b := newTestBroker(t)
	cases := []struct {
		name string
		in   Input
		keys []string
	}{
		{"http to a remote host", Input{Name: "a", Template: TemplateCustom, Config: Config{ClientID: "x", ClientSecret: "y",
			AuthorizationURI: "http://idp.example.com/auth", TokenURI: "https://idp.example.com/token"}}, []string{"config.authorization_uri"}},
		{"public service account", Input{Name: "b", AuthType: AuthServiceAccount, Template: TemplateCustom,
			Config: Config{AuthMode: ModePublic, ClientID: "x", TokenURI: "https://idp.example.com/token"}}, []string{"config.auth_mode"}},
		{"oidc without offline_access", Input{Name: "c", Template: TemplateOIDC, Config: Config{ClientID: "x", ClientSecret: "y",
			Issuer: "https://idp.example.com", Scopes: "openid"}}, []string{"config.scopes"}},
		{"guid as name", Input{Name: "0b2d3c4e-1111-4222-8333-444455556666", Template: TemplateDatabricks,
			Config: Config{ClientID: "x", ClientSecret: "y", WorkspaceHost: "h.example.com"}}, []string{"name"}},
		{"databricks both hosts", Input{Name: "d", Template: TemplateDatabricks, Config: Config{ClientID: "x", ClientSecret: "y",
			WorkspaceHost: "h", AccountHost: "a", AccountID: "1"}}, []string{"config.workspace_host"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.CreateIntegration(t.Context(), c.in)
			ve, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("got %v", err)
			}
			for _, k := range c.keys {
				if ve.Problems[k] == "" {
					t.Errorf("no problem for %s: %v", k, ve.Problems)
				}
			}
		})
	}
	if its, _ := b.ListIntegrations(t.Context()); len(its) != 0 {
		t.Fatalf("refused integrations were stored: %v", its)
	}
}

// TestSealedTokensAreNotInterchangeable: a login ticket is not a user session token, a user
// session token is not a content session token, and expiry is enforced.
func TestSealedTokensAreNotInterchangeable(t *testing.T) {
	b := newTestBroker(t)
	ust, _, err := b.UserSessionToken("content", "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	cst, _, _ := b.ContentSessionToken("content", time.Minute)
	login, _ := b.LoginURL("alice", "g", "")
	ticket := login[strings.Index(login, "ticket=")+len("ticket="):]
	if _, err := b.unseal(sealedContent, contentTokenPrefix, contentTokenPrefix+strings.TrimPrefix(ust, userTokenPrefix)); err == nil {
		t.Fatal("a user session token opened as a content session token")
	}
	if _, err := b.unseal(sealedUser, userTokenPrefix, userTokenPrefix+strings.TrimPrefix(cst, contentTokenPrefix)); err == nil {
		t.Fatal("a content session token opened as a user session token")
	}
	if _, err := b.unseal(sealedUser, userTokenPrefix, userTokenPrefix+ticket); err == nil {
		t.Fatal("a login ticket opened as a user session token")
	}
	if c, err := b.unseal(sealedUser, userTokenPrefix, ust); err != nil || c.Viewer != "alice" {
		t.Fatalf("own kind: %v %v", c, err)
	}
	b.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if _, err := b.unseal(sealedUser, userTokenPrefix, ust); err != errSealedExpired {
		t.Fatalf("expired: %v", err)
	}
}

func TestReturnToOrigins(t *testing.T) {
	b := newTestBroker(t)
	for u, ok := range map[string]bool{
		"https://inlay.example.com/x":      true,
		"https://app.example.com/settings": true,
		"https://app.example.com.evil.net": false,
		"https://evil.example.net/":        false,
		"//evil.example.net/":              false,
		"javascript:alert(1)":              false,
		"https://user@app.example.com/":    false,
		"http://app.example.com/":          false,
	} {
		if got := b.returnToAllowed(u); got != ok {
			t.Errorf("%s: %v, want %v", u, got, ok)
		}
	}
}
