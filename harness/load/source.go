package load

// defaultSource is harness.NewGenerator.
func defaultSource(seed int64) EventSource { panic(errNoSource) }
