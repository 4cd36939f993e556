package rcache_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/rcache"
	"github.com/inlay/inlay/internal/rcache/redistest"
	"github.com/inlay/inlay/internal/rls"
	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/telemetry"
)

func newKeys(t *testing.T) *secret.Keys {
	t.Helper()
	master, err := secret.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := secret.NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixture is one DuckDB table (under a fresh name, so no earlier run's Redis entries match) and
// a dashboard over it with a per-viewer row filter.
type fixture struct {
	src  *duckdb.Source
	dash *dashboard.Dashboard
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	src, err := duckdb.Open(t.Context(), duckdb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	b := make([]byte, 4)
	rand.Read(b)
	table := "sales_" + hex.EncodeToString(b)
	if err := src.Exec(t.Context(), `CREATE TABLE `+table+` AS SELECT * FROM (VALUES
		('East', 'Sales', 10, TIMESTAMP '2026-01-02 03:04:05', 1.5::DECIMAL(10,2)),
		('West', 'Sales', 30, TIMESTAMP '2026-02-02 00:00:00', NULL),
		('West', 'Eng', 40, TIMESTAMP '2026-03-02 00:00:00', 2.25::DECIMAL(10,2))
	) AS t(region, department, amount, sold_at, ratio)`); err != nil {
		t.Fatal(err)
	}
	d := &dashboard.Dashboard{
		ID:       "sales",
		Datasets: []dashboard.Dataset{{Name: "dept", SQL: "SELECT * FROM " + table + " WHERE department = __aibi_external_value"}},
		Widgets: []dashboard.Widget{
			{Name: "total", Type: dashboard.WidgetCounter, Dataset: "dept", Value: &dashboard.Field{Expr: "sum(amount)"}},
			{Name: "rows", Type: dashboard.WidgetTable, Dataset: "dept", Columns: []dashboard.Field{{Expr: "region"}, {Expr: "amount"}, {Expr: "sold_at"}, {Expr: "ratio"}}},
		},
	}
	d.Normalize()
	return &fixture{src: src, dash: d}
}

// replica is one engine with its own in-process cache, sharing Redis.
func (f *fixture) replica(t *testing.T, shared *rcache.Cache) *query.Engine {
	var sc query.SharedCache
	if shared != nil {
		sc = shared
	}
	return query.New(map[string]datasource.Source{"default": f.src}, query.Options{CacheTTL: time.Minute, Shared: sc})
}

func viewer(v string) rls.Viewer { return rls.Viewer{ID: v, ExternalValue: &v} }

func run(t *testing.T, e *query.Engine, d *dashboard.Dashboard, v rls.Viewer) map[string]query.WidgetResult {
	t.Helper()
	c, _, err := e.Compile([]*dashboard.Dashboard{d})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Plan(d.ID)
	out, err := e.Run(t.Context(), p, v, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range out {
		if r.Err != nil {
			t.Fatalf("widget %s: %v", name, r.Err)
		}
	}
	return out
}

func same(t *testing.T, a, b map[string]query.WidgetResult) {
	t.Helper()
	for name := range a {
		if fmt.Sprintf("%#v", a[name].Result) != fmt.Sprintf("%#v", b[name].Result) {
			t.Fatalf("widget %s differs:\n%#v\n%#v", name, a[name].Result, b[name].Result)
		}
	}
}

func open(t *testing.T, url string, keys *secret.Keys, o rcache.Options) *rcache.Cache {
	t.Helper()
	if o.TTL == 0 {
		o.TTL = time.Minute
	}
	c, err := rcache.New(url, keys, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSharedAcrossReplicas: a result computed on one replica is served from Redis on another,
// which runs nothing, with every cell's type intact; another viewer's RLS value is another key.
func TestSharedAcrossReplicas(t *testing.T) {
	url := redistest.URL(t)
	keys := newKeys(t)
	f := newFixture(t)
	a, b := f.replica(t, open(t, url, keys, rcache.Options{})), f.replica(t, open(t, url, keys, rcache.Options{}))

	first := run(t, a, f.dash, viewer("Sales"))
	if s := a.Stats(); s.Executed == 0 || s.SharedHits != 0 {
		t.Fatalf("replica a: %+v; want it to run the queries", s)
	}
	second := run(t, b, f.dash, viewer("Sales"))
	if s := b.Stats(); s.Executed != 0 || s.SharedHits != 2 {
		t.Fatalf("replica b: %+v; want both widgets from Redis and nothing run", s)
	}
	same(t, first, second)
	if got := second["total"].Result.Rows[0][0]; fmt.Sprint(got) != "40" {
		t.Fatalf("Sales total from Redis = %v, want 40", got)
	}

	// Another viewer's value is another key: b runs it, and gets only Eng's rows.
	eng := run(t, b, f.dash, viewer("Eng"))
	if s := b.Stats(); s.Executed != 2 {
		t.Fatalf("replica b after Eng: %+v; want Eng's queries run, not Sales' served", s)
	}
	if got := eng["total"].Result.Rows[0][0]; fmt.Sprint(got) != "40" || len(eng["rows"].Result.Rows) != 1 {
		t.Fatalf("Eng's answer: %v", eng)
	}
	// Prometheus shows the shared hits.
	m := telemetry.NewMetrics()
	m.WatchEngine(b.Stats)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "inlay_query_shared_cache_hits_total 2") {
		t.Fatalf("metrics lack the shared cache hits:\n%s", rec.Body.String())
	}
	// The in-process cache now answers b's repeat without Redis.
	run(t, b, f.dash, viewer("Sales"))
	if s := b.Stats(); s.SharedHits != 2 || s.CacheHits != 2 {
		t.Fatalf("replica b repeat: %+v; want the in-process cache", s)
	}
}

// TestTamperedEntriesAreMisses: an entry changed in Redis, moved to another key, or sealed under
// another master key is never served; the replica runs the query and answers correctly.
func TestTamperedEntriesAreMisses(t *testing.T) {
	url := redistest.URL(t)
	keys := newKeys(t)
	f := newFixture(t)
	ca := open(t, url, keys, rcache.Options{})
	run(t, f.replica(t, ca), f.dash, viewer("Sales"))
	run(t, f.replica(t, ca), f.dash, viewer("Eng"))

	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(opts)
	defer raw.Close()
	ctx := context.Background()
	var salesKeys []string
	iter := raw.Scan(ctx, 0, "inlay:result:v1:*", 1000).Iterator()
	for iter.Next(ctx) {
		salesKeys = append(salesKeys, iter.Val())
	}
	if len(salesKeys) < 4 {
		t.Fatalf("found %d entries in Redis, want at least 4", len(salesKeys))
	}
	// Swap every entry's value with another's and flip a byte in the rest: nothing may open.
	vals := map[string][]byte{}
	for _, k := range salesKeys {
		b, _ := raw.Get(ctx, k).Bytes()
		vals[k] = b
	}
	for i, k := range salesKeys {
		v := vals[salesKeys[(i+1)%len(salesKeys)]]
		if i%2 == 1 {
			v = append([]byte(nil), vals[k]...)
			v[len(v)/2] ^= 1
		}
		raw.Set(ctx, k, v, time.Minute)
	}
	c := open(t, url, keys, rcache.Options{})
	e := f.replica(t, c)
	got := run(t, e, f.dash, viewer("Sales"))
	if fmt.Sprint(got["total"].Result.Rows[0][0]) != "40" || len(got["rows"].Result.Rows) != 2 {
		t.Fatalf("answer after tampering: %v", got)
	}
	if s := e.Stats(); s.SharedHits != 0 || s.Executed == 0 {
		t.Fatalf("stats after tampering: %+v; want nothing served from Redis", s)
	}
	if c.Stats().Rejected == 0 {
		t.Fatal("no tampered entry was rejected")
	}
	// Another master key (another Inlay) cannot read these entries either.
	other := f.replica(t, open(t, url, newKeys(t), rcache.Options{}))
	run(t, other, f.dash, viewer("Eng"))
	if s := other.Stats(); s.SharedHits != 0 {
		t.Fatalf("an Inlay with another master key read the entries: %+v", s)
	}
}

// TestRedisDownIsInvisible: with Redis unreachable from the start, and with a Redis killed in
// the middle of a run, every query answers correctly; the breaker stops calling Redis; when
// Redis is back, sharing resumes.
func TestRedisDownIsInvisible(t *testing.T) {
	keys := newKeys(t)
	f := newFixture(t)
	t.Run("closed port", func(t *testing.T) {
		port, err := redistest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		c := open(t, fmt.Sprintf("redis://127.0.0.1:%d/0", port), keys, rcache.Options{})
		for i := range 10 {
			e := f.replica(t, c) // a fresh in-process cache each time: every run asks Redis
			if got := run(t, e, f.dash, viewer("Sales")); fmt.Sprint(got["total"].Result.Rows[0][0]) != "40" {
				t.Fatalf("run %d: %v", i, got)
			}
		}
		if s := c.Stats(); s.Errors == 0 || s.Skipped == 0 || s.Hits != 0 {
			t.Fatalf("stats %+v: want errors, then calls skipped by the open breaker", s)
		}
	})
	t.Run("killed mid-run", func(t *testing.T) {
		srv := redistest.StartT(t)
		c := open(t, srv.URL(), keys, rcache.Options{OpenFor: 50 * time.Millisecond})
		run(t, f.replica(t, c), f.dash, viewer("Sales"))
		if e := f.replica(t, c); true {
			run(t, e, f.dash, viewer("Sales"))
			if e.Stats().SharedHits != 2 {
				t.Fatalf("before the kill: %+v", e.Stats())
			}
		}
		srv.Kill()
		for i := range 20 {
			e := f.replica(t, c)
			if got := run(t, e, f.dash, viewer("Eng")); fmt.Sprint(got["total"].Result.Rows[0][0]) != "40" {
				t.Fatalf("run %d after the kill: %v", i, got)
			}
		}
		if c.Stats().Errors == 0 {
			t.Fatal("no Redis error counted after the kill")
		}
		// Back on the same port: after the breaker's pause, sharing resumes by itself.
		srv2, err := redistest.Start(t.TempDir(), srv.Port)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv2.Kill)
		deadline := time.Now().Add(10 * time.Second)
		for {
			run(t, f.replica(t, c), f.dash, viewer("Sales"))
			e := f.replica(t, c)
			run(t, e, f.dash, viewer("Sales"))
			if e.Stats().SharedHits == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sharing did not resume after Redis came back: %+v", c.Stats())
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
