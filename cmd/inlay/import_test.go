package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportDatabricks converts a real export into a project's dashboards folder: the command
// lists what it could not convert, `inlay check` passes on the project, and a second import does
// not overwrite the file unless asked.
func TestImportDatabricks(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "inlay.yaml"), "data_sources:\n  default: {type: duckdb}\n")
	fixture, err := filepath.Abs(filepath.Join("..", "..", "internal", "lvdash", "testdata", "nyc_taxi_trip_analysis.lvdash.json"))
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(string) string { return "" }
	out := filepath.Join(dir, "dashboards")
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"import", "databricks", fixture, "--out", out}, getenv, &stdout, &stderr); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{
		"wrote " + filepath.Join(out, "nyc_taxi_trip_analysis.yaml"),
		`widget "Daily Fare Trends by Day of Week" (page "Summary"): scatter widgets have no Inlay equivalent`,
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("import printed:\n%s\nwant it to say %q", stdout.String(), want)
		}
	}
	text, err := os.ReadFile(filepath.Join(out, "nyc_taxi_trip_analysis.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "scatter widgets have no Inlay equivalent") {
		t.Error("the written file does not list what was not converted")
	}

	stdout.Reset()
	if err := run(t.Context(), []string{"check", "--project", dir}, getenv, &stdout, &stderr); err != nil {
		t.Fatalf("check after import: %v\n%s", err, stderr.String())
	}

	err = run(t.Context(), []string{"import", "databricks", fixture, "--out", out}, getenv, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second import = %v, want a refusal naming --force", err)
	}
	if err := run(t.Context(), []string{"import", "databricks", "--force", "--out", out, fixture}, getenv, &stdout, &stderr); err != nil {
		t.Errorf("import --force: %v", err)
	}
	bad := filepath.Join(dir, "bad.lvdash.json")
	write(t, bad, "{}")
	if err := run(t.Context(), []string{"import", "databricks", bad, "--out", out}, getenv, &stdout, &stderr); err == nil {
		t.Error("an empty export was accepted")
	}
}
