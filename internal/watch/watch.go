// Package watch calls a function when files in a set of folders change, once per burst of
// changes (an editor's save is often several events: a temporary file, a rename, a chmod).
package watch

import (
	"context"
	"fmt"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher watches folders (not their subfolders).
type Watcher struct {
	w *fsnotify.Watcher
}

// New starts watching dirs; a folder that cannot be watched is an error. Run (or Close) must
// follow.
func New(dirs []string) (*Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			_ = w.Close()
			return nil, fmt.Errorf("watch %s: %w", d, err)
		}
	}
	return &Watcher{w: w}, nil
}

// Close stops watching.
func (w *Watcher) Close() error { return w.w.Close() }

// Run calls onChange after each burst of changes, once no event has come for quiet, until ctx
// ends; then it stops watching. onChange runs on Run's goroutine, so two calls never overlap.
func (w *Watcher) Run(ctx context.Context, quiet time.Duration, onChange func()) error {
	defer w.w.Close()
	timer := time.NewTimer(quiet)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-w.w.Events:
			if !ok {
				return nil
			}
			timer.Reset(quiet)
		case err, ok := <-w.w.Errors:
			if !ok {
				return nil
			}
			_ = err
			timer.Reset(quiet) // events may have been lost: check again
		case <-timer.C:
			onChange()
		}
	}
}
