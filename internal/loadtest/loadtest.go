// Package loadtest runs Inlay as several replicas on loopback over a private PostgreSQL (state)
// and Redis (shared result cache), drives a mixed load of token mints and dashboard queries for
// many viewers with different row-level-security values, checks every answer against that
// viewer's truth, injects faults (a replica killed with SIGKILL, PostgreSQL restarted, Redis
// stopped), and reports throughput and latency per replica count as ratios to one replica.
//
// It is `inlay loadtest`; a short run is a go test of cmd/inlay.
package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/demo"
	"github.com/inlay/inlay/internal/demo/dashboards"
)

// Config is one load test run.
type Config struct {
	// Exe is the inlay binary the replicas run (`serve`); Env is added to their environment.
	Exe string
	Env []string
	// Dir holds everything the run creates (PostgreSQL's data, Redis, projects, logs).
	Dir string
	// PGBin is the folder of initdb and pg_ctl ("" finds them).
	PGBin string

	Rows     int           // demo sales rows
	Viewers  int           // distinct viewers (RLS values cycle through the departments)
	Workers  int           // concurrent clients
	Phase    time.Duration // length of each throughput phase
	MintFrac float64       // share of iterations that mint a token (the rest query)
	Faults   bool          // run the fault phase
	FaultFor time.Duration // length of the fault phase (split in four)

	Out io.Writer // the report (Markdown)
	Log io.Writer // progress
}

// Result is what a run found; Failures lists every broken check.
type Result struct {
	Failures []string
}

func (c *Config) defaults() {
	if c.Rows <= 0 {
		c.Rows = 200_000
	}
	if c.Viewers <= 0 {
		c.Viewers = 120
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
	if c.Phase <= 0 {
		c.Phase = 10 * time.Second
	}
	if c.MintFrac <= 0 {
		c.MintFrac = 0.1
	}
	if c.FaultFor <= 0 {
		c.FaultFor = 24 * time.Second
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// env is the running services and projects.
type env struct {
	cfg      *Config
	pg       *postgresProc
	redis    *redisProc
	cached   string // project with the shared cache
	uncached string // project with the result cache off
	clientID string
	secret   string
	adminKey string
	viewers  []*viewer
	variants []variant
}

// Run runs the load test and writes its report.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	res := &Result{}
	e := &env{cfg: &cfg}
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }

	logf("starting a private PostgreSQL and Redis in %s", cfg.Dir)
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	var err error
	if e.pg, err = startPostgres(ctx, cfg.PGBin); err != nil {
		return nil, err
	}
	defer e.pg.remove()
	redisDir := filepath.Join(cfg.Dir, "redis")
	if err := os.MkdirAll(redisDir, 0o755); err != nil {
		return nil, err
	}
	if e.redis, err = startRedis(redisDir, 0); err != nil {
		return nil, err
	}
	defer func() { e.redis.kill() }()

	logf("generating %d demo rows and the viewers' truth", cfg.Rows)
	if err := e.prepare(ctx); err != nil {
		return nil, err
	}

	fmt.Fprintf(cfg.Out, "## Inlay load test\n\n%d demo rows, %d viewers over %d departments, %d concurrent clients, %.0f%% of iterations mint a token (tokeninfo and exchange on different replicas), the rest load a dashboard (revenue and orders, %d filter variants) and check it against the viewer's truth. Replicas are `inlay serve` processes on loopback over a private PostgreSQL (state) and, when cached, a private Redis (shared result cache).\n\n",
		cfg.Rows, cfg.Viewers, len(demo.Departments), cfg.Workers, cfg.MintFrac*100, len(e.variants))

	for _, mode := range []struct {
		name, project string
	}{{"cached", e.cached}, {"uncached", e.uncached}} {
		if err := e.scaling(ctx, mode.name, mode.project, res); err != nil {
			return nil, err
		}
	}
	if cfg.Faults {
		if err := e.faults(ctx, res); err != nil {
			return nil, err
		}
	}
	if len(res.Failures) == 0 {
		fmt.Fprintf(cfg.Out, "\n**All checks passed.**\n")
	} else {
		fmt.Fprintf(cfg.Out, "\n**%d checks failed:**\n\n", len(res.Failures))
		for _, f := range res.Failures {
			fmt.Fprintf(cfg.Out, "- %s\n", f)
		}
	}
	return res, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// prepare writes the data, the two projects, a principal, the viewers and their truth.
func (e *env) prepare(ctx context.Context) error {
	cfg := e.cfg
	src, err := duckdb.Open(ctx, duckdb.Config{})
	if err != nil {
		return err
	}
	defer src.Close()
	if err := demo.Generate(ctx, src.Exec, cfg.Rows, time.Now()); err != nil {
		return err
	}
	parquet := filepath.Join(cfg.Dir, "sales.parquet")
	if err := src.Exec(ctx, "COPY sales TO '"+strings.ReplaceAll(parquet, "'", "''")+"' (FORMAT PARQUET)"); err != nil {
		return err
	}

	// Truth: revenue and orders per department and filter variant, straight from the data.
	filters := []struct {
		body, where string
	}{
		{`{"widgets":["revenue","orders"]}`, ""},
		{`{"widgets":["revenue","orders"],"filters":{"region":["North"]}}`, " AND region = 'North'"},
		{`{"widgets":["revenue","orders"],"filters":{"region":["South","East"]}}`, " AND region IN ('South','East')"},
		{`{"widgets":["revenue","orders"],"filters":{"region":["West"]}}`, " AND region = 'West'"},
	}
	for _, f := range filters {
		v := variant{body: f.body, truth: map[string][2]float64{}}
		for _, dept := range demo.Departments {
			r, err := src.Query(ctx, duckQuery("SELECT CAST(coalesce(sum(amount), 0) AS DOUBLE), CAST(count(*) AS DOUBLE) FROM sales WHERE department = ?"+f.where, dept))
			if err != nil {
				return fmt.Errorf("truth: %w", err)
			}
			v.truth[dept] = [2]float64{toFloat(r.Rows[0][0]), toFloat(r.Rows[0][1])}
		}
		e.variants = append(e.variants, v)
	}
	for i := range cfg.Viewers {
		e.viewers = append(e.viewers, &viewer{id: fmt.Sprintf("viewer-%03d@load.example", i), dept: demo.Departments[i%len(demo.Departments)]})
	}

	e.adminKey = "load-admin-" + randomHex(12)
	secret := randomHex(32)
	write := func(dir string, cache string) error {
		if err := os.MkdirAll(filepath.Join(dir, "dashboards"), 0o755); err != nil {
			return err
		}
		sales, err := dashboards.FS.ReadFile("sales.yaml")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "dashboards", "sales.yaml"), sales, 0o644); err != nil {
			return err
		}
		// One public URL for every replica, as behind a load balancer: it is the tokens' issuer.
		yaml := fmt.Sprintf(`public_url: https://inlay.loadtest.invalid
secret: %s
admin_key: %s
state:
  driver: postgres
  dsn: %s
%sdata_sources:
  default:
    type: duckdb
    init_sql: ["CREATE TABLE sales AS SELECT * FROM read_parquet('%s')"]
tokens:
  embed_ttl: 1h
# One service principal mints for every viewer here, and each client reuses tokens fast: the
# per-principal and per-token rate limits would measure themselves, not the replicas.
limits:
  token_rate: 0
  query_rate: 0
`, secret, e.adminKey, e.pg.dsn(), cache, parquet)
		return os.WriteFile(filepath.Join(dir, "inlay.yaml"), []byte(yaml), 0o600)
	}
	e.cached = filepath.Join(cfg.Dir, "cached")
	e.uncached = filepath.Join(cfg.Dir, "uncached")
	if err := write(e.cached, "query:\n  cache_ttl: 5m\ncache:\n  redis: "+e.redis.url()+"\n"); err != nil {
		return err
	}
	if err := write(e.uncached, "query:\n  cache_ttl: 0s\n"); err != nil {
		return err
	}

	out, err := e.inlay(ctx, "principal", "create", "--project", e.cached, "--name", "loadtest", "--json")
	if err != nil {
		return fmt.Errorf("principal create: %v: %s", err, out)
	}
	var cred struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &cred); err != nil {
		return fmt.Errorf("principal create printed %q", out)
	}
	e.clientID, e.secret = cred.ID, cred.Secret
	return nil
}

// inlay runs the inlay binary once (an admin command) and returns its standard output.
func (e *env) inlay(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, e.cfg.Exe, args...)
	cmd.Env = append(os.Environ(), e.cfg.Env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return out, nil
}

// startReplicas starts n replicas of project at once (they migrate the schema together) and
// waits until each answers.
func (e *env) startReplicas(ctx context.Context, project string, n int, tag string) ([]*replica, error) {
	var rs []*replica
	for i := range n {
		r, err := startReplica(ctx, e.cfg.Exe, e.cfg.Env, project, fmt.Sprintf("%s-r%d", tag, i), e.cfg.Dir)
		if err != nil {
			stopAll(rs)
			return nil, err
		}
		rs = append(rs, r)
	}
	for _, r := range rs {
		if err := r.waitReady(ctx, 90*time.Second); err != nil {
			stopAll(rs)
			return nil, err
		}
	}
	return rs, nil
}

func stopAll(rs []*replica) {
	for _, r := range rs {
		r.stop()
	}
}

func urlsOf(rs []*replica) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.url)
	}
	return out
}

// scaling measures throughput with 1, 2 and 3 of three running replicas receiving the load.
func (e *env) scaling(ctx context.Context, mode, project string, res *Result) error {
	cfg := e.cfg
	fmt.Fprintf(cfg.Log, "%s: starting 3 replicas\n", mode)
	rs, err := e.startReplicas(ctx, project, 3, mode)
	if err != nil {
		return err
	}
	defer stopAll(rs)
	// Warm up: every viewer gets a token, and (cached) every answer is computed once.
	warm := newDriver(urlsOf(rs), e.clientID, e.secret, e.viewers, e.variants, 1)
	wctx, cancel := context.WithTimeout(ctx, min(cfg.Phase, 5*time.Second))
	warm.run(wctx, cfg.Workers)
	cancel()

	fmt.Fprintf(cfg.Out, "### %s load\n\n| replicas | OK responses/s | vs 1 replica | p50 | p99 | p50 vs 1 | p99 vs 1 | errors | RSS per replica, start → end |\n|---|---|---|---|---|---|---|---|---|\n", mode)
	var base summary
	for n := 1; n <= 3; n++ {
		d := newDriver(urlsOf(rs[:n]), e.clientID, e.secret, e.viewers, e.variants, cfg.MintFrac)
		rss0 := rssOf(rs[:n])
		pctx, cancel := context.WithTimeout(ctx, cfg.Phase)
		d.run(pctx, cfg.Workers)
		cancel()
		s := d.summarize(cfg.Phase)
		rss1 := rssOf(rs[:n])
		if n == 1 {
			base = s
		}
		bad := s.counts[wrongAnswer] + s.counts[status4xx] + s.counts[status5xx] + s.counts[status503] + s.counts[transportErr]
		fmt.Fprintf(cfg.Out, "| %d | %.0f | %.2fx | %s | %s | %.2fx | %.2fx | %d | %s |\n", n, s.okPerSec, s.okPerSec/base.okPerSec,
			ms(s.p50), ms(s.p99), ratio(s.p50, base.p50), ratio(s.p99, base.p99), bad, rssChange(rss0, rss1))
		fmt.Fprintf(cfg.Log, "%s, %d replicas: %.0f ok/s, p50 %s, p99 %s, %d bad\n", mode, n, s.okPerSec, ms(s.p50), ms(s.p99), bad)
		e.check(res, fmt.Sprintf("%s, %d replicas", mode, n), s, false)
		checkMemory(res, fmt.Sprintf("%s, %d replicas", mode, n), rss0, rss1)
	}
	fmt.Fprintln(cfg.Out)
	return nil
}

// check adds failures for wrong answers, unexpected statuses and (unless allowed) errors.
func (e *env) check(res *Result, phase string, s summary, faults bool) {
	if n := s.counts[wrongAnswer]; n > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("%s: %d answers were not the viewer's truth (e.g. %v)", phase, n, s.firstFails))
	}
	if n := s.counts[status5xx]; n > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("%s: %d 5xx other than 503 (e.g. %v)", phase, n, s.firstFails))
	}
	if n := s.counts[status4xx]; n > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("%s: %d 4xx (e.g. %v)", phase, n, s.firstFails))
	}
	if !faults {
		if n := s.counts[status503] + s.counts[transportErr]; n > 0 {
			res.Failures = append(res.Failures, fmt.Sprintf("%s: %d 503s or connection errors without a fault", phase, n))
		}
	}
	if s.counts[okQuery] == 0 || s.counts[okMint] == 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("%s: no successful query or mint (%d, %d)", phase, s.counts[okQuery], s.counts[okMint]))
	}
}

// checkMemory fails a phase whose replicas grew by more than half plus 64 MiB: flat memory
// under steady load, with room for caches filling and the runtime's own swings.
func checkMemory(res *Result, phase string, before, after []int64) {
	for i := range before {
		if before[i] > 0 && after[i] > before[i]*3/2+64<<20 {
			res.Failures = append(res.Failures, fmt.Sprintf("%s: replica %d grew from %d to %d MiB", phase, i, before[i]>>20, after[i]>>20))
		}
	}
}

func rssOf(rs []*replica) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.rssBytes())
	}
	return out
}

func rssChange(a, b []int64) string {
	var parts []string
	for i := range a {
		parts = append(parts, fmt.Sprintf("%d → %d MiB", a[i]>>20, b[i]>>20))
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func duckQuery(sql string, args ...any) datasource.Query {
	return datasource.Query{SQL: sql, Args: args}
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	var f float64
	fmt.Sscan(fmt.Sprint(v), &f)
	return f
}
