package duckdb

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// sandbox turns external access off once InitSQL has run: from then on SQL can read files only
// under dirs (DuckDB's allowed_directories, which DuckDB also lets SQL write to), cannot reach
// the network, install or load
// extensions, attach databases or write files, and cannot change any setting back
// (lock_configuration). The session time zone is set globally first, because a locked
// configuration refuses the per-connection SET.
func (s *Source) sandbox(ctx context.Context, dirs []string, searchDir string) error {
	stmts := []string{"SET GLOBAL TimeZone = 'UTC'"}
	if searchDir != "" {
		stmts = append(stmts, "SET GLOBAL file_search_path = "+quoteLiteral(searchDir))
	}
	if len(dirs) > 0 {
		var quoted []string
		for _, d := range dirs {
			abs, err := filepath.Abs(d)
			if err != nil {
				return fmt.Errorf("duckdb: allowed directory %q: %w", d, err)
			}
			// DuckDB matches a directory as a prefix of the path; the trailing separator keeps
			// /data from allowing /data-private.
			quoted = append(quoted, quoteLiteral(strings.TrimSuffix(abs, string(filepath.Separator))+string(filepath.Separator)))
			// A relative name in SQL (read_parquet('orders/*.parquet')) is checked both as
			// written and as resolved through file_search_path, so a folder under searchDir is
			// allowed in its relative spelling too. DuckDB refuses ".." escapes from it.
			if searchDir != "" {
				if rel, err := filepath.Rel(searchDir, abs); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
					quoted = append(quoted, quoteLiteral(filepath.ToSlash(rel)+"/"))
				}
			}
		}
		stmts = append(stmts, "SET allowed_directories = ["+strings.Join(quoted, ", ")+"]")
	}
	stmts = append(stmts,
		"SET enable_external_access = false",
		"SET autoload_known_extensions = false",
		"SET autoinstall_known_extensions = false",
		"SET lock_configuration = true",
	)
	for _, stmt := range stmts {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("duckdb: sandbox %q: %w", stmt, err)
		}
	}
	s.locked.Store(true)
	return nil
}
