package api_test

import (
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/memory"
	"github.com/inlay/inlay/internal/storage/postgres"
	"github.com/inlay/inlay/internal/storage/postgres/pgtest"
	"github.com/inlay/inlay/internal/storage/sqlite"
)

// grantStores are the state stores a tokeninfo grant must be single-use on.
func grantStores(t *testing.T) map[string]func(t *testing.T) storage.Store {
	return map[string]func(t *testing.T) storage.Store{
		"memory": func(t *testing.T) storage.Store { return memory.New() },
		"sqlite": func(t *testing.T) storage.Store {
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) storage.Store {
			s, err := postgres.Open(t.Context(), postgres.Config{DSN: pgtest.DSN(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// TestGrantIsSingleUse: a tokeninfo grant is exchanged for one embed token; a second exchange,
// sequential or concurrent, gets invalid_grant. 50 concurrent exchanges of one grant give
// exactly one token on every store.
func TestGrantIsSingleUse(t *testing.T) {
	for name, open := range grantStores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, envOptions{store: open(t)})
			svc := e.serviceToken()
			grant := func() url.Values {
				r := e.tokenInfo(svc, salesDash, url.Values{"external_viewer_id": {"alice@example.com"}, "external_value": {"Sales"}})
				if r.status != 200 {
					t.Fatalf("tokeninfo: %d %s", r.status, r.body)
				}
				return exchangeForm(t, r.json(t))
			}

			form := grant()
			if r := e.postToken(e.basic(), form); r.status != 200 {
				t.Fatalf("first exchange: %d %s", r.status, r.body)
			}
			r := e.postToken(e.basic(), form)
			if r.status != 400 || r.json(t)["error"] != "invalid_grant" ||
				!strings.Contains(r.json(t)["error_description"].(string), "already exchanged") {
				t.Fatalf("second exchange: %d %s; want 400 invalid_grant, already exchanged", r.status, r.body)
			}

			// A refused exchange (edited custom_claim) does not use the grant up.
			form = grant()
			bad := url.Values{}
			for k, v := range form {
				bad[k] = v
			}
			bad.Set("custom_claim", "urn:aibi:external_data:Engineering:alice@example.com:sales")
			if r := e.postToken(e.basic(), bad); r.status != 400 || r.json(t)["error"] != "invalid_request" {
				t.Fatalf("edited exchange: %d %s", r.status, r.body)
			}
			if r := e.postToken(e.basic(), form); r.status != 200 {
				t.Fatalf("exchange after a refused one: %d %s", r.status, r.body)
			}

			const n = 50
			form = grant()
			var wg sync.WaitGroup
			codes := make(chan string, n)
			for range n {
				wg.Go(func() {
					r := e.postToken(e.basic(), form)
					if r.status == 200 {
						codes <- "ok"
						return
					}
					codes <- r.json(t)["error"].(string)
				})
			}
			wg.Wait()
			close(codes)
			count := map[string]int{}
			for c := range codes {
				count[c]++
			}
			if count["ok"] != 1 || count["invalid_grant"] != n-1 {
				t.Fatalf("%d concurrent exchanges of one grant: %v; want exactly one ok, the rest invalid_grant", n, count)
			}
			// Every token handed out is in the audit log, with no event for a refused exchange:
			// three embed tokens went to alice, and no flush is needed.
			events, err := e.store.ListAudit(t.Context(), storage.AuditFilter{Kind: storage.AuditTokenMinted, ViewerID: "alice@example.com", Limit: 1000})
			if err != nil || len(events) != 3 {
				t.Fatalf("token.minted events for alice: %d (%v); want 3, one per token handed out", len(events), err)
			}
		})
	}
}
