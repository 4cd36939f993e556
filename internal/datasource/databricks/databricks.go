// Package databricks is the Databricks SQL warehouse data source, over the official driver
// (github.com/databricks/databricks-sql-go, Thrift over HTTPS).
//
// Queries run with brokered credentials: datasource.Query.Credential supplies the token of the
// viewer (or service account) the query runs for, and the driver's authenticator asks it again
// on every HTTP request, so a token refreshed mid-session is picked up. Each credential owner has
// its own connection pool (a warehouse session belongs to whoever opened it: one viewer's query
// never runs on another's session); idle pools are closed. A static token may be configured for
// a source that names no OAuth integration (RequireCredential false).
//
// The driver v1.9.0 has no WithExternalToken option; its WithAuthenticator (an
// auth.Authenticator called per request) is the per-request callback used here.
package databricks

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	dbsql "github.com/databricks/databricks-sql-go"
	dbsqlerr "github.com/databricks/databricks-sql-go/errors"
	dbsqllog "github.com/databricks/databricks-sql-go/logger"

	"github.com/inlay/inlay/internal/datasource"
)

// Config locates the warehouse.
type Config struct {
	// Host is the workspace host ("adb-123.azuredatabricks.net"); "http://127.0.0.1:port" for a
	// local stand-in.
	Host string
	// HTTPPath is the warehouse's HTTP path ("/sql/1.0/warehouses/abc123").
	HTTPPath string
	Port     int // default 443 (80 for http://)
	Catalog  string
	Schema   string
	// AccessToken is a static token for sources whose queries do not run with brokered
	// credentials; it is never used when RequireCredential is set.
	AccessToken string
	// RequireCredential: every query must carry a Credential (the source names an OAuth
	// integration); there is no fallback.
	RequireCredential bool
	// MaxConnsPerOwner caps each owner's pool (default 4).
	MaxConnsPerOwner int
	// IdleTimeout closes an owner's pool unused this long (default 10 min).
	IdleTimeout time.Duration
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// Source is a Databricks SQL warehouse. It is safe for concurrent use.
type Source struct {
	cfg   Config
	mu    sync.Mutex
	pools map[string]*pool
	done  chan struct{}
	wg    sync.WaitGroup
}

type pool struct {
	db       *sql.DB
	auth     *tokenAuth
	lastUsed time.Time
}

var _ datasource.Source = (*Source)(nil)

var quietDriver sync.Once

// Open checks the configuration; it connects lazily (a connection needs someone's token).
func Open(_ context.Context, cfg Config) (*Source, error) {
	if cfg.Host == "" || cfg.HTTPPath == "" {
		return nil, errors.New("databricks: host and http_path are required")
	}
	if cfg.MaxConnsPerOwner <= 0 {
		cfg.MaxConnsPerOwner = 4
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.Port == 0 {
		cfg.Port = 443
		if strings.HasPrefix(cfg.Host, "http://") {
			cfg.Port = 80
		}
	}
	// The driver logs every failure to stderr itself; Inlay logs the classified error instead.
	quietDriver.Do(func() { _ = dbsqllog.SetLogLevel("disabled") })
	s := &Source{cfg: cfg, pools: map[string]*pool{}, done: make(chan struct{})}
	s.wg.Add(1)
	go s.reap()
	return s, nil
}

// tokenAuth sets the bearer token of every request the driver makes, asking the credential
// function each time (cheap: the broker serves a fresh token from memory).
type tokenAuth struct {
	mu   sync.Mutex
	cred func(context.Context) (string, error)
}

func (a *tokenAuth) set(cred func(context.Context) (string, error)) {
	a.mu.Lock()
	a.cred = cred
	a.mu.Unlock()
}

func (a *tokenAuth) Authenticate(r *http.Request) error {
	a.mu.Lock()
	cred := a.cred
	a.mu.Unlock()
	tok, err := cred(r.Context())
	if err != nil {
		return err
	}
	if tok == "" {
		return errors.New("databricks: empty token")
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// Dialect returns Databricks SQL's spelling.
func (s *Source) Dialect() datasource.Dialect { return Dialect{} }

// Close closes every pool.
func (s *Source) Close() error {
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for k, p := range s.pools {
		errs = append(errs, p.db.Close())
		delete(s.pools, k)
	}
	return errors.Join(errs...)
}

func (s *Source) reap() {
	defer s.wg.Done()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			s.mu.Lock()
			for k, p := range s.pools {
				if now.Sub(p.lastUsed) > s.cfg.IdleTimeout {
					_ = p.db.Close()
					delete(s.pools, k)
				}
			}
			s.mu.Unlock()
		}
	}
}

// poolFor returns the owner's pool, its authenticator pointed at this query's credential.
func (s *Source) poolFor(q datasource.Query) (*sql.DB, error) {
	owner, cred := q.CredentialOwner, q.Credential
	switch {
	case cred != nil:
		if owner == "" {
			return nil, fmt.Errorf("databricks: %w: a credential without an owner", datasource.ErrUnavailable)
		}
	case s.cfg.RequireCredential:
		return nil, fmt.Errorf("databricks: %w: this source runs with each viewer's credentials and the query has none", datasource.ErrUnavailable)
	case s.cfg.AccessToken != "":
		owner = "static"
		tok := s.cfg.AccessToken
		cred = func(context.Context) (string, error) { return tok, nil }
	default:
		return nil, fmt.Errorf("databricks: %w: no credentials (name an oauth_integration or set a token)", datasource.ErrUnavailable)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pools[owner]
	if !ok {
		auth := &tokenAuth{cred: cred}
		opts := []dbsql.ConnOption{
			dbsql.WithServerHostname(s.cfg.Host),
			dbsql.WithPort(s.cfg.Port),
			dbsql.WithHTTPPath(s.cfg.HTTPPath),
			dbsql.WithAuthenticator(auth),
			dbsql.WithUserAgentEntry("inlay"),
			dbsql.WithRetries(1, 100*time.Millisecond, time.Second),
		}
		if s.cfg.Catalog != "" || s.cfg.Schema != "" {
			opts = append(opts, dbsql.WithInitialNamespace(s.cfg.Catalog, s.cfg.Schema))
		}
		if s.cfg.Transport != nil {
			opts = append(opts, dbsql.WithTransport(s.cfg.Transport))
		}
		conn, err := dbsql.NewConnector(opts...)
		if err != nil {
			return nil, fmt.Errorf("databricks: %w", err)
		}
		db := sql.OpenDB(conn)
		db.SetMaxOpenConns(s.cfg.MaxConnsPerOwner)
		db.SetMaxIdleConns(s.cfg.MaxConnsPerOwner)
		p = &pool{db: db, auth: auth}
		s.pools[owner] = p
	}
	p.auth.set(cred)
	p.lastUsed = time.Now()
	return p.db, nil
}

// Query runs q with its arguments bound (positional markers) on the owner's session.
func (s *Source) Query(ctx context.Context, q datasource.Query) (*datasource.Result, error) {
	db, err := s.poolFor(q)
	if err != nil {
		return nil, err
	}
	qctx, cancel := ctx, context.CancelFunc(func() {})
	if q.Timeout > 0 {
		qctx, cancel = context.WithTimeout(ctx, q.Timeout)
	}
	defer cancel()
	rows, err := db.QueryContext(qctx, q.SQL, q.Args...)
	if err != nil {
		return nil, fmt.Errorf("databricks: query: %w", classify(ctx, qctx, err))
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("databricks: columns: %w", classify(ctx, qctx, err))
	}
	n := len(types)
	res := &datasource.Result{Columns: make([]datasource.Column, n), Rows: [][]any{}}
	for i, t := range types {
		res.Columns[i] = datasource.Column{Name: t.Name(), Type: columnType(t.DatabaseTypeName())}
	}
	targets := make([]any, n)
	vals := make([]any, n)
	for i := range targets {
		targets[i] = &vals[i]
	}
	buf := datasource.NewRowBuffer(n, q.MaxRows)
	for rows.Next() {
		if buf.Full() {
			res.Truncated = true
			break
		}
		if err := rows.Scan(targets...); err != nil {
			return nil, fmt.Errorf("databricks: scan: %w", classify(ctx, qctx, err))
		}
		row := buf.Add()
		for i := range vals {
			row[i] = convert(res.Columns[i].Type, vals[i])
		}
	}
	res.Rows = buf.Rows()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("databricks: read rows: %w", classify(ctx, qctx, err))
	}
	return res, nil
}

func columnType(db string) string {
	switch strings.ToUpper(db) {
	case "STRING", "VARCHAR", "CHAR":
		return datasource.TypeString
	case "TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT":
		return datasource.TypeInteger
	case "FLOAT", "DOUBLE":
		return datasource.TypeFloat
	case "DECIMAL":
		return datasource.TypeDecimal
	case "BOOLEAN":
		return datasource.TypeBoolean
	case "TIMESTAMP", "TIMESTAMP_NTZ":
		return datasource.TypeTimestamp
	case "DATE":
		return datasource.TypeDate
	}
	return datasource.TypeOther
}

// convert maps the driver's values onto the contract's Go types.
func convert(typ string, v any) any {
	if v == nil {
		return nil
	}
	switch typ {
	case datasource.TypeInteger:
		switch x := v.(type) {
		case int8:
			return int64(x)
		case int16:
			return int64(x)
		case int32:
			return int64(x)
		case int64:
			return x
		case int:
			return int64(x)
		}
	case datasource.TypeFloat:
		switch x := v.(type) {
		case float32:
			return float64(x)
		case float64:
			return x
		}
	case datasource.TypeDecimal:
		switch x := v.(type) {
		case string:
			return json.Number(x)
		case *big.Float:
			return json.Number(x.Text('f', -1))
		case float64:
			return json.Number(fmt.Sprint(x))
		}
	case datasource.TypeTimestamp:
		if t, ok := v.(time.Time); ok {
			return t.UTC()
		}
	case datasource.TypeDate:
		if t, ok := v.(time.Time); ok {
			return t.Format("2006-01-02")
		}
	case datasource.TypeBoolean:
		if b, ok := v.(bool); ok {
			return b
		}
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// classify maps err onto the contract's sentinel errors, keeping err as the cause.
func classify(ctx, qctx context.Context, err error) error {
	if classified, ok := datasource.ContextError(ctx, qctx, err); ok {
		return classified
	}
	var execErr dbsqlerr.DBExecutionError
	if errors.As(err, &execErr) && execErr.SqlState() != "" && !strings.HasPrefix(execErr.SqlState(), "08") {
		return fmt.Errorf("%w: %w", datasource.ErrInvalidQuery, err)
	}
	if errors.Is(err, driver.ErrBadConn) {
		return fmt.Errorf("%w: %w", datasource.ErrUnavailable, err)
	}
	// Connection, authentication (401/403 from the warehouse), and request failures.
	return fmt.Errorf("%w: %w", datasource.ErrUnavailable, err)
}

// Dialect is Databricks SQL: positional ? markers, backquoted identifiers, date_trunc.
type Dialect struct{}

func (Dialect) Name() string               { return "databricks" }
func (Dialect) Placeholder(int) string     { return "?" }
func (Dialect) QuoteIdent(n string) string { return "`" + strings.ReplaceAll(n, "`", "``") + "`" }
func (Dialect) TimeBucket(g datasource.Grain, expr string) string {
	return "date_trunc('" + strings.ToUpper(string(g)) + "', " + expr + ")"
}
