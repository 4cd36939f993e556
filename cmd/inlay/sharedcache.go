package main

import (
	"log/slog"

	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/rcache"
	"github.com/inlay/inlay/internal/secret"
)

// openSharedCache returns the Redis result cache when cache.redis is configured (nil, nil
// otherwise). It does not connect: Redis being down only means the in-process cache alone.
func openSharedCache(cfg *config.Config, keys *secret.Keys, logger *slog.Logger) (*rcache.Cache, error) {
	if !cfg.Cache.Redis.IsSet() || cfg.Query.CacheTTL <= 0 {
		return nil, nil
	}
	maxBytes := config.Default(".").Query.CacheMaxBytes
	if cfg.Query.CacheMaxBytes > 0 {
		maxBytes = cfg.Query.CacheMaxBytes
	}
	return rcache.New(cfg.Cache.Redis.Reveal(), keys, rcache.Options{
		TTL: cfg.Query.CacheTTL,
		// One entry may take at most a sixteenth of the cache's byte bound, as in-process.
		MaxEntryBytes: int(min(maxBytes/16, 1<<30)),
		Logger:        logger,
	})
}
