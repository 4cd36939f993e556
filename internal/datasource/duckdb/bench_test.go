package duckdb

import (
	"testing"

	"github.com/inlay/inlay/internal/datasource"
)

// BenchmarkGroupBy measures one dashboard-style aggregate over a 10M-row table:
// go test -run '^$' -bench GroupBy ./internal/datasource/duckdb/
// Building the table takes a few seconds, so it happens only when benchmarks run.
func BenchmarkGroupBy(b *testing.B) {
	s, err := Open(b.Context(), Config{InitSQL: []string{`CREATE TABLE sales AS SELECT
		range AS id,
		['north', 'south', 'east', 'west'][range % 4 + 1] AS region,
		['toys', 'books', 'garden', 'food', 'tools'][range % 5 + 1] AS department,
		CAST((range % 10000) / 100.0 AS DECIMAL(10,2)) AS amount,
		TIMESTAMP '2024-01-01' + INTERVAL (range % 63072000) SECOND AS ts
		FROM range(10000000)`}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	q := datasource.Query{
		SQL:  "SELECT region, SUM(amount) AS total, COUNT(*) AS n FROM sales WHERE department = ? GROUP BY region ORDER BY region",
		Args: []any{"books"},
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := s.Query(b.Context(), q)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Rows) != 4 {
			b.Fatalf("rows %v", res.Rows)
		}
	}
}
