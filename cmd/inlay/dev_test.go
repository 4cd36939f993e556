package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startDev runs `inlay dev` on a free loopback port and returns its base URL.
func startDev(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--project", dir, "--addr", "127.0.0.1:0"}, func(string) string { return "" }, pw, stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev exited with %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("dev printed nothing: %v; stderr: %s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(strings.TrimPrefix(line, "Inlay:"))
}

type devStatus struct {
	Version  int `json:"version"`
	Problems []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"problems"`
}

// TestDevReloadsOnSave: inlay dev serves the project; saving a dashboard with a mistake shows
// the problem (file:line:col) and keeps the last good plan; fixing it swaps in the new plan. The
// preview's token is a real embed token: RLS applies as for an embedded viewer.
func TestDevReloadsOnSave(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), `data_sources:
  default:
    type: duckdb
    init_sql: ["CREATE TABLE orders AS SELECT * FROM (VALUES ('acme', 10), ('acme', 20), ('globex', 5)) AS t(tenant, amount)"]
`)
	dash := filepath.Join(dir, "dashboards", "orders.yaml")
	good := `id: orders
title: Orders
datasets:
  - name: orders
    sql: SELECT * FROM orders WHERE tenant = __aibi_external_value
widgets:
  - name: total
    type: counter
    dataset: orders
    value: sum(amount)
    layout: {x: 0, y: 0, w: 3, h: 2}
`
	write(t, dash, good)
	base := startDev(t, dir)

	status := func() devStatus {
		var s devStatus
		getJSON(t, http.DefaultClient, base+"/dev/api/status", "", &s)
		return s
	}
	waitVersion := func(after int) devStatus {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if s := status(); s.Version > after {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("no new check after version %d", after)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	s := status()
	if s.Version < 1 || len(s.Problems) > 0 {
		t.Fatalf("first check: %+v", s)
	}
	mint := func(value string) string {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/dev/api/token", strings.NewReader(`{"dashboard_id":"orders","external_value":"`+value+`"}`))
		req.Header.Set("Content-Type", "application/json")
		var out struct {
			Token string `json:"embed_token"`
		}
		doJSONTest(t, req, &out)
		return out.Token
	}
	total := func(tok string) any {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/api/v1/embed/dashboards/orders/query", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		var res struct {
			Results map[string]struct {
				Rows [][]any `json:"rows"`
			} `json:"results"`
		}
		doJSONTest(t, req, &res)
		return res.Results["total"].Rows[0][0]
	}
	acme, globex := mint("acme"), mint("globex")
	if a, g := total(acme), total(globex); a != 30.0 || g != 5.0 {
		t.Fatalf("acme %v, globex %v: want 30 and 5 (RLS as for an embed token)", a, g)
	}

	// A mistake: the problem is reported at its line, the last good plan still answers.
	write(t, dash, strings.Replace(good, "sum(amount)", "sum(amountt)", 1))
	s = waitVersion(s.Version)
	if len(s.Problems) != 1 || s.Problems[0].Code != "unknown_column" || s.Problems[0].Line != 10 || s.Problems[0].Column != 12 || s.Problems[0].File != dash {
		t.Fatalf("problems after a mistake: %+v", s.Problems)
	}
	if got := total(acme); got != 30.0 {
		t.Errorf("with a broken file the total is %v, want the last good plan's 30", got)
	}

	// Fixed differently: the new plan is served.
	write(t, dash, strings.Replace(good, "sum(amount)", "count(*)", 1))
	s = waitVersion(s.Version)
	if len(s.Problems) != 0 {
		t.Fatalf("problems after the fix: %+v", s.Problems)
	}
	if got := total(acme); got != 2.0 {
		t.Errorf("after the fix the total is %v, want the new plan's count 2", got)
	}
}

// TestDevListensOnLoopbackOnly: the preview mints tokens for any viewer, so dev refuses other
// addresses, and the preview refuses requests addressed to another host name.
func TestDevListensOnLoopbackOnly(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"dev", "--project", t.TempDir(), "--addr", "0.0.0.0:0"}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(stderr.String(), "loopback") {
		t.Fatalf("dev on 0.0.0.0: err %v, stderr %s", err, stderr.String())
	}

	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "data_sources:\n  default: {type: duckdb}\n")
	if err := os.MkdirAll(filepath.Join(dir, "dashboards"), 0o755); err != nil {
		t.Fatal(err)
	}
	base := startDev(t, dir)
	req, _ := http.NewRequest("GET", base+"/dev/api/status", nil)
	req.Host = "attacker.example.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("preview for Host attacker.example.com: %d, want 403", resp.StatusCode)
	}
	req, _ = http.NewRequest("POST", base+"/dev/api/token", strings.NewReader(`{"dashboard_id":"x"}`))
	req.Header.Set("Content-Type", "text/plain")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("token without JSON: %d %v", resp.StatusCode, body)
	}
}
