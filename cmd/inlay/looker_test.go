package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// signTS builds a signed embed URL (path and query) the way Looker's TypeScript helper does.
func signTS(host, secret, target, user string, now time.Time) string {
	path := "/login/embed/" + strings.NewReplacer("/", "%2F", "?", "%3F", "=", "%3D", "&", "%26", ":", "%3A").Replace(target)
	vals := []string{
		fmt.Sprintf("%q", fmt.Sprintf("n%d", now.UnixNano())), fmt.Sprint(now.Unix()), "600", fmt.Sprintf("%q", user),
		`["access_data","see_lookml_dashboards"]`, `["orders"]`, `{"external_value":"acme"}`, `{}`,
	}
	lines := append([]string{host, path}, vals[:6]...)
	lines = append(lines, vals[6], vals[7])
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(strings.Join(lines, "\n")))
	q := url.Values{}
	for i, name := range []string{"nonce", "time", "session_length", "external_user_id", "permissions", "models", "user_attributes", "access_filters"} {
		q.Set(name, vals[i])
	}
	q.Set("signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return path + "?" + q.Encode()
}

// TestServeHTTPSWithEmbedSecrets serves a project over HTTPS with a self-signed certificate,
// signs a Looker embed URL with a secret made by `inlay embed-secret create`, and revokes it.
func TestServeHTTPSWithEmbedSecrets(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), `secret: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
data_sources:
  default:
    type: duckdb
    init_sql: ["CREATE VIEW orders AS SELECT * FROM (VALUES ('acme', 10.5), ('acme', 4.25), ('globex', 99.0)) t(tenant, amount)"]
embed:
  allowed_origins: [https://app.example.com]
`)
	write(t, filepath.Join(dir, "dashboards", "orders.yaml"), `id: orders
title: Orders
model: orders
datasets:
  - name: orders
    sql: SELECT * FROM orders WHERE tenant = __aibi_external_value
widgets:
  - name: total
    title: Total
    type: counter
    dataset: orders
    value: sum(amount)
    layout: {x: 0, y: 0, w: 3, h: 2}
`)
	getenv := func(string) string { return "" }
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"embed-secret", "create", "--project", dir, "--json"}, getenv, &out, &errb); err != nil {
		t.Fatalf("embed-secret create: %v %s", err, errb.String())
	}
	var created struct{ ID, Secret string }
	if err := json.Unmarshal(out.Bytes(), &created); err != nil || created.ID == "" || len(created.Secret) != 64 {
		t.Fatalf("create printed %q", out.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"embed-secret", "list", "--project", dir}, getenv, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), created.ID) || strings.Contains(out.String(), created.Secret) {
		t.Fatalf("list: %s", out.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, ".inlay", "state.db*"))
	for _, f := range files {
		if db, _ := os.ReadFile(f); bytes.Contains(db, []byte(created.Secret)) {
			t.Errorf("%s holds the embed secret in clear", f)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	stderr := &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"serve", "--project", dir, "--addr", "127.0.0.1:0", "--tls-self-signed"}, getenv, pw, stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve exited with %v", err)
		}
	})
	sc := bufio.NewScanner(pr)
	var base, certPath string
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Certificate:"); ok {
			certPath = strings.Fields(v)[0]
		}
		if v, ok := strings.CutPrefix(sc.Text(), "Inlay:"); ok {
			base = strings.TrimSpace(v)
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if !strings.HasPrefix(base, "https://127.0.0.1:") || certPath != filepath.Join(dir, ".inlay", "tls", "cert.pem") {
		t.Fatalf("serve printed %q and certificate %q; stderr: %s", base, certPath, stderr.String())
	}
	pem, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 30 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	host := strings.TrimPrefix(base, "https://")
	login := func(secret string) *http.Response {
		resp, err := client.Get(base + signTS(host, secret, "/embed/dashboards/orders?embed_domain=https://app.example.com&sdk=3", "u1", time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := login(created.Secret)
	if resp.StatusCode != http.StatusFound || len(resp.Cookies()) != 1 {
		t.Fatalf("signed login over HTTPS: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/embed/dashboards/orders/query", strings.NewReader(`{}`))
	req.AddCookie(resp.Cookies()[0])
	req.Header.Set("Content-Type", "application/json")
	qr, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(qr.Body)
	qr.Body.Close()
	if qr.StatusCode != 200 || !strings.Contains(string(body), "14.75") {
		t.Fatalf("query with the session cookie: %d %s", qr.StatusCode, body)
	}

	out.Reset()
	if err := run(t.Context(), []string{"embed-secret", "revoke", "--project", dir, created.ID}, getenv, &out, &errb); err != nil {
		t.Fatalf("revoke: %v %s", err, errb.String())
	}
	if resp := login(created.Secret); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a URL signed with a revoked secret: %d", resp.StatusCode)
	}
}

// TestDemoHTTPS runs `inlay demo --https`: Inlay answers over HTTPS with the printed certificate
// and the demo prints an embed secret; the host app still mints tokens through Inlay.
func TestDemoHTTPS(t *testing.T) {
	t.Chdir(t.TempDir())
	inlayURL, hostURL := startDemo(t, "--https")
	if !strings.HasPrefix(inlayURL, "https://") {
		t.Fatalf("Inlay URL %q", inlayURL)
	}
	pem, err := os.ReadFile(filepath.Join(".inlay", "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var health map[string]any
	getJSON(t, c, inlayURL+"/livez", "", &health)
	resp, err := http.Post(hostURL+"/api/auth/login", "application/json", strings.NewReader(`{"username":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("host app login: %d", resp.StatusCode)
	}
}
