// Package watch calls a function when files in a set of folders change, once per burst of
// changes (an editor's save is often several events: a temporary file, a rename, a chmod).
package watch

import (
	"context"
	"fmt"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Dirs watches the folders (not their subfolders) until ctx ends, and calls onChange after each
// burst of changes, once no event has come for quiet. onChange runs on Dirs's goroutine, so two
// calls never overlap. Dirs returns once the folders are watched; a folder that cannot be
// watched is an error.
func Dirs(ctx context.Context, dirs []string, quiet time.Duration, onChange func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			_ = w.Close()
			return fmt.Errorf("watch %s: %w", d, err)
		}
	}
	go func() {
		defer w.Close()
		timer := time.NewTimer(quiet)
		timer.Stop()
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case _, ok := <-w.Events:
				if !ok {
					return
				}
				timer.Reset(quiet)
			case _, ok := <-w.Errors:
				if !ok {
					return
				}
				timer.Reset(quiet) // events may have been lost: check again
			case <-timer.C:
				onChange()
			}
		}
	}()
	return nil
}
