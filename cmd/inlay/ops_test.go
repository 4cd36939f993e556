package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// embedTokenFor creates a principal in the project and runs the three-call token flow.
func embedTokenFor(t *testing.T, dir, base, dashboardID, value string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"principal", "create", "--project", dir, "--name", "backend", "--json"}, func(string) string { return "" }, &out, &errb); err != nil {
		t.Fatalf("principal create: %v %s", err, errb.String())
	}
	var cred struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out.Bytes(), &cred); err != nil {
		t.Fatal(err)
	}
	post := func(form string) map[string]any {
		req, _ := http.NewRequest("POST", base+"/oidc/v1/token", strings.NewReader(form))
		req.SetBasicAuth(cred.ID, cred.Secret)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var m map[string]any
		doJSONTest(t, req, &m)
		return m
	}
	svc := post("grant_type=client_credentials&scope=all-apis")["access_token"].(string)
	var info map[string]any
	getJSON(t, http.DefaultClient, base+"/api/2.0/lakeview/dashboards/"+dashboardID+"/published/tokeninfo?external_viewer_id=u1&external_value="+value, svc, &info)
	form := url.Values{"grant_type": {"client_credentials"}}
	for k, v := range info {
		if s, ok := v.(string); ok {
			form.Set(k, s)
		} else {
			b, _ := json.Marshal(v)
			form.Set(k, string(b))
		}
	}
	return post(form.Encode())["access_token"].(string)
}

// Stopping the server lets a request in flight finish: readiness turns 503, the listener
// closes, and the slow query's answer still reaches its client.
func TestShutdownDrainsRequestsInFlight(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), `secret: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
data_sources:
  default:
    type: duckdb
server:
  shutdown_timeout: 2m
`)
	write(t, filepath.Join(dir, "dashboards", "slow.yaml"), `id: slow
title: Slow
datasets:
  - name: slow
    # About a second of work on any machine.
    sql: SELECT * FROM (VALUES ('acme', 1.5)) t(tenant, amount) WHERE tenant = __aibi_external_value AND (SELECT sum(hash(r)) FROM range(100000000) t(r)) IS NOT NULL
widgets:
  - name: total
    title: Total
    type: counter
    dataset: slow
    value: sum(amount)
    layout: {x: 0, y: 0, w: 3, h: 2}
`)
	base, _, stop := serveProject(t, dir)
	tok := embedTokenFor(t, dir, base, "slow", "acme")

	type answer struct {
		status int
		body   string
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/api/v1/embed/dashboards/slow/query", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- answer{status: resp.StatusCode, body: string(b), err: err}
	}()
	// Wait until the query is in flight (the scrape itself is the other request counted).
	for {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), "inlay_http_requests_in_flight 2") {
			break
		}
		select {
		case a := <-done:
			t.Fatalf("the query finished before the server was stopped: %+v", a)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	a := <-done
	if a.err != nil || a.status != http.StatusOK || !strings.Contains(a.body, `"rows":[[1.5]]`) {
		t.Fatalf("request in flight during shutdown: %+v", a)
	}
	if _, err := http.Get(base + "/livez"); err == nil {
		t.Error("the server still accepts requests after shutting down")
	}
}
