package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const valid = `{"event_id":"e1","event_type":"evaluation_completed","event_at":"2024-05-01T10:00:00Z","data":{}}`

func TestWebhookAnswers(t *testing.T) {
	t.Setenv("AUTH", "bearer")
	t.Setenv("BEARER_TOKEN", "tok")
	s, err := openStore(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webhook(s))
	defer srv.Close()

	for _, tc := range []struct {
		name, method, auth, ctype, body string
		want                            int
	}{
		{"valid event", "POST", "Bearer tok", "application/json", valid, 200},
		{"content-type parameters and case", "POST", "Bearer tok", "Application/JSON; charset=utf-8", valid, 200},
		{"unknown fields and event type", "POST", "Bearer tok", "application/json", `{"event_id":"e2","event_type":"x.new","extra":[1]}`, 200},
		{"GET", "GET", "Bearer tok", "", "", 405},
		{"no credentials", "POST", "", "application/json", valid, 401},
		{"token prefix", "POST", "Bearer to", "application/json", valid, 401},
		{"token with suffix", "POST", "Bearer tokk", "application/json", valid, 401},
		{"text/plain", "POST", "Bearer tok", "text/plain", valid, 415},
		{"over 1 MiB", "POST", "Bearer tok", "application/json", `{"event_id":"e3","event_type":"x","pad":"` + strings.Repeat("a", 1<<20) + `"}`, 413},
		{"truncated JSON", "POST", "Bearer tok", "application/json", `{"event_id":`, 400},
		{"trailing data", "POST", "Bearer tok", "application/json", valid + `x`, 400},
		{"array", "POST", "Bearer tok", "application/json", `[1]`, 400},
		{"numeric event_id", "POST", "Bearer tok", "application/json", `{"event_id":1,"event_type":"x"}`, 400},
		{"empty event_type", "POST", "Bearer tok", "application/json", `{"event_id":"e4","event_type":""}`, 400},
		{"empty body", "POST", "Bearer tok", "application/json", ``, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s: status %d; want %d", tc.name, resp.StatusCode, tc.want)
			}
		})
	}
}

// Concurrent copies queue the event once, and a restarted store (a new process) both remembers
// the event_id and still owes the processing it acknowledged.
func TestDedupeConcurrentAndAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := openStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := s.accept(event{ID: "e1", Type: "x"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(s.queue) != 1 {
		t.Fatalf("8 concurrent copies queued %d times; want 1", len(s.queue))
	}

	again, err := openStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if !again.seen["e1"] || len(again.queue) != 1 {
		t.Fatalf("after restart: seen=%v queued=%d; want seen and 1 queued (acknowledged, not yet processed)", again.seen["e1"], len(again.queue))
	}
	if err := again.accept(event{ID: "e1", Type: "x"}); err != nil {
		t.Fatal(err)
	}
	if len(again.queue) != 1 {
		t.Fatalf("a copy after restart was queued again: %d queued; want 1", len(again.queue))
	}
}

func TestNoDedupeQueuesEveryCopy(t *testing.T) {
	s, err := openStore(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.accept(event{ID: "e1", Type: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.queue) != 3 {
		t.Fatalf("NO_DEDUPE queued %d copies; want 3", len(s.queue))
	}
}
