package loadtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// variant is one dashboard request a viewer makes: the widgets and filters, and per department
// the revenue and order count it must show (computed directly on the data: the viewer's truth).
type variant struct {
	body  string
	truth map[string][2]float64 // department -> revenue, orders
}

// viewer is one end user of the host product: an id and the RLS value (department) their
// embed tokens carry.
type viewer struct {
	id   string
	dept string
	tok  atomic.Pointer[string]
}

// outcome classes counted by the driver.
const (
	okMint = iota
	okQuery
	wrongAnswer // a 200 whose numbers are not the viewer's truth
	status4xx
	status5xx
	status503
	transportErr // connection refused or reset
	nOutcomes
)

// sample is one finished request.
type sample struct {
	at      time.Duration // since the phase started
	dur     time.Duration
	replica int
	outcome int
	status  int
	detail  string
}

// exchange is one successful grant exchange, kept to check afterwards that nothing was lost.
type exchange struct {
	replica int
	viewer  string
	form    string
}

// driver sends the mixed load to a set of replicas, like clients behind a load balancer.
type driver struct {
	client   *http.Client
	urls     []string
	basic    string
	viewers  []*viewer
	variants []variant
	mintFrac float64
	tag      string // written into minted viewer ids, so the audit log shows the phase and replica

	start   time.Time
	mu      sync.Mutex
	samples []sample
	grants  []exchange
	down    []atomic.Int64 // per replica: unix nanos until which it is skipped after a transport error
}

func newDriver(urls []string, clientID, secret string, viewers []*viewer, variants []variant, mintFrac float64) *driver {
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0, IdleConnTimeout: 30 * time.Second}
	return &driver{
		client:   &http.Client{Transport: tr, Timeout: 30 * time.Second},
		urls:     urls,
		basic:    "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(secret))),
		viewers:  viewers,
		variants: variants,
		mintFrac: mintFrac,
		down:     make([]atomic.Int64, len(urls)),
	}
}

// pick chooses a replica, skipping for a moment those that just refused a connection (as a load
// balancer's health check would).
func (d *driver) pick(r *rand.Rand) int {
	now := time.Now().UnixNano()
	for range 2 * len(d.urls) {
		i := r.IntN(len(d.urls))
		if d.down[i].Load() < now {
			return i
		}
	}
	return r.IntN(len(d.urls))
}

func (d *driver) record(s sample) {
	d.mu.Lock()
	d.samples = append(d.samples, s)
	d.mu.Unlock()
}

type resp struct {
	status int
	body   []byte
}

// do sends one request to replica i and records its outcome class when it is not a 200.
func (d *driver) do(i int, req *http.Request, t0 time.Time) (resp, bool) {
	res, err := d.client.Do(req)
	if err != nil {
		d.down[i].Store(time.Now().Add(2 * time.Second).UnixNano())
		d.record(sample{at: t0.Sub(d.start), dur: time.Since(t0), replica: i, outcome: transportErr, detail: err.Error()})
		return resp{}, false
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		d.record(sample{at: t0.Sub(d.start), dur: time.Since(t0), replica: i, outcome: transportErr, detail: err.Error()})
		return resp{}, false
	}
	if res.StatusCode != 200 {
		o := status4xx
		switch {
		case res.StatusCode == 503:
			o = status503
		case res.StatusCode >= 500:
			o = status5xx
		}
		d.record(sample{at: t0.Sub(d.start), dur: time.Since(t0), replica: i, outcome: o, status: res.StatusCode,
			detail: fmt.Sprintf("%s %s: %d %.200s", req.Method, req.URL.Path, res.StatusCode, b)})
		return resp{status: res.StatusCode, body: b}, false
	}
	return resp{status: 200, body: b}, true
}

func (d *driver) postForm(i int, auth, form string) (*http.Request, error) {
	req, err := http.NewRequest("POST", d.urls[i]+"/oidc/v1/token", strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", auth)
	return req, nil
}

// mint runs the three-call token flow for v: a service token (kept per worker until it nears
// expiry), tokeninfo on one replica, the exchange on another. The exchange's replica is written
// into the viewer id, so the audit log shows which replica minted each token.
func (d *driver) mint(r *rand.Rand, v *viewer, svc *string, svcExp *time.Time) {
	t0 := time.Now()
	if *svc == "" || time.Now().After(*svcExp) {
		i := d.pick(r)
		req, _ := d.postForm(i, d.basic, "grant_type=client_credentials&scope=all-apis")
		res, ok := d.do(i, req, t0)
		if !ok {
			return
		}
		var m struct {
			Token   string `json:"access_token"`
			Expires int64  `json:"expires_in"`
		}
		json.Unmarshal(res.body, &m)
		*svc, *svcExp = m.Token, time.Now().Add(time.Duration(m.Expires)*time.Second/2)
	}
	ex := d.pick(r)
	id := fmt.Sprintf("%s.%s.r%d", v.id, d.tag, ex)
	i := d.pick(r)
	q := url.Values{"external_viewer_id": {id}, "external_value": {v.dept}}
	req, _ := http.NewRequest("GET", d.urls[i]+"/api/2.0/lakeview/dashboards/sales/published/tokeninfo?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+*svc)
	res, ok := d.do(i, req, t0)
	if !ok {
		if res.status == 401 {
			*svc = ""
		}
		return
	}
	var info map[string]any
	if err := json.Unmarshal(res.body, &info); err != nil {
		return
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	for k, val := range info {
		if s, ok := val.(string); ok {
			form.Set(k, s)
		} else {
			b, _ := json.Marshal(val)
			form.Set(k, string(b))
		}
	}
	req, _ = d.postForm(ex, d.basic, form.Encode())
	res, ok = d.do(ex, req, t0)
	if !ok {
		return
	}
	var tok struct {
		Token string `json:"access_token"`
	}
	json.Unmarshal(res.body, &tok)
	v.tok.Store(&tok.Token)
	d.mu.Lock()
	d.grants = append(d.grants, exchange{replica: ex, viewer: id, form: form.Encode()})
	d.samples = append(d.samples, sample{at: t0.Sub(d.start), dur: time.Since(t0), replica: ex, outcome: okMint})
	d.mu.Unlock()
}

// query asks for a dashboard as v and checks the answer against v's truth.
func (d *driver) query(r *rand.Rand, v *viewer, tok string) {
	t0 := time.Now()
	vr := d.variants[r.IntN(len(d.variants))]
	i := d.pick(r)
	req, _ := http.NewRequest("POST", d.urls[i]+"/api/v1/embed/dashboards/sales/query", strings.NewReader(vr.body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, ok := d.do(i, req, t0)
	if !ok {
		if res.status == 401 { // expired: mint again next time
			v.tok.CompareAndSwap(v.tok.Load(), nil)
		}
		return
	}
	if err := checkAnswer(res.body, vr.truth[v.dept]); err != nil {
		d.record(sample{at: t0.Sub(d.start), dur: time.Since(t0), replica: i, outcome: wrongAnswer,
			detail: fmt.Sprintf("viewer %s (%s), %s: %v", v.id, v.dept, vr.body, err)})
		return
	}
	d.record(sample{at: t0.Sub(d.start), dur: time.Since(t0), replica: i, outcome: okQuery})
}

func checkAnswer(body []byte, want [2]float64) error {
	var ans struct {
		Results map[string]struct {
			Rows  [][]json.Number `json:"rows"`
			Error any             `json:"error"`
		} `json:"results"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&ans); err != nil {
		return fmt.Errorf("answer is not the expected JSON: %.200s", body)
	}
	for i, name := range []string{"revenue", "orders"} {
		w, ok := ans.Results[name]
		if !ok || w.Error != nil || len(w.Rows) != 1 || len(w.Rows[0]) != 1 {
			return fmt.Errorf("widget %s: %.200s", name, body)
		}
		got, err := w.Rows[0][0].Float64()
		if err != nil {
			return fmt.Errorf("widget %s: %v", name, err)
		}
		if math.Abs(got-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
			return fmt.Errorf("widget %s = %v, the viewer's truth is %v", name, got, want[i])
		}
	}
	return nil
}

// run drives the load from workers goroutines until ctx ends.
func (d *driver) run(ctx context.Context, workers int) {
	d.start = time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			var svc string
			var svcExp time.Time
			for ctx.Err() == nil {
				v := d.viewers[r.IntN(len(d.viewers))]
				tok := v.tok.Load()
				if tok == nil || r.Float64() < d.mintFrac {
					d.mint(r, v, &svc, &svcExp)
					continue
				}
				d.query(r, v, *tok)
			}
		})
	}
	wg.Wait()
}

// summary of one phase.
type summary struct {
	dur        time.Duration
	counts     [nOutcomes]int
	okPerSec   float64
	p50, p99   time.Duration
	byReplica  map[int][nOutcomes]int
	firstFails []string
}

func (d *driver) summarize(dur time.Duration) summary {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := summary{dur: dur, byReplica: map[int][nOutcomes]int{}}
	var lat []time.Duration
	for _, x := range d.samples {
		s.counts[x.outcome]++
		c := s.byReplica[x.replica]
		c[x.outcome]++
		s.byReplica[x.replica] = c
		if x.outcome == okMint || x.outcome == okQuery {
			lat = append(lat, x.dur)
		} else if len(s.firstFails) < 5 && x.outcome != transportErr && x.outcome != status503 {
			s.firstFails = append(s.firstFails, x.detail)
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		s.p50 = lat[len(lat)/2]
		s.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	s.okPerSec = float64(s.counts[okMint]+s.counts[okQuery]) / dur.Seconds()
	return s
}

var errWrong = errors.New("loadtest: a check failed")
