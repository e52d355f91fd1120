package load

import (
	"time"

	"github.com/hookproof/hookproof/harness"
)

// defaultSource is the event source used when Options.NewSource is nil:
// harness's seeded generator of schema-valid events. The seed fixes the
// content; each generator draws a fresh run nonce for its event_ids, so a
// rerun with the same --seed (or a source the pool recreates) never repeats
// an event_id a receiver has already seen.
func defaultSource(seed int64) EventSource { return harness.NewLiveGenerator(seed, time.Now) }
