package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// faults runs the cached load on three replicas for FaultFor, split in four: normal, then a
// replica killed with SIGKILL, then PostgreSQL restarted, then Redis stopped. Afterwards it
// checks that nothing acknowledged was lost: every exchanged grant stays used, and every token
// handed out, by the killed replica too, is in the audit log, read with `inlay audit` and the
// admin API.
func (e *env) faults(ctx context.Context, res *Result) error {
	cfg := e.cfg
	fmt.Fprintf(cfg.Log, "faults: starting 3 replicas\n")
	rs, err := e.startReplicas(ctx, e.cached, 3, "faults")
	if err != nil {
		return err
	}
	defer stopAll(rs)
	d := newDriver(urlsOf(rs), e.clientID, e.secret, e.viewers, e.variants, cfg.MintFrac)
	d.tag = "faults"
	step := cfg.FaultFor / 4
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.run(lctx, cfg.Workers); close(done) }()

	type event struct {
		name string
		at   time.Duration
	}
	var events []event
	mark := func(name string) {
		events = append(events, event{name, time.Since(d.start)})
		fmt.Fprintf(cfg.Log, "faults: %s at %s\n", name, time.Since(d.start).Round(time.Millisecond))
	}
	sleepCtx(ctx, step)
	rss0 := rssOf(rs)
	killed := 2
	mark("kill -9 replica 2")
	rs[killed].kill9()
	sleepCtx(ctx, step)
	mark("PostgreSQL stopping")
	if err := e.pg.stop(ctx); err != nil {
		cancel()
		<-done
		return err
	}
	sleepCtx(ctx, 2*time.Second)
	if err := e.pg.start(ctx); err != nil {
		cancel()
		<-done
		return err
	}
	mark("PostgreSQL started")
	pgBack := time.Since(d.start)
	sleepCtx(ctx, step)
	mark("Redis killed")
	e.redis.kill()
	redisDown := time.Since(d.start)
	sleepCtx(ctx, step)
	rss1 := rssOf(rs[:2])
	cancel()
	<-done
	s := d.summarize(time.Since(d.start))

	// Classify failures by when and where they happened.
	var onLive, after503, afterRedis []string
	var recovered time.Duration = -1
	d.mu.Lock()
	for _, x := range d.samples {
		switch {
		case x.outcome == transportErr && x.replica != killed:
			onLive = append(onLive, x.detail)
		case x.outcome == status503 && x.at > pgBack+10*time.Second:
			after503 = append(after503, x.detail)
		case x.at > redisDown && x.outcome != okMint && x.outcome != okQuery && x.replica != killed:
			afterRedis = append(afterRedis, x.detail)
		}
		if x.outcome == okMint && x.at > pgBack && (recovered < 0 || x.at < recovered) {
			recovered = x.at
		}
	}
	grants := append([]exchange(nil), d.grants...)
	d.mu.Unlock()

	fmt.Fprintf(cfg.Out, "### Faults during load (cached, 3 replicas, %s)\n\n", s.dur.Round(time.Second))
	for _, ev := range events {
		fmt.Fprintf(cfg.Out, "- %s at %s\n", ev.name, ev.at.Round(100*time.Millisecond))
	}
	fmt.Fprintf(cfg.Out, "\n%d dashboard loads and %d token mints succeeded (%.0f/s); %d wrong answers; %d 5xx other than 503; %d 503 (PostgreSQL down); %d connection errors, %d of them to live replicas.\n",
		s.counts[okQuery], s.counts[okMint], s.okPerSec, s.counts[wrongAnswer], s.counts[status5xx], s.counts[status503], s.counts[transportErr], len(onLive))
	if recovered >= 0 {
		fmt.Fprintf(cfg.Out, "First token minted %.1f s after PostgreSQL was started again (no replica restarted).\n", (recovered - pgBack).Seconds())
	}
	fmt.Fprintf(cfg.Out, "RSS of the two survivors from the first quarter to the end: %s.\n\n", rssChange(rss0[:2], rss1))

	e.check(res, "faults", s, true)
	checkMemory(res, "faults", rss0[:2], rss1)
	if len(onLive) > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("faults: %d connection errors to live replicas (e.g. %s)", len(onLive), onLive[0]))
	}
	if len(after503) > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("faults: 503s more than 10 s after PostgreSQL was back (e.g. %s)", after503[0]))
	}
	if len(afterRedis) > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("faults: %d errors after Redis stopped (e.g. %s)", len(afterRedis), afterRedis[0]))
	}
	if recovered < 0 {
		res.Failures = append(res.Failures, "faults: no token was minted after PostgreSQL came back")
	}
	e.checkNothingLost(ctx, rs[:2], grants, res)
	return nil
}

// checkNothingLost re-sends a sample of exchanged grants (each must be refused as already used)
// and counts the audit log's token.minted events per minting replica.
func (e *env) checkNothingLost(ctx context.Context, live []*replica, grants []exchange, res *Result) {
	cfg := e.cfg
	client := &http.Client{Timeout: 10 * time.Second}
	reused, sampled := 0, 0
	for i, g := range grants {
		if i%max(1, len(grants)/50) != 0 {
			continue
		}
		sampled++
		req, _ := http.NewRequest("POST", live[i%len(live)].url+"/oidc/v1/token", strings.NewReader(g.form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(e.clientID, e.secret)
		r, err := client.Do(req)
		if err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("grant re-use check: %v", err))
			return
		}
		var body struct {
			Error string `json:"error"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		r.Body.Close()
		switch {
		case r.StatusCode == 200:
			res.Failures = append(res.Failures, fmt.Sprintf("a grant exchanged during the faults (on replica %d) was exchanged again", g.replica))
		case body.Error == "invalid_grant":
			reused++
		default:
			res.Failures = append(res.Failures, fmt.Sprintf("re-sent grant: %d %s", r.StatusCode, body.Error))
		}
	}

	// Every replica's audit writer flushes within a second; survivors are still running.
	time.Sleep(2 * time.Second)
	minted := map[int]int{}
	for _, g := range grants {
		minted[g.replica]++
	}
	out, err := e.inlay(ctx, "audit", "--project", e.cached, "--kind", "token.minted", "--limit", "10000000", "--json")
	if err != nil {
		res.Failures = append(res.Failures, fmt.Sprintf("inlay audit: %v", err))
		return
	}
	logged := map[int]int{}
	total := 0
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		var ev struct {
			Viewer string `json:"viewer_id"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		total++
		if i := strings.LastIndex(ev.Viewer, ".faults.r"); i >= 0 && ev.Detail == "embed" {
			var r int
			if _, err := fmt.Sscan(ev.Viewer[i+len(".faults.r"):], &r); err == nil {
				logged[r]++
			}
		}
	}
	// The admin API of a survivor reads the same table.
	req, _ := http.NewRequest("GET", live[0].url+"/api/v1/admin/audit?kind=token.minted&limit=10000", nil)
	req.Header.Set("Authorization", "Bearer "+e.adminKey)
	apiCount := -1
	if r, err := client.Do(req); err == nil {
		var body struct {
			Events []json.RawMessage `json:"events"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		r.Body.Close()
		if r.StatusCode == 200 {
			apiCount = len(body.Events)
		}
	}
	fmt.Fprintf(cfg.Out, "Nothing lost: %d sampled grants sent again, %d refused as already exchanged. Embed tokens minted per replica (client count / audit log via `inlay audit`):", sampled, reused)
	for r := range 3 {
		fmt.Fprintf(cfg.Out, " r%d %d/%d", r, minted[r], logged[r])
	}
	if reused != sampled {
		res.Failures = append(res.Failures, fmt.Sprintf("of %d exchanged grants sent again, %d were refused as used", sampled, reused))
	}
	fmt.Fprintf(cfg.Out, ". The admin API on replica 0 lists %d token.minted events (limit 10000), `inlay audit` %d.\n", apiCount, total)
	// Mints are audited before the token is handed out, so even the killed replica's are all
	// in the log (it may hold one more: a mint audited whose answer never left).
	for r := range 3 {
		if logged[r] < minted[r] {
			res.Failures = append(res.Failures, fmt.Sprintf("replica %d handed out %d embed tokens but the audit log has %d", r, minted[r], logged[r]))
		}
	}
	if apiCount < 0 || (total <= 10000 && apiCount != total) {
		res.Failures = append(res.Failures, fmt.Sprintf("admin API lists %d token.minted events, inlay audit %d", apiCount, total))
	}
}
