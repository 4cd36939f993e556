package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestServerDoesNotLinkTestHelpers: the inlay binary (serve) links neither net/http/httptest nor
// the testing package; the benchmark that uses them is built only with -tags bench.
func TestServerDoesNotLinkTestHelpers(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/inlay/inlay/cmd/inlay").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "net/http/httptest" || pkg == "testing" {
			t.Errorf("cmd/inlay links %s", pkg)
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
