package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStatePostgresAndRedisCache(t *testing.T) {
	dir := writeProject(t, "state:\n  driver: postgres\n  dsn: {env: STATE_DSN}\n  max_conns: 8\ncache:\n  redis: {file: redis.url}\n")
	if err := os.WriteFile(filepath.Join(dir, "redis.url"), []byte("redis://:pw@127.0.0.1:6379/5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir, env(map[string]string{"STATE_DSN": "postgres://inlay:s3cret@db:5432/inlay"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.State.Driver != StatePostgres || c.State.DSN.Reveal() != "postgres://inlay:s3cret@db:5432/inlay" || c.State.MaxConns != 8 {
		t.Fatalf("state = %+v", c.State)
	}
	if c.Cache.Redis.Reveal() != "redis://:pw@127.0.0.1:6379/5" {
		t.Fatalf("cache.redis = %q", c.Cache.Redis.Reveal())
	}
}

func TestStateEnvOverrides(t *testing.T) {
	c, err := Load(writeProject(t, ""), env(map[string]string{
		"INLAY_STATE_DRIVER": "postgres",
		"INLAY_STATE_DSN":    "host=db user=inlay",
		"INLAY_CACHE_REDIS":  "redis://127.0.0.1:6379/2",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.State.Driver != StatePostgres || c.State.DSN.Reveal() != "host=db user=inlay" || c.Cache.Redis.Reveal() != "redis://127.0.0.1:6379/2" {
		t.Fatalf("state %+v cache %+v", c.State, c.Cache)
	}
}

// Bad state and cache values are reported at their key, and never echo the secret.
func TestBadStateAndCache(t *testing.T) {
	tests := []struct {
		name, yaml, key, message string
	}{
		{"postgres without dsn", "state:\n  driver: postgres\n", "state.dsn", "required"},
		{"postgres dsn not a url", "state:\n  driver: postgres\n  dsn: mysql://u:hunter2@db/x\n", "state.dsn", "postgres://"},
		{"dsn for sqlite", "state:\n  dsn: postgres://u:hunter2@db/x\n", "state.dsn", `for driver "postgres"`},
		{"negative max_conns", "state:\n  driver: memory\n  max_conns: -2\n", "state.max_conns", "negative"},
		{"redis wrong scheme", "cache:\n  redis: http://u:hunter2@127.0.0.1:6379\n", "cache.redis", "redis://"},
		{"redis bad db", "cache:\n  redis: redis://:hunter2@127.0.0.1:6379/x\n", "cache.redis", "database number"},
		{"redis no host", "cache:\n  redis: redis://\n", "cache.redis", "host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeProject(t, tt.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			ps := problemsOf(t, c.Validate())
			if len(ps) != 1 || ps[0].Key != tt.key || !strings.Contains(ps[0].Message, tt.message) {
				t.Fatalf("problems %v; want one at %s containing %q", ps, tt.key, tt.message)
			}
			if strings.Contains(ps[0].Error(), "hunter2") {
				t.Fatalf("problem reveals the secret: %v", ps[0])
			}
		})
	}
}
