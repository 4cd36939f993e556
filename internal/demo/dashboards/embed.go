// Package dashboards holds the sample dashboards that `inlay demo` serves over the generated
// sales table: sales.yaml (the one the demo host embeds; each viewer sees the department in the
// token's external value) and operations.yaml (structured row-level security rules).
package dashboards

import "embed"

// FS holds the sample dashboard files at its root; load them with dashboard.LoadFS(FS, ".").
//
//go:embed *.yaml *.sql
var FS embed.FS
