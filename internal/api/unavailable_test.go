package api_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/memory"
	"github.com/inlay/inlay/internal/storage/postgres"
	"github.com/inlay/inlay/internal/storage/postgres/pgtest"
)

// tcpProxy forwards a loopback port to the PostgreSQL server; stop drops every connection and
// refuses new ones (the database "goes away"), start listens on the same port again.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func (p *tcpProxy) start() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestStateUnavailable: while the PostgreSQL state store cannot be reached, minting answers 503
// temporarily_unavailable (not 500), dashboards already open keep querying, and once the
// database is back requests succeed again without a restart.
func TestStateUnavailable(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, _ := url.Parse(dsn)
	proxy := &tcpProxy{t: t, addr: "127.0.0.1:0", target: u.Host}
	proxy.start()
	t.Cleanup(proxy.stop)
	u.Host = proxy.addr
	store, err := postgres.Open(t.Context(), postgres.Config{DSN: u.String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := newEnv(t, envOptions{store: store})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)

	proxy.stop()
	r := e.postToken(e.basic(), url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if r.status != 503 || r.json(t)["error"] != "temporarily_unavailable" {
		t.Fatalf("mint while the state store is down: %d %s; want 503 temporarily_unavailable", r.status, r.body)
	}
	if strings.Contains(string(r.body), "127.0.0.1") {
		t.Fatalf("the error names the database: %s", r.body)
	}
	if q := e.query(tok, salesDash, `{"widgets":["revenue"]}`); q.status != 200 {
		t.Fatalf("query while the state store is down: %d %s", q.status, q.body)
	}

	proxy.start()
	var last response
	for range 5 { // the pool notices dead connections on use; allow it a few
		if last = e.postToken(e.basic(), url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}); last.status == 200 {
			break
		}
		if last.status != 503 {
			t.Fatalf("mint after the database came back: %d %s; want 200 (or 503 while reconnecting)", last.status, last.body)
		}
	}
	if last.status != 200 {
		t.Fatalf("mint did not recover: %d %s", last.status, last.body)
	}
	e.embedToken(salesDash, "bob@example.com", "Engineering", nil)
}

// auditDownStore is the memory store with AppendAudit failing as an unreachable database does.
type auditDownStore struct{ storage.Store }

func (auditDownStore) AppendAudit(context.Context, []storage.AuditEvent) error {
	return fmt.Errorf("append audit: %w: connection refused", storage.ErrUnavailable)
}

// TestMintIsAuditedBeforeItIsHandedOut: a token whose audit event cannot be stored is not handed
// out (503, no access_token), so a replica killed right after a mint cannot leave an unaudited
// token behind; with the store back, the mint's event is in the log as soon as the token is.
func TestMintIsAuditedBeforeItIsHandedOut(t *testing.T) {
	e := newEnv(t, envOptions{store: auditDownStore{memory.New()}})
	r := e.postToken(e.basic(), url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if r.status != 503 || strings.Contains(string(r.body), "access_token") {
		t.Fatalf("mint with the audit log unavailable: %d %s; want 503 and no token", r.status, r.body)
	}

	e = newEnv(t, envOptions{})
	e.embedToken(salesDash, "carol@example.com", "Sales", nil)
	// No flush: the events are stored synchronously.
	events, err := e.store.ListAudit(t.Context(), storage.AuditFilter{Kind: storage.AuditTokenMinted, ViewerID: "carol@example.com"})
	if err != nil || len(events) != 1 || events[0].Detail != "embed" {
		t.Fatalf("embed mint events right after the token: %+v, %v", events, err)
	}
}
