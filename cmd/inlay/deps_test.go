package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestServerDoesNotLinkTestHelpers: no package of Inlay's in the inlay binary (serve) imports
// net/http/httptest or testing; the benchmark that uses them is built only with -tags bench.
// (The Databricks SQL driver and its Thrift library import them in their own non-test files;
// that is theirs, so only Inlay's packages are checked.)
func TestServerDoesNotLinkTestHelpers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "-deps", "github.com/inlay/inlay/cmd/inlay").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "github.com/inlay/inlay/") {
			continue
		}
		for _, imp := range fields[1:] {
			if imp == "net/http/httptest" || imp == "testing" {
				t.Errorf("%s imports %s", fields[0], imp)
			}
		}
	}
	out, err = exec.Command("go", "list", "-tags", "bench", "-deps", "github.com/inlay/inlay/cmd/inlay").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -tags bench: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "net/http/httptest") {
		t.Error("with -tags bench the benchmark (which serves over httptest) is not built")
	}
}
