package databricks_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/conformance"
	"github.com/inlay/inlay/internal/datasource/databricks"
)

// warehouse stands in for a SQL warehouse's HTTP endpoint: it records the bearer token of every
// request and refuses them all, as a warehouse refuses a token it does not accept. (The driver
// speaks Thrift; its service definitions are internal to the driver, so the stand-in cannot
// answer queries, only show which token each request carried.)
type warehouse struct {
	mu     sync.Mutex
	tokens []string
	paths  []string
}

func (w *warehouse) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	w.tokens = append(w.tokens, r.Header.Get("Authorization"))
	w.paths = append(w.paths, r.URL.Path)
	w.mu.Unlock()
	http.Error(rw, "invalid access token", http.StatusForbidden)
}

func (w *warehouse) seen() ([]string, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.tokens...), append([]string(nil), w.paths...)
}

func standIn(t *testing.T, require bool) (*databricks.Source, *warehouse) {
	t.Helper()
	wh := &warehouse{}
	srv := httptest.NewServer(wh)
	t.Cleanup(srv.Close)
	host, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	src, err := databricks.Open(t.Context(), databricks.Config{Host: "http://" + host, Port: atoi(t, port),
		HTTPPath: "/sql/1.0/warehouses/test", RequireCredential: require})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src, wh
}

func atoi(t *testing.T, s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func credential(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

// TestBrokeredTokenReachesWarehouse: every request the driver makes for a viewer's query carries
// that viewer's token, taken from the query's credential each time (so a refreshed token is used
// on the same session), and another viewer's query never carries it.
func TestBrokeredTokenReachesWarehouse(t *testing.T) {
	src, wh := standIn(t, true)
	run := func(owner, tok string) error {
		_, err := src.Query(t.Context(), datasource.Query{SQL: "SELECT 1", Credential: credential(tok), CredentialOwner: owner})
		return err
	}
	if err := run("viewer:alice", "alice-token-1"); !errors.Is(err, datasource.ErrUnavailable) {
		t.Fatalf("a refused token: %v", err)
	}
	if err := run("viewer:bob", "bob-token"); err == nil {
		t.Fatal("bob's query succeeded against a refusing warehouse")
	}
	if err := run("viewer:alice", "alice-token-2"); err == nil {
		t.Fatal("expected refusal")
	}
	tokens, paths := wh.seen()
	if len(tokens) < 3 {
		t.Fatalf("the warehouse saw %d requests", len(tokens))
	}
	want := map[string]bool{"Bearer alice-token-1": true, "Bearer bob-token": true, "Bearer alice-token-2": true}
	for i, tok := range tokens {
		if !want[tok] {
			t.Fatalf("request %d carried %q", i, tok)
		}
		if paths[i] != "/sql/1.0/warehouses/test" {
			t.Fatalf("request %d went to %q", i, paths[i])
		}
		delete(want, tok)
	}
	if len(want) != 0 {
		t.Fatalf("tokens never sent: %v", want)
	}
}

// TestNoCredentialNoQuery: a source that runs with viewers' credentials sends nothing when a
// query has none (no fallback to anyone's token).
func TestNoCredentialNoQuery(t *testing.T) {
	src, wh := standIn(t, true)
	if _, err := src.Query(t.Context(), datasource.Query{SQL: "SELECT 1"}); !errors.Is(err, datasource.ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	if tokens, _ := wh.seen(); len(tokens) != 0 {
		t.Fatalf("the warehouse was called %d times", len(tokens))
	}
}

// TestConformance runs the data-source suite against a real SQL warehouse, when one is given.
func TestConformance(t *testing.T) {
	host, path, tok := os.Getenv("INLAY_TEST_DATABRICKS_HOST"), os.Getenv("INLAY_TEST_DATABRICKS_HTTP_PATH"), os.Getenv("INLAY_TEST_DATABRICKS_TOKEN")
	if host == "" || path == "" || tok == "" {
		t.Skip("needs a Databricks SQL warehouse: set INLAY_TEST_DATABRICKS_HOST, INLAY_TEST_DATABRICKS_HTTP_PATH and INLAY_TEST_DATABRICKS_TOKEN")
	}
	conformance.Run(t, conformance.Harness{
		Open: func(t *testing.T) datasource.Source {
			src, err := databricks.Open(t.Context(), databricks.Config{Host: host, HTTPPath: path, AccessToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = src.Close() })
			return src
		},
		SlowSQL: "SELECT count(*) FROM range(100000000000) a",
	})
}
