//go:build !bench

package main

import (
	"context"
	"errors"
)

// runBench without the bench build tag: the benchmark is not linked into the server binary.
func runBench(context.Context, *env, []string) error {
	return errors.New("this binary is built without the benchmark: run `make bench` (go run -tags bench ./cmd/inlay bench)")
}
