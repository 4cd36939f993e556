// Package dashboards holds the sample dashboards that `inlay demo` serves over the generated
// sales table: sales.yaml (the one the demo host embeds; each viewer sees the department in the
// token's external value), operations.yaml (structured row-level security rules) and overview.yaml
// (pages, text tiles and compared counters).
package dashboards

import "embed"

// FS holds the sample dashboard files at its root; load them with dashboard.LoadFS(FS, ".").
//
//go:embed *.yaml *.sql
var FS embed.FS
