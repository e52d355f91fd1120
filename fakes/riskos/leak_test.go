package riskos

import (
	"testing"

	"go.uber.org/goleak"
)

// Servers, workers and bursts in this package start goroutines; every test
// must leave none behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
