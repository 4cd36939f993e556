package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// serveProject runs `inlay serve` on dir until the test ends and returns its base URL and log.
func serveProject(t *testing.T, dir string) (base string, stderr *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	stderr = &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"serve", "--project", dir, "--addr", "127.0.0.1:0"}, func(string) string { return "" }, pw, stderr)
		pw.Close()
	}()
	var once bool
	var result error
	stop = func() error {
		if !once {
			once = true
			cancel()
			result = <-done
		}
		return result
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve exited with %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v; stderr: %s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(strings.TrimPrefix(line, "Inlay:")), stderr, stop
}

func getStatus(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %s", url, b)
		}
	}
	return resp.StatusCode
}

const opsDashboard = `id: orders
title: Orders
datasets:
  - name: orders
    sql: SELECT * FROM (VALUES ('acme', 10.5), ('acme', 4.25), ('globex', 99.0)) t(tenant, amount) WHERE tenant = __aibi_external_value
  - name: remote
    source: warehouse
    sql: SELECT 1 AS n WHERE __aibi_external_value IS NOT NULL
widgets:
  - name: total
    title: Total
    type: counter
    dataset: orders
    value: sum(amount)
    layout: {x: 0, y: 0, w: 3, h: 2}
  - name: remote_count
    title: Remote
    type: counter
    dataset: remote
    value: count(*)
    layout: {x: 3, y: 0, w: 3, h: 2}
`

// A data source that cannot be reached at start does not stop the server: the other sources
// serve, /readyz names the one that is down (degraded, still 200), /livez is ok.
func TestServeWithUnreachableSource(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), `secret: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
data_sources:
  default:
    type: duckdb
  warehouse:
    type: postgres
    # Nothing listens on port 1.
    dsn: postgres://inlay@127.0.0.1:1/warehouse?connect_timeout=1
`)
	write(t, filepath.Join(dir, "dashboards", "orders.yaml"), opsDashboard)
	base, stderr, _ := serveProject(t, dir)

	var ready struct {
		Status  string `json:"status"`
		Store   string `json:"state_store"`
		Sources []struct {
			Name, State string
		} `json:"data_sources"`
	}
	if code := getStatus(t, base+"/readyz", &ready); code != http.StatusOK {
		t.Fatalf("/readyz %d, want 200 (degraded, still serving)", code)
	}
	states := map[string]string{}
	for _, s := range ready.Sources {
		states[s.Name] = s.State
	}
	if ready.Status != "degraded" || ready.Store != "up" || states["default"] != "up" || states["warehouse"] != "connecting" {
		t.Errorf("/readyz = %+v, want degraded with default up and warehouse connecting", ready)
	}
	if code := getStatus(t, base+"/livez", nil); code != http.StatusOK {
		t.Errorf("/livez %d", code)
	}
	if !strings.Contains(stderr.String(), "retrying") {
		t.Errorf("the log does not say the source is retried: %s", stderr.String())
	}
}
