package watch

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestChangesCallOnChange: several writes in a row (an editor's save) call onChange once the folder
// is quiet; a folder that does not exist is an error.
func TestChangesCallOnChange(t *testing.T) {
	dir := t.TempDir()
	w, err := New([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	changed := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() {
		done <- w.Run(t.Context(), 200*time.Millisecond, func() { calls.Add(1); changed <- struct{}{} })
	}()
	path := filepath.Join(dir, "d.yaml")
	for i := range 5 {
		if err := os.WriteFile(path+".tmp", []byte{byte(i)}, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-changed:
	case <-time.After(30 * time.Second):
		t.Fatal("no call after the writes")
	}
	if calls.Load() < 1 {
		t.Fatal("onChange was not called")
	}

	if _, err := New([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("watching a missing folder did not fail")
	}
}
