package config

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// checkPostgresDSN checks the shape of a PostgreSQL connection string without echoing it (it
// may hold a password): a postgres:// URL or libpq key=value pairs.
func checkPostgresDSN(dsn string) error {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return errors.New("is not a valid URL")
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return errors.New("must be a postgres:// URL or key=value pairs")
		}
		return nil
	}
	if !strings.Contains(dsn, "=") {
		return errors.New("must be a postgres:// URL or key=value pairs")
	}
	return nil
}

// checkRedisURL checks a redis:// or rediss:// URL with a host and at most a database number as
// its path, without echoing it (it may hold a password).
func checkRedisURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return errors.New("must be a redis:// or rediss:// URL")
	}
	if u.Host == "" {
		return errors.New("must name a host (redis://host:port/db)")
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return errors.New("path must be a database number (redis://host:port/3)")
		}
	}
	return nil
}
