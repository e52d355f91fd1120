package capture

import (
	"testing"

	"go.uber.org/goleak"
)

// The capture server starts a serve goroutine per Start and one per
// connection; every test must leave none behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
