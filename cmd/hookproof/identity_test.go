package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// idRecorder passes requests to a receiver and remembers the event_id of
// every delivery body, accepted or not.
type idRecorder struct {
	next http.Handler
	mu   sync.Mutex
	ids  map[string]bool
}

func (r *idRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != receiver.EffectsPath && req.Body != nil {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 2<<20))
		var env struct {
			EventID any `json:"event_id"`
		}
		if json.Unmarshal(body, &env) == nil {
			if id, ok := env.EventID.(string); ok && id != "" {
				r.mu.Lock()
				r.ids[id] = true
				r.mu.Unlock()
			}
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.next.ServeHTTP(w, req)
}

// take returns the ids seen since the last call.
func (r *idRecorder) take() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := r.ids
	r.ids = map[string]bool{}
	return ids
}

// Two runs with the same --seed against one persistent receiver (its dedupe
// state and effects outlive the runs, as a staging receiver's do) share no
// event_id, so the second run is judged on its own deliveries and reaches
// the same verdict: the seed fixes content and order, not identity.
func TestSameSeedTwiceAgainstAPersistentReceiverSharesNoEventID(t *testing.T) {
	const token = "identity-test-token"
	dir := t.TempDir()
	rx, err := receiver.New(receiver.Options{
		Auth:        harness.AuthConfig{Type: harness.AuthBearer, BearerToken: token},
		StateFile:   filepath.Join(dir, "dedupe.state"),
		EffectsFile: filepath.Join(dir, "effects.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rx.Close)
	rec := &idRecorder{next: rx, ids: map[string]bool{}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)

	certify := func() (*reports.Report, map[string]bool) {
		t.Helper()
		out := t.TempDir()
		stdout, stderr, code := cli(t, "certify", "--target", srv.URL+receiver.DefaultPath,
			"--auth", "bearer", "--bearer-token", token, "--effects-url", srv.URL+receiver.EffectsPath,
			"--seed", "7", "--label-filter", "!load", "--report-dir", out, "--color", "never")
		if code != exitOK {
			t.Fatalf("certify exit %d\n%s%s", code, stdout, stderr)
		}
		rep, err := reports.Read(filepath.Join(out, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		return rep, rec.take()
	}
	first, firstIDs := certify()
	second, secondIDs := certify()

	if len(firstIDs) < 50 || len(secondIDs) < 50 {
		t.Fatalf("the runs delivered %d and %d event_ids; want dozens each", len(firstIDs), len(secondIDs))
	}
	var shared []string
	for id := range secondIDs {
		if firstIDs[id] {
			shared = append(shared, id)
		}
	}
	if len(shared) > 0 {
		t.Errorf("%d event_ids of the first run were sent again by the second, e.g. %s", len(shared), shared[0])
	}
	if first.Verdict != second.Verdict {
		t.Errorf("verdicts %s then %s; want the same", first.Verdict, second.Verdict)
	}
	for i, r := range first.Requirements {
		if s := second.Requirements[i]; s.ID != r.ID || s.Status != r.Status {
			t.Errorf("%s: %s then %s %s (%s)", r.ID, r.Status, s.ID, s.Status, s.Reason)
		}
	}
}
