package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
