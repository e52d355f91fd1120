package receiver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
)

// effects stands for the business side effects: how many times each
// event_id was processed. It outlives a Receiver across Server.Restart, as
// a database would outlive the process, and with an effects file it is
// also read back at start.
type effects struct {
	mu     sync.Mutex
	counts map[string]int
	total  int
	file   *os.File
}

func newEffects(path string) (*effects, error) {
	e := &effects{counts: map[string]int{}}
	if path == "" {
		return e, nil
	}
	f, err := openLog(path, 0o644, func(id string) {
		e.counts[id]++
		e.total++
	})
	if err != nil {
		return nil, fmt.Errorf("receiver: effects_file: %w", err)
	}
	e.file = f
	return e, nil
}

// record counts one processing of id and appends it to the effects file.
func (e *effects) record(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts[id]++
	e.total++
	if e.file == nil {
		return nil
	}
	// The envelope check refuses control characters in event_id, so an id
	// is always exactly one line here.
	_, err := e.file.WriteString(id + "\n")
	return err
}

func (e *effects) count(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[id]
}

func (e *effects) processed() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.total
}

func (e *effects) close() error {
	if e.file == nil {
		return nil
	}
	return errors.Join(e.file.Sync(), e.file.Close())
}

// effectsResponse is the body of GET /_hookproof/effects?event_id=ID.
type effectsResponse struct {
	EventID string `json:"event_id"`
	Count   int    `json:"count"`
}

// serveEffects answers the probe. It takes no credentials: it is a
// test-mode observer that reveals counts only, never event contents.
func (e *effects) serveEffects(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	id := r.URL.Query().Get("event_id")
	if strings.TrimSpace(id) == "" {
		writeError(w, http.StatusBadRequest, "event_id query parameter is required")
		return
	}
	writeJSON(w, http.StatusOK, effectsResponse{EventID: id, Count: e.count(id)})
}

// writeJSON answers status with v as the JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// errorBody is every error answer: a short, fixed phrase, never a stack.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}
