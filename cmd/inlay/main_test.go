package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to write from the server goroutine while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDemo runs `inlay demo` on free ports and returns the printed addresses.
func startDemo(t *testing.T, args ...string) (inlayURL, hostURL string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"demo", "--addr", "127.0.0.1:0", "--host-addr", "127.0.0.1:0", "--rows", "20000"}, args...),
			func(string) string { return "" }, pw, stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo exited with %v", err)
		}
	})
	sc := bufio.NewScanner(pr)
	go func() {
		<-ctx.Done()
		pr.Close()
	}()
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Inlay:"); ok {
			inlayURL = strings.Fields(v)[0]
		}
		if v, ok := strings.CutPrefix(line, "Host app:"); ok {
			hostURL = strings.Fields(v)[0]
		}
		if strings.HasPrefix(line, "Dashboards:") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if inlayURL == "" || hostURL == "" {
		t.Fatalf("demo did not print its addresses; stderr: %s", stderr.String())
	}
	return inlayURL, hostURL
}

// TestDemoHostAppFlow logs in to the demo host application as alice and bob; the host backend
// mints tokens through Inlay's three calls over real HTTP, and each token shows only the user's
// department.
func TestDemoHostAppFlow(t *testing.T) {
	inlayURL, hostURL := startDemo(t)
	revenue := map[string]float64{}
	for _, user := range []string{"alice", "bob"} {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := c.Post(hostURL+"/api/auth/login", "application/json", strings.NewReader(`{"username":"`+user+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("login %s: %d", user, resp.StatusCode)
		}
		var cfg struct {
			EmbedToken  string `json:"embed_token"`
			DashboardID string `json:"dashboard_id"`
		}
		getJSON(t, c, hostURL+"/api/dashboard/embed-config", "", &cfg)
		if cfg.EmbedToken == "" || cfg.DashboardID != "sales" {
			t.Fatalf("embed-config for %s: %+v", user, cfg)
		}
		req, _ := http.NewRequest("POST", inlayURL+"/api/v1/embed/dashboards/sales/query", strings.NewReader(`{"widgets":["revenue"]}`))
		req.Header.Set("Authorization", "Bearer "+cfg.EmbedToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Results map[string]struct {
				Rows [][]json.Number `json:"rows"`
			} `json:"results"`
		}
		dec := json.NewDecoder(resp.Body)
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		v, err := out.Results["revenue"].Rows[0][0].Float64()
		if err != nil || v <= 0 {
			t.Fatalf("%s revenue = %v (%v)", user, out.Results["revenue"].Rows, err)
		}
		revenue[user] = v
	}
	if revenue["alice"] == revenue["bob"] {
		t.Errorf("alice (Sales) and bob (Engineering) see the same revenue %v", revenue["alice"])
	}
}

func getJSON(t *testing.T, c *http.Client, url, bearer string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func TestCheckReportsEveryProblemWithLines(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "listen: 127.0.0.1:8470\ndata_sources:\n  default:\n    type: duckdb\n")
	write(t, filepath.Join(dir, "dashboards", "bad.yaml"), `id: bad
title: Bad
datasets:
  - name: ds
    sql: SELECT 1 AS x
widgets:
  - name: w
    type: counter
    dataset: missing
    value: sum(x)
    layout: {x: 0, y: 0, w: 3, h: 2}
  - name: v
    type: counter
    dataset: ds
    value: total(x)
    layout: {x: 0, y: 0, w: 3, h: 2}
`)
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"check", "--project", dir}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil {
		t.Fatalf("check passed a broken project; stderr: %s", stderr.String())
	}
	out := stderr.String()
	for _, want := range []string{"bad.yaml:9", "bad.yaml:15"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
}

func TestPrincipalCommands(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "state:\n  driver: sqlite\n")
	getenv := func(string) string { return "" }
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"principal", "create", "--project", dir, "--name", "web backend", "--json"}, getenv, &out, &errb); err != nil {
		t.Fatalf("create: %v %s", err, errb.String())
	}
	var created struct{ ClientID, ClientSecret string }
	if err := json.Unmarshal(out.Bytes(), &struct {
		ClientID     *string `json:"client_id"`
		ClientSecret *string `json:"client_secret"`
	}{&created.ClientID, &created.ClientSecret}); err != nil || created.ClientID == "" || created.ClientSecret == "" {
		t.Fatalf("create printed %q (%v)", out.String(), err)
	}
	out.Reset()
	if err := run(t.Context(), []string{"principal", "list", "--project", dir}, getenv, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), created.ClientID) || !strings.Contains(out.String(), "web backend") {
		t.Errorf("list does not show the principal: %s", out.String())
	}
	if strings.Contains(out.String(), created.ClientSecret) {
		t.Error("list prints the secret")
	}
	files, _ := filepath.Glob(filepath.Join(dir, ".inlay", "state.db*"))
	if len(files) == 0 {
		t.Fatal("no state database was written")
	}
	for _, f := range files {
		if db, _ := os.ReadFile(f); bytes.Contains(db, []byte(created.ClientSecret)) {
			t.Errorf("%s holds the secret in clear", f)
		}
	}
	if err := run(t.Context(), []string{"principal", "delete", "--project", dir, created.ClientID}, getenv, &out, &errb); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	_ = run(t.Context(), []string{"principal", "list", "--project", dir}, getenv, &out, &errb)
	if strings.Contains(out.String(), created.ClientID) {
		t.Error("the deleted principal is still listed")
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestServeProject serves a project from its folder: inlay.yaml with a DuckDB file reading a CSV,
// a dashboard, a principal created with the CLI; then the token flow and a query over HTTP.
func TestServeProject(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "orders.csv"), "tenant,item,amount\nacme,bolts,10.50\nacme,nuts,4.25\nglobex,bolts,99.00\n")
	write(t, filepath.Join(dir, "inlay.yaml"), `secret: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
admin_key: an-admin-key-of-some-length
data_sources:
  default:
    type: duckdb
    init_sql: ["CREATE VIEW orders AS SELECT * FROM read_csv('`+filepath.Join(dir, "orders.csv")+`')"]
    allowed_directories: [.]
embed:
  allowed_origins: [https://app.example.com]
tokens: {service_ttl: 48h, embed_ttl: 10m, max_embed_ttl: 2h}
`)
	write(t, filepath.Join(dir, "dashboards", "orders.yaml"), `id: orders
title: Orders
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
	if err := run(t.Context(), []string{"principal", "create", "--project", dir, "--name", "backend", "--json"}, getenv, &out, &errb); err != nil {
		t.Fatalf("principal create: %v %s", err, errb.String())
	}
	var cred struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out.Bytes(), &cred); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	stderr := &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"serve", "--project", dir, "--addr", "127.0.0.1:0"}, getenv, pw, stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve exited with %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v; stderr: %s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(strings.TrimPrefix(line, "Inlay:"))

	post := func(form string) map[string]any {
		req, _ := http.NewRequest("POST", base+"/oidc/v1/token", strings.NewReader(form))
		req.SetBasicAuth(cred.ID, cred.Secret)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var m map[string]any
		doJSONTest(t, req, &m)
		return m
	}
	svcResp := post("grant_type=client_credentials&scope=all-apis")
	// A service token may live longer than embed tokens (tokens.service_ttl: 48h).
	if got, _ := svcResp["expires_in"].(float64); got < 48*3600-5 || got > 48*3600 {
		t.Errorf("service token expires_in = %v, want %d", got, 48*3600)
	}
	svc := svcResp["access_token"].(string)
	var info map[string]any
	// The caller asks for an embed token longer than embed_ttl (10m), within max_embed_ttl (2h).
	getJSON(t, http.DefaultClient, base+"/api/2.0/lakeview/dashboards/orders/published/tokeninfo?external_viewer_id=u1&external_value=acme&expires_in=3600", svc, &info)
	form := url.Values{"grant_type": {"client_credentials"}}
	for k, v := range info {
		if s, ok := v.(string); ok {
			form.Set(k, s)
		} else {
			b, _ := json.Marshal(v)
			form.Set(k, string(b))
		}
	}
	embedResp := post(form.Encode())
	if got, _ := embedResp["expires_in"].(float64); got < 3600-5 || got > 3600 {
		t.Errorf("embed token expires_in = %v, want 3600 (asked for in tokeninfo)", got)
	}
	embed := embedResp["access_token"].(string)
	req, _ := http.NewRequest("POST", base+"/api/v1/embed/dashboards/orders/query", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+embed)
	var res struct {
		Results map[string]struct {
			Rows [][]any `json:"rows"`
		} `json:"results"`
	}
	doJSONTest(t, req, &res)
	if got := res.Results["total"].Rows; len(got) != 1 || got[0][0] != 14.75 {
		t.Errorf("acme's total = %v, want 14.75 (globex's 99 must not count)", got)
	}

	// Reload through the admin API: a broken file is refused with its problems and the old plan
	// keeps serving; a good one is swapped in, for the same embed token.
	query := func() any {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/api/v1/embed/dashboards/orders/query", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+embed)
		doJSONTest(t, req, &res)
		return res.Results["total"].Rows[0][0]
	}
	reload := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/api/v1/admin/reload", nil)
		req.Header.Set("Authorization", "Bearer an-admin-key-of-some-length")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	dash := filepath.Join(dir, "dashboards", "orders.yaml")
	good, _ := os.ReadFile(dash)
	write(t, dash, strings.Replace(string(good), "    dataset: orders\n", "    dataset: nope\n", 1))
	if code, body := reload(); code != 422 || !strings.Contains(body, `"reload_failed"`) || !strings.Contains(body, `"line":10`) || !strings.Contains(body, "orders.yaml") {
		t.Fatalf("broken reload: %d %s", code, body)
	}
	if got := query(); got != 14.75 {
		t.Errorf("after a refused reload the total is %v, want the old plan's 14.75", got)
	}
	write(t, dash, strings.Replace(string(good), "tenant = __aibi_external_value", "tenant = __aibi_external_value AND item = 'bolts'", 1))
	if code, body := reload(); code != 200 || !strings.Contains(body, `"dashboards":1`) {
		t.Fatalf("reload: %d %s", code, body)
	}
	if got := query(); got != 10.5 {
		t.Errorf("after the reload the total is %v, want the new plan's 10.5", got)
	}
	// SIGHUP does the same.
	write(t, dash, strings.Replace(string(good), "tenant = __aibi_external_value", "tenant = __aibi_external_value AND item = 'nuts'", 1))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for query() != 4.25 {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload the dashboards; log: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// serve has no preview page.
	if resp, err := http.Get(base + "/dev/"); err != nil {
		t.Error(err)
	} else if resp.Body.Close(); resp.StatusCode != 404 {
		t.Errorf("GET /dev/ on serve: %d, want 404", resp.StatusCode)
	}

	if strings.Contains(stderr.String(), cred.Secret) || strings.Contains(stderr.String(), "an-admin-key") {
		t.Error("the server log holds a secret")
	}
}

func doJSONTest(t *testing.T, req *http.Request, v any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// TestKeysRotateSaysWhenItApplies: rotating keys from the command line tells the operator how
// long a running server takes to sign with the new key.
func TestKeysRotateSaysWhenItApplies(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "state:\n  driver: sqlite\n")
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"keys", "rotate", "--project", dir}, func(string) string { return "" }, &out, &errb); err != nil {
		t.Fatalf("keys rotate: %v %s", err, errb.String())
	}
	if !strings.Contains(out.String(), "within "+keyRefreshEvery.String()) {
		t.Errorf("keys rotate printed %q; it must say how long a running server takes to apply it", out.String())
	}
}

// TestCheckDataJSON: check --data --json reports a mistyped table and column at their lines,
// exits with status 1, and says ok (status 0) once they are fixed.
func TestCheckDataJSON(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "data_sources:\n  default:\n    type: duckdb\n    init_sql: [\"CREATE TABLE orders AS SELECT 'FR' AS country, 10 AS amount\"]\n")
	dash := `id: d
title: D
datasets:
  - name: o
    sql: SELECT * FROM orderz
widgets:
  - {name: w, type: bar, dataset: o, x: contry, y: [sum(amount)], layout: {x: 0, y: 0, w: 6, h: 4}}
`
	write(t, filepath.Join(dir, "dashboards", "d.yaml"), dash)
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"check", "--project", dir, "--data", "--json"}, func(string) string { return "" }, &stdout, &stderr)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 1 {
		t.Fatalf("err = %v, want exit status 1; stderr: %s", err, stderr.String())
	}
	var got struct {
		OK       bool `json:"ok"`
		Problems []struct {
			File   string `json:"file"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
			Code   string `json:"code"`
			Detail string `json:"detail"`
		} `json:"problems"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if got.OK || len(got.Problems) != 1 || got.Problems[0].Code != "unknown_table" || got.Problems[0].Line != 5 || got.Problems[0].Column != 24 || got.Problems[0].Detail == "" {
		t.Fatalf("problems: %s", stdout.String())
	}

	write(t, filepath.Join(dir, "dashboards", "d.yaml"), strings.Replace(dash, "orderz", "orders", 1))
	stdout.Reset()
	err = run(t.Context(), []string{"check", "--project", dir, "--data", "--json"}, func(string) string { return "" }, &stdout, &stderr)
	if !errors.As(err, &ec) || !strings.Contains(stdout.String(), `"unknown_column"`) || !strings.Contains(stdout.String(), `"line": 7`) {
		t.Fatalf("err = %v; %s", err, stdout.String())
	}

	write(t, filepath.Join(dir, "dashboards", "d.yaml"), strings.NewReplacer("orderz", "orders", "contry", "country").Replace(dash))
	stdout.Reset()
	if err := run(t.Context(), []string{"check", "--project", dir, "--data"}, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("fixed project: %v; %s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "ok: inlay.yaml and 1 dashboard(s), checked against the data") {
		t.Errorf("stdout: %s", stdout.String())
	}
}
