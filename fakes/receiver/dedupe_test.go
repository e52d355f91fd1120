package receiver

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// burst sends copies of each id's event concurrently, every request
// released by one barrier, each on its own connection, and returns the
// statuses per id.
func burst(t *testing.T, s *Server, ids []string, copies int) map[string][]int {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: testTimeout}
	auth := goodAuth(s.Receiver().opts)
	release := make(chan struct{})
	var ready, done sync.WaitGroup
	var mu sync.Mutex
	statuses := map[string][]int{}
	for _, id := range ids {
		for range copies {
			ready.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.WebhookURL(), bytes.NewReader(validEvent(id)))
				req.Header.Set("Content-Type", "application/json")
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				ready.Done()
				<-release
				status := 0
				if resp, err := client.Do(req); err == nil {
					status = resp.StatusCode
					resp.Body.Close()
				}
				mu.Lock()
				statuses[id] = append(statuses[id], status)
				mu.Unlock()
			}()
		}
	}
	ready.Wait()
	close(release)
	done.Wait()
	return statuses
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = newID()
	}
	return out
}

func TestConcurrentDuplicatesAreProcessedExactlyOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t, authOptions(harness.AuthBearer))
	for round, copies := range []int{8, 16, 32} {
		list := ids(24 / (round + 1))
		for id, st := range burst(t, s, list, copies) {
			for _, code := range st {
				if code != http.StatusOK {
					t.Errorf("burst of %d: %s got status %d; want 200 for every copy", copies, id, code)
				}
			}
			if n := probeCount(t, s, id); n != 1 {
				t.Errorf("burst of %d: %s processed %d times; want 1", copies, id, n)
			}
		}
	}
}

func TestRacyDedupeProcessesConcurrentCopiesMoreThanOnce(t *testing.T) {
	t.Parallel()
	o := authOptions(harness.AuthNone)
	o.Faults = []Fault{FaultRacyDedupe}
	s := startServer(t, o)
	list := ids(8)
	burst(t, s, list, 8)
	most := 0
	for _, id := range list {
		most = max(most, probeCount(t, s, id))
	}
	if most < 2 {
		t.Fatalf("racy-dedupe: every event processed at most %d times; want more than once for some", most)
	}
	// Sequential duplicates are still caught: the race needs concurrency.
	id := newID()
	deliver(t, s, validEvent(id))
	deliver(t, s, validEvent(id))
	if n := probeCount(t, s, id); n != 1 {
		t.Errorf("racy-dedupe sequential duplicate processed %d times; want 1", n)
	}
}

func TestStateFileKeepsDedupeAcrossRestart(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		faults []Fault
		state  bool
		want   int
	}{
		{"state file", nil, true, 1},
		{"forget-on-restart", []Fault{FaultForgetOnRestart}, true, 2},
		{"no state file", nil, false, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := authOptions(harness.AuthBasic)
			o.Faults = c.faults
			if c.state {
				o.StateFile = filepath.Join(t.TempDir(), "seen.log")
			}
			s := startServer(t, o)
			odd := newID()
			if r := deliver(t, s, validEvent(odd)); r.status != http.StatusOK {
				t.Fatalf("first delivery = %d", r.status)
			}
			if err := s.Restart(); err != nil {
				t.Fatalf("Restart: %v", err)
			}
			// Kept-alive connections died with the old receiver, as they
			// would with a restarted process.
			testClient.CloseIdleConnections()
			if r := deliver(t, s, validEvent(odd)); r.status != http.StatusOK {
				t.Fatalf("redelivery after restart = %d; want 200", r.status)
			}
			if n := probeCount(t, s, odd); n != c.want {
				t.Errorf("processed %d times across a restart; want %d", n, c.want)
			}
		})
	}
}

func TestStateFileIgnoresATornLastLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "seen.log")
	if err := os.WriteFile(path, []byte("\"a\"\n\"b\\nc\"\n\"tor"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := newDedupe(path, 0, time.Now)
	if err != nil {
		t.Fatalf("newDedupe: %v", err)
	}
	defer d.close()
	for id, want := range map[string]bool{"a": true, "b\nc": true, "tor": false, "\"tor": false} {
		if got := d.contains(id); got != want {
			t.Errorf("contains(%q) = %v; want %v", id, got, want)
		}
	}
}
