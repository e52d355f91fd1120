package load

import (
	"time"

	"github.com/hookproof/hookproof/harness"
)

// defaultSource is the event source used when Options.NewSource is nil:
// harness's seeded generator of schema-valid events.
func defaultSource(seed int64) EventSource { return harness.NewLiveGenerator(seed, time.Now) }
