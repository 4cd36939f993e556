package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlay/inlay/internal/oauth"
	"github.com/inlay/inlay/internal/oauth/oauthtest"
)

// TestIntegrationCommands: create (secret from the environment, never printed or stored in
// clear), list, keys rotate reseals it, delete.
func TestIntegrationCommands(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "state:\n  driver: sqlite\n")
	const secret = "dbx-client-secret-value-123"
	getenv := func(k string) string {
		if k == "DBX_SECRET" {
			return secret
		}
		return ""
	}
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"integration", "create", "--project", dir, "--name", "databricks", "--template", "databricks",
		"--workspace-host", "adb-1.azuredatabricks.net", "--client-id", "cid", "--client-secret-env", "DBX_SECRET", "--json"}, getenv, &out, &errb); err != nil {
		t.Fatalf("create: %v %s", err, errb.String())
	}
	var created struct {
		GUID   string         `json:"guid"`
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal(out.Bytes(), &created); err != nil || created.GUID == "" {
		t.Fatalf("create printed %q", out.String())
	}
	if strings.Contains(out.String(), secret) {
		t.Fatal("create printed the secret")
	}
	// Bad input: an error, and nothing created.
	if err := run(t.Context(), []string{"integration", "create", "--project", dir, "--name", "bad name", "--template", "oidc"}, getenv, &out, &errb); err == nil {
		t.Fatal("an invalid integration was accepted")
	}
	out.Reset()
	if err := run(t.Context(), []string{"integration", "list", "--project", dir}, getenv, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), created.GUID) || strings.Contains(out.String(), secret) || strings.Count(out.String(), "\n") != 2 {
		t.Fatalf("list: %s", out.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"keys", "rotate", "--project", dir}, getenv, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "resealed 1 OAuth") {
		t.Fatalf("keys rotate: %s", out.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, ".inlay", "state.db*"))
	for _, f := range files {
		if db, _ := os.ReadFile(f); bytes.Contains(db, []byte(secret)) {
			t.Errorf("%s holds the client secret in clear", f)
		}
	}
	if err := run(t.Context(), []string{"integration", "delete", "--project", dir, "databricks"}, getenv, &out, &errb); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	_ = run(t.Context(), []string{"integration", "list", "--project", dir}, getenv, &out, &errb)
	if strings.Contains(out.String(), created.GUID) {
		t.Error("the deleted integration is still listed")
	}
}

// TestCheckReportsOAuthDeclarationProblems: a declared integration the API would refuse is
// reported by `inlay check`, with its key.
func TestCheckReportsOAuthDeclarationProblems(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), `oauth:
  integrations:
    dbx:
      template: databricks
      config: {client_id: cid, client_secret: s}
`)
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"check", "--project", dir}, func(string) string { return "" }, &out, &errb); err == nil {
		t.Fatal("check accepted a databricks integration without a host")
	}
	if !strings.Contains(errb.String(), "inlay.yaml:5: oauth.integrations.dbx.config.workspace_host: required") {
		t.Fatalf("check said: %s", errb.String())
	}
}

// TestDemoWithOAuthIntegration: `inlay demo --oauth-issuer` registers the provider as the
// "Databricks" integration and the sample data then runs with each viewer's credentials: before
// alice connects, her widgets fail with login_required and a login URL; after she logs in at the
// provider, they answer.
func TestDemoWithOAuthIntegration(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	prov := oauthtest.Start(t, oauthtest.Options{RedirectURIs: []string{"http://" + addr + oauth.CallbackPath}})
	inlayURL, hostURL := startDemo(t, "--addr", addr, "--oauth-issuer", prov.Issuer, "--oauth-client-id", oauthtest.PublicID)

	jar, _ := cookiejar.New(nil)
	host := &http.Client{Jar: jar}
	resp, err := host.Post(hostURL+"/api/auth/login", "application/json", strings.NewReader(`{"username":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = host.Get(hostURL + "/api/dashboard/embed-config")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		EmbedToken string `json:"embed_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&cfg)
	resp.Body.Close()
	query := func() map[string]any {
		req, _ := http.NewRequest("POST", inlayURL+"/api/v1/embed/dashboards/sales/query", strings.NewReader(`{"widgets":["revenue"]}`))
		req.Header.Set("Authorization", "Bearer "+cfg.EmbedToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Results map[string]map[string]any `json:"results"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out.Results["revenue"]
	}
	r := query()
	e, _ := r["error"].(map[string]any)
	if e == nil || e["code"] != "login_required" {
		t.Fatalf("before connecting: %v", r)
	}
	login, _ := e["details"].(map[string]any)["login_url"].(string)
	if p := oauthtest.NewBrowser().Login(t, login, "alice"); !strings.Contains(p.Body, "Connected") {
		t.Fatalf("login: %d %s", p.Status, p.Body)
	}
	if r := query(); r["error"] != nil || len(r["rows"].([]any)) != 1 {
		t.Fatalf("after connecting: %v", r)
	}
}
