package query

// Close stops the result cache's clean-up goroutine. The engine must not be used afterwards; the
// data sources are not closed (their owner closes them).
func (e *Engine) Close() error {
	if e.cache != nil {
		e.cache.StopAllGoroutines()
	}
	return nil
}
