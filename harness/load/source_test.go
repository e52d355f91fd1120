package load

import (
	"bytes"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// sourceBodies makes n bodies from the k-th source a targeter built for o
// would create, with each body's event_id cut out, and the ids.
//
// The source is defaultSource with its clock stopped at at: live timestamps
// (event_at and the data times derived from it) would differ when two calls
// straddle a second, which is not content the seed is meant to fix. Callers
// comparing two calls pass them one instant.
func sourceBodies(o Options, at time.Time, k, n int) (bodies [][]byte, ids []string) {
	stopped := func(seed int64) EventSource { return harness.NewLiveGenerator(seed, func() time.Time { return at }) }
	tr := newTargeter("http://127.0.0.1:1/hook", harness.EventTypeNames(), 0, 1, runSeed(o), stopped)
	var st *sourceState
	for range k + 1 {
		st = tr.pool.New().(*sourceState)
	}
	for i := range n {
		body := st.src.AppendEvent(nil, tr.types[i%len(tr.types)])
		id := eventIDOf(body)
		ids = append(ids, id)
		bodies = append(bodies, bytes.Replace(body, []byte(id), nil, 1))
	}
	return bodies, ids
}

func stripAt(b []byte) []byte {
	i := bytes.Index(b, []byte(`"event_at":"`))
	j := i + len(`"event_at":"`) + bytes.IndexByte(b[i+len(`"event_at":"`):], '"')
	return append(append([]byte(nil), b[:i]...), b[j:]...)
}

// Load content is a function of (seed, shard); event_ids are fresh per run
// and disjoint between shards.
func TestLoadContentFollowsSeedIdentityFollowsRun(t *testing.T) {
	t.Parallel()
	const n = 300
	base := Options{Seed: 7, Shard: Shard{I: 0, N: 2}}
	other := Options{Seed: 7, Shard: Shard{I: 1, N: 2}}
	if runSeed(base) != runSeed(base) {
		t.Fatal("runSeed is not a function of seed and shard")
	}
	if runSeed(base) == runSeed(other) || runSeed(base) == runSeed(Options{Seed: 8, Shard: base.Shard}) {
		t.Fatal("runSeed gives two shards or two seeds one generator seed")
	}
	seen := map[string]string{}
	record := func(run string, ids []string) {
		for _, id := range ids {
			if prev, ok := seen[id]; ok {
				t.Fatalf("event_id %s sent by %s and %s", id, prev, run)
			}
			seen[id] = run
		}
	}
	at := time.Now()
	for k := range 3 { // the first sources a run creates, and ones the pool recreates
		first, ids1 := sourceBodies(base, at, k, n)
		again, ids2 := sourceBodies(base, at, k, n)
		shard1, ids3 := sourceBodies(other, at, k, n)
		record("run 1", ids1)
		record("run 2", ids2)
		record("shard 1", ids3)
		for i := range n {
			// event_at is live; everything else must replay.
			if !bytes.Equal(stripAt(first[i]), stripAt(again[i])) {
				t.Fatalf("source %d event %d: same seed and shard, different content:\n%s\n%s", k, i, first[i], again[i])
			}
		}
		if bytes.Equal(stripAt(first[0]), stripAt(shard1[0])) {
			t.Errorf("source %d: shards 0 and 1 made the same first event", k)
		}
	}
}
