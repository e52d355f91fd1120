package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hookproof/hookproof/reports"
)

// slowQueueReceiver acks at once and processes on one worker, in arrival
// order, each event taking delay: the shape of many real receivers. With
// broken set it queues every POST before checking credentials and never
// deduplicates; its extra processings land long after the acks.
func slowQueueReceiver(t *testing.T, delay time.Duration, broken bool) string {
	t.Helper()
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		seen   = map[string]bool{}
		queue  = make(chan string, 1024)
		done   = make(chan struct{})
	)
	go func() {
		tick := time.NewTicker(delay) // the simulated work's pace
		defer tick.Stop()
		for {
			select {
			case id := <-queue:
				select {
				case <-tick.C:
				case <-done:
					return
				}
				mu.Lock()
				counts[id]++
				mu.Unlock()
			case <-done:
				return
			}
		}
	}()
	idRe := regexp.MustCompile(`"event_id"\s*:\s*"([^"]+)"`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/effects" {
			mu.Lock()
			n := counts[r.URL.Query().Get("event_id")]
			mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"event_id": r.URL.Query().Get("event_id"), "count": n})
			return
		}
		var body [1 << 16]byte
		nr, _ := r.Body.Read(body[:])
		m := idRe.FindSubmatch(body[:nr])
		authed := r.Header.Get("Authorization") == "Bearer "+hostileToken
		if m != nil && (broken || authed) {
			id := string(m[1])
			mu.Lock()
			dup := seen[id] && !broken
			seen[id] = true
			mu.Unlock()
			if !dup {
				queue <- id
			}
		}
		if !authed {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL
}

// Effects that land late are still seen: the settling event is a barrier
// for receivers that process in order, so a slow but broken receiver fails
// IDEM-02 and AUTH-06, and a slow correct one passes them.
func TestLateEffectsAreSeen(t *testing.T) {
	for _, tc := range []struct {
		broken bool
		want   string
	}{{false, reports.StatusPassed}, {true, reports.StatusFailed}} {
		t.Run(fmt.Sprintf("broken=%v", tc.broken), func(t *testing.T) {
			url := slowQueueReceiver(t, 150*time.Millisecond, tc.broken)
			rep, out, _ := certifyHostile(t, url+"/webhook", "--effects-url", url+"/effects",
				"--label-filter", "req:IDEM-02 || req:AUTH-01 || req:AUTH-06", "--settle", "20s")
			for _, id := range []string{"IDEM-02", "AUTH-06"} {
				if r := requirement(t, rep, id); r.Status != tc.want {
					t.Errorf("%s is %s (%s); want %s\n%s", id, r.Status, r.Reason, tc.want, out)
				}
			}
		})
	}
}
