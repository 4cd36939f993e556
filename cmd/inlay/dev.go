package main

import "context"

func runDev(ctx context.Context, e *env, args []string) error { return errUsage }
