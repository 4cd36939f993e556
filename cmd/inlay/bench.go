//go:build bench

// The benchmark is built only with -tags bench (make bench), so that the server binary does not
// link net/http/httptest and the benchmark's code.

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/rls"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/sqlite"
)

// runBench measures, in one run over the sample data, what the README's performance section
// reports: every figure is a ratio against a baseline measured in the same run, because the
// machines are noisy.
func runBench(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	rows := fs.Int("rows", 10_000_000, "rows in the sample sales table")
	rounds := fs.Int("rounds", 5, "rounds of each query measurement (the median is reported)")
	cachedN := fs.Int("cached", 300, "cached dashboard loads to time")
	concurrent := fs.Int("concurrent", 32, "identical concurrent requests for the coalescing check")
	mintFor := fs.Duration("mint-for", 3*time.Second, "how long each token-minting throughput run lasts")
	workers := fs.Int("workers", 4, "concurrent HTTP clients for the throughput runs")
	mints := fs.Int("mints", 5000, "scoped tokens minted in each minting throughput run (one tokeninfo grant each)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	logger := slog.New(slog.DiscardHandler)
	out := e.stdout

	src, dashes, err := sampleData(ctx, e, *rows)
	if err != nil {
		return err
	}
	lc := &lifecycle{}
	lc.addCloser("sample database", src)
	defer func() { _ = lc.closeWithin(closeTimeout) }()
	var sales *dashboard.Dashboard
	for _, d := range dashes {
		if d.ID == "sales" {
			sales = d
		}
	}
	// Two Inlays over the same database: one without a result cache (cold), one with.
	newInlay := func(cacheTTL time.Duration, store storage.Store) (*service, *httptest.Server, error) {
		cfg := config.Default(".")
		cfg.Query.CacheTTL = cacheTTL
		// The throughput runs measure the handlers, not the per-principal and per-token limits.
		cfg.Limits.TokenRate, cfg.Limits.QueryRate = 0, 0
		hs := httptest.NewUnstartedServer(nil)
		cfg.PublicURL = "http://" + hs.Listener.Addr().String()
		var svc *service
		var err error
		if store == nil {
			svc, err = sampleService(ctx, lc, cfg, src, dashes, logger)
		} else {
			svc, err = sampleServiceStore(ctx, lc, cfg, src, dashes, logger, store)
		}
		if err != nil {
			return nil, nil, err
		}
		hs.Config.Handler = svc.handler
		hs.Start()
		return svc, hs, nil
	}
	coldSvc, cold, err := newInlay(0, nil)
	if err != nil {
		return err
	}
	defer cold.Close()
	warmSvc, warm, err := newInlay(time.Hour, nil)
	if err != nil {
		return err
	}
	defer warm.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	coldTok, _, _, err := benchToken(ctx, coldSvc, cold.URL, client)
	if err != nil {
		return err
	}
	warmTok, _, _, err := benchToken(ctx, warmSvc, warm.URL, client)
	if err != nil {
		return err
	}
	value := "Sales"
	viewer := rls.Viewer{ID: "bench@example.com", ExternalValue: &value}

	fmt.Fprintf(out, "# inlay bench: %d rows, dashboard %q (%d widgets), %d rounds\n\n", *rows, sales.ID, len(sales.Widgets), *rounds)

	// (a) Each widget query over HTTP (no result cache) against the same compiled SQL on DuckDB.
	fmt.Fprintln(out, "## (a) widget queries, cold cache: HTTP POST .../query vs the compiled SQL on DuckDB in-process")
	fmt.Fprintln(out, "| widget | direct ms | HTTP ms | ratio |\n|---|---|---|---|")
	var directTotal, httpTotal time.Duration
	for _, w := range sales.Widgets {
		q, err := compile.Widget(sales, w.Name, duckdb.Dialect{}, viewer, nil, compile.Options{MaxRows: cfgMaxRows})
		if err != nil {
			return err
		}
		var direct, overHTTP []time.Duration
		for range *rounds { // interleaved, so drift in the machine's load hits both sides alike
			t0 := time.Now()
			if _, err := src.Query(ctx, datasource.Query{SQL: q.SQL, Args: q.Args, MaxRows: cfgMaxRows}); err != nil {
				return err
			}
			direct = append(direct, time.Since(t0))
			t0 = time.Now()
			if err := benchQuery(client, cold.URL, coldTok, `{"widgets":["`+w.Name+`"]}`); err != nil {
				return err
			}
			overHTTP = append(overHTTP, time.Since(t0))
		}
		d, h := median(direct), median(overHTTP)
		directTotal += d
		httpTotal += h
		fmt.Fprintf(out, "| %s | %.1f | %.1f | %.2fx |\n", w.Name, msf(d), msf(h), float64(h)/float64(d))
	}
	fmt.Fprintf(out, "| **all, one by one** | %.1f | %.1f | **%.2fx** |\n", msf(directTotal), msf(httpTotal), float64(httpTotal)/float64(directTotal))
	var whole []time.Duration
	for range *rounds {
		t0 := time.Now()
		if err := benchQuery(client, cold.URL, coldTok, `{}`); err != nil {
			return err
		}
		whole = append(whole, time.Since(t0))
	}
	fmt.Fprintf(out, "\nThe whole dashboard in one request (widgets run in parallel): %.1f ms, %.2fx the sum of the direct queries.\n\n",
		msf(median(whole)), float64(median(whole))/float64(directTotal))

	// (b) A repeated dashboard load answered from the result cache.
	if err := benchQuery(client, warm.URL, warmTok, `{}`); err != nil {
		return err
	}
	var cached []time.Duration
	for range *cachedN {
		t0 := time.Now()
		if err := benchQuery(client, warm.URL, warmTok, `{}`); err != nil {
			return err
		}
		cached = append(cached, time.Since(t0))
	}
	c := median(cached)
	fmt.Fprintln(out, "## (b) repeated dashboard load, same viewer and filters, from the result cache")
	fmt.Fprintf(out, "Cached load over HTTP: %.3f ms (median of %d); the same queries run directly on DuckDB: %.1f ms. **%.0fx faster.**\n\n",
		msf(c), *cachedN, msf(directTotal), float64(directTotal)/float64(c))

	// (c) Identical concurrent requests coalesced.
	before := coldSvc.engine.Stats()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range *concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := benchQuery(client, cold.URL, coldTok, `{"filters":{"region":["North"]}}`); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	after := coldSvc.engine.Stats()
	fmt.Fprintln(out, "## (c) identical concurrent requests")
	fmt.Fprintf(out, "%d concurrent identical dashboard loads (%d widget queries asked for): the database ran %d queries; %d joined a running one; %d requests failed.\n\n",
		*concurrent, *concurrent*len(sales.Widgets), after.Executed-before.Executed, after.Coalesced-before.Coalesced, failed.Load())

	// (d) Scoped-token minting throughput against a bare handler returning constant JSON.
	// A tokeninfo grant is single-use, so each exchange needs its own: they are fetched before
	// each timed run, which then exchanges every one of them once.
	_, form, basic, err := benchToken(ctx, coldSvc, cold.URL, client)
	if err != nil {
		return err
	}
	svcTok, err := postForm(client, cold.URL, basic, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if err != nil {
		return err
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"x","token_type":"Bearer","expires_in":3600}`)
	}))
	defer bare.Close()
	// mintVsBare alternates three bare-handler runs with three minting runs against inlay (so
	// machine load falls on both alike) and returns the medians.
	mintVsBare := func(inlayURL string, inlayBasic string, svc map[string]any) (mint, bareRate float64, err error) {
		var mintRates, bareRates []float64
		for range 3 {
			r, err := throughput(client, bare.URL+"/oidc/v1/token", basic, form, *workers, *mintFor)
			if err != nil {
				return 0, 0, err
			}
			bareRates = append(bareRates, r)
			forms, err := exchangeForms(client, inlayURL, svc["access_token"].(string), *mints)
			if err != nil {
				return 0, 0, err
			}
			if r, err = mintThroughput(client, inlayURL+"/oidc/v1/token", inlayBasic, forms, *workers); err != nil {
				return 0, 0, err
			}
			mintRates = append(mintRates, r)
		}
		slices.Sort(mintRates)
		slices.Sort(bareRates)
		return mintRates[1], bareRates[1], nil
	}
	m, b, err := mintVsBare(cold.URL, basic, svcTok)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "## (d) scoped-token minting (POST /oidc/v1/token with authorization_details) vs a bare net/http handler")
	fmt.Fprintf(out, "%d clients, %d single-use grants exchanged per run, bare handler for %s per run, median of 3: minting %.0f tokens/s, bare handler %.0f responses/s: **%.2fx** (in-memory state store).\n\n", *workers, *mints, *mintFor, m, b, m/b)

	// The same with the default state store, a SQLite file: each exchange writes the grant's
	// single-use record and the token's audit event to it before answering.
	dir, err := os.MkdirTemp("", "inlay-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sq, err := sqlite.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		return err
	}
	sqSvc, sqSrv, err := newInlay(0, sq)
	if err != nil {
		return err
	}
	defer sqSrv.Close()
	_, _, sqBasic, err := benchToken(ctx, sqSvc, sqSrv.URL, client)
	if err != nil {
		return err
	}
	sqTok, err := postForm(client, sqSrv.URL, sqBasic, url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if err != nil {
		return err
	}
	if m, b, err = mintVsBare(sqSrv.URL, sqBasic, sqTok); err != nil {
		return err
	}
	fmt.Fprintf(out, "The same with the default state store, a SQLite file (WAL): minting %.0f tokens/s, bare handler %.0f responses/s: **%.2fx**.\n\n", m, b, m/b)

	// (e) The request path's own cost: compiling a widget per request vs binding into its plan.
	return benchBind(out, sales, viewer)
}

// benchBind times, for every widget of d with a region filter set, what a request paid before
// plans (compile.Widget: find the widget and dataset, parse the expressions, render the SQL and
// bind) against what it pays now (WidgetPlan.Bind into the SQL compiled at load).
func benchBind(out io.Writer, d *dashboard.Dashboard, v rls.Viewer) error {
	f, err := compile.ParseFilters(d, map[string]json.RawMessage{"region": json.RawMessage(`["North","East"]`)})
	if err != nil {
		return err
	}
	plan := compile.NewPlan(d, func(string) (datasource.Dialect, error) { return duckdb.Dialect{}, nil })
	const n = 20_000
	timeIt := func(fn func() error) (time.Duration, error) {
		var best time.Duration
		for range 3 { // best of 3 runs of n, against scheduling noise
			t0 := time.Now()
			for range n {
				if err := fn(); err != nil {
					return 0, err
				}
			}
			if el := time.Since(t0) / n; best == 0 || el < best {
				best = el
			}
		}
		return best, nil
	}
	perRequest, err := timeIt(func() error {
		for _, w := range d.Widgets {
			if _, err := compile.Widget(d, w.Name, duckdb.Dialect{}, v, f, compile.Options{MaxRows: cfgMaxRows}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	bind, err := timeIt(func() error {
		for _, w := range plan.Widgets() {
			if _, err := w.Bind(v, f, cfgMaxRows); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "## (e) request path: SQL for every widget of one dashboard load, compiled per request vs bound into the plan compiled at load")
	fmt.Fprintf(out, "%d widgets, region filter set: compiled per request %.1f µs, bound into the plan %.1f µs: **%.1fx less**.\n",
		len(d.Widgets), float64(perRequest.Nanoseconds())/1000, float64(bind.Nanoseconds())/1000, float64(perRequest)/float64(bind))
	return nil
}

// cfgMaxRows is the default query row cap, as the API applies it.
var cfgMaxRows = config.Default(".").Query.MaxRows

func benchToken(ctx context.Context, svc *service, base string, client *http.Client) (tok string, exchange url.Values, basic string, err error) {
	id, sec, err := svc.principals.Create(ctx, "bench")
	if err != nil {
		return "", nil, "", err
	}
	basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+sec))
	post := func(form url.Values) (map[string]any, error) {
		req, _ := http.NewRequest("POST", base+"/oidc/v1/token", strings.NewReader(form.Encode()))
		req.Header.Set("Authorization", basic)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return doJSON(client, req)
	}
	svcTok, err := post(url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if err != nil {
		return "", nil, "", err
	}
	req, _ := http.NewRequest("GET", base+"/api/2.0/lakeview/dashboards/sales/published/tokeninfo?external_viewer_id=bench%40example.com&external_value=Sales", nil)
	req.Header.Set("Authorization", "Bearer "+svcTok["access_token"].(string))
	info, err := doJSON(client, req)
	if err != nil {
		return "", nil, "", err
	}
	exchange = url.Values{"grant_type": {"client_credentials"}}
	for k, v := range info {
		if k == "authorization_details" {
			b, _ := json.Marshal(v)
			exchange.Set(k, string(b))
		} else {
			exchange.Set(k, v.(string))
		}
	}
	scoped, err := post(exchange)
	if err != nil {
		return "", nil, "", err
	}
	return scoped["access_token"].(string), exchange, basic, nil
}

func doJSON(client *http.Client, req *http.Request) (map[string]any, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func benchQuery(client *http.Client, base, tok, body string) error {
	req, _ := http.NewRequest("POST", base+"/api/v1/embed/dashboards/sales/query", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || bytes.Contains(b, []byte(`"error"`)) {
		return fmt.Errorf("query: %d %.300s", resp.StatusCode, b)
	}
	return nil
}

// throughput posts form to target from several clients for d and returns responses per second.
func throughput(client *http.Client, target, basic string, form url.Values, workers int, d time.Duration) (float64, error) {
	body := form.Encode()
	var n atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest("POST", target, strings.NewReader(body))
				req.Header.Set("Authorization", basic)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					firstErr.CompareAndSwap(nil, fmt.Errorf("%s: status %d", target, resp.StatusCode))
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func postForm(client *http.Client, base, basic string, form url.Values) (map[string]any, error) {
	req, _ := http.NewRequest("POST", base+"/oidc/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", basic)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return doJSON(client, req)
}

// exchangeForms calls tokeninfo n times (from a few clients) and returns the encoded exchange
// form of each grant.
func exchangeForms(client *http.Client, base, svcTok string, n int) ([]string, error) {
	out := make([]string, n)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				req, _ := http.NewRequest("GET", base+"/api/2.0/lakeview/dashboards/sales/published/tokeninfo?external_viewer_id=bench%40example.com&external_value=Sales", nil)
				req.Header.Set("Authorization", "Bearer "+svcTok)
				info, err := doJSON(client, req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				form := url.Values{"grant_type": {"client_credentials"}}
				for k, v := range info {
					if k == "authorization_details" {
						b, _ := json.Marshal(v)
						form.Set(k, string(b))
					} else {
						form.Set(k, v.(string))
					}
				}
				out[i] = form.Encode()
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, err
	}
	return out, nil
}

// mintThroughput exchanges every form once from several clients and returns tokens per second.
func mintThroughput(client *http.Client, target, basic string, forms []string, workers int) (float64, error) {
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(forms); i = int(next.Add(1)) - 1 {
				req, _ := http.NewRequest("POST", target, strings.NewReader(forms[i]))
				req.Header.Set("Authorization", basic)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					firstErr.CompareAndSwap(nil, fmt.Errorf("%s: status %d", target, resp.StatusCode))
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(len(forms)) / time.Since(start).Seconds(), nil
}
