// Command go is a minimal RiskOS webhook receiver in plain net/http, written the way the RiskOS
// guide recommends: authenticate in constant time, bound the body, check the envelope, store the
// event durably under its event_id, acknowledge, and process it later on a worker.
//
// Configuration (environment): ADDR (default 127.0.0.1:8081), AUTH=bearer|basic, BEARER_TOKEN,
// BASIC_USER, BASIC_PASSWORD, DATA_DIR (default ./data), EFFECTS=1 to serve the test-only
// effects endpoint, NO_DEDUPE=1 for a deliberately broken variant that processes every copy,
// WORKER_DELAY (a Go duration per event, to simulate slow processing).
package main

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

const bodyLimit = 1 << 20

type event struct {
	ID   string `json:"event_id"`
	Type string `json:"event_type"`
	At   string `json:"event_at"`
}

// store is the durable part: inbox.jsonl holds every accepted event, done.log one line per
// processing. Both are append-only and replayed on start, so dedupe and pending work survive a
// restart. Writes are not fsynced: they survive a process restart, which is what a receiver
// restart is; a production receiver would use its database.
type store struct {
	mu        sync.Mutex
	inbox     *os.File
	done      *os.File
	seen      map[string]bool
	processed map[string]int
	queue     []event
	cond      *sync.Cond
	noDedupe  bool
}

func openStore(dir string, noDedupe bool) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	s := &store{seen: map[string]bool{}, processed: map[string]int{}, noDedupe: noDedupe}
	s.cond = sync.NewCond(&s.mu)
	var accepted []event
	if err := replay(filepath.Join(dir, "inbox.jsonl"), func(line []byte) {
		var e event
		if json.Unmarshal(line, &e) == nil {
			s.seen[e.ID] = true
			accepted = append(accepted, e)
		}
	}); err != nil {
		return nil, err
	}
	if err := replay(filepath.Join(dir, "done.log"), func(line []byte) { s.processed[string(line)]++ }); err != nil {
		return nil, err
	}
	// Accepted but never processed before the restart: process now, so an ack is never lost work.
	pending := map[string]int{}
	for _, e := range accepted {
		pending[e.ID]++
		if pending[e.ID] > s.processed[e.ID] {
			s.queue = append(s.queue, e)
		}
	}
	var err error
	if s.inbox, err = os.OpenFile(filepath.Join(dir, "inbox.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	if s.done, err = os.OpenFile(filepath.Join(dir, "done.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
		return nil, fmt.Errorf("done log: %w", err)
	}
	return s, nil
}

func replay(path string, line func([]byte)) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("replay %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line(sc.Bytes())
	}
	return sc.Err()
}

// accept records the event and queues it unless its event_id was seen. Holding the lock across
// the check and the append is what makes concurrent copies count once.
func (s *store) accept(e event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[e.ID] && !s.noDedupe {
		return nil
	}
	line, _ := json.Marshal(e)
	if _, err := s.inbox.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("inbox write: %w", err)
	}
	s.seen[e.ID] = true
	s.queue = append(s.queue, e)
	s.cond.Signal()
	return nil
}

func (s *store) work(delay time.Duration) {
	for {
		s.mu.Lock()
		for len(s.queue) == 0 {
			s.cond.Wait()
		}
		e := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()

		time.Sleep(delay) // the business work this example stands in for
		log.Printf("processed event_id=%s event_type=%s event_at=%s", e.ID, e.Type, e.At)

		s.mu.Lock()
		if _, err := s.done.WriteString(e.ID + "\n"); err != nil {
			log.Printf("done log write: %v", err)
		}
		s.processed[e.ID]++
		s.mu.Unlock()
	}
}

func (s *store) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.processed[id]
}

func authorized(r *http.Request) bool {
	if os.Getenv("AUTH") == "basic" {
		u, p, ok := r.BasicAuth()
		userOK := subtle.ConstantTimeCompare([]byte(u), []byte(os.Getenv("BASIC_USER")))
		passOK := subtle.ConstantTimeCompare([]byte(p), []byte(os.Getenv("BASIC_PASSWORD")))
		return ok && userOK&passOK == 1
	}
	token := os.Getenv("BEARER_TOKEN")
	got := []byte(r.Header.Get("Authorization"))
	return token != "" && subtle.ConstantTimeCompare(got, []byte("Bearer "+token)) == 1
}

func webhook(s *store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if !authorized(r) {
			scheme := "Bearer"
			if os.Getenv("AUTH") == "basic" {
				scheme = "Basic"
			}
			w.Header().Set("WWW-Authenticate", scheme+` realm="riskos"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			http.Error(w, "expected application/json", http.StatusUnsupportedMediaType)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, bodyLimit))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		e, err := parseEnvelope(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.accept(e); err != nil {
			log.Print(err)
			// Retryable: RiskOS will deliver again once storage is back.
			w.Header().Set("Retry-After", "1")
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"received":true}`)
	}
}

// parseEnvelope accepts exactly one JSON object whose event_id and event_type are non-empty
// strings; anything else in the body is the business logic's concern, so unknown fields pass.
func parseEnvelope(body []byte) (event, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return event{}, errors.New("body is not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return event{}, errors.New("trailing data after the JSON object")
	}
	var e event
	for name, dst := range map[string]*string{"event_id": &e.ID, "event_type": &e.Type} {
		if json.Unmarshal(raw[name], dst) != nil || *dst == "" {
			return event{}, fmt.Errorf("%s must be a non-empty string", name)
		}
	}
	_ = json.Unmarshal(raw["event_at"], &e.At)
	return e, nil
}

func effects(s *store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("event_id")
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"event_id": id, "count": s.count(id)})
	}
}

func main() {
	delay, err := time.ParseDuration(envOr("WORKER_DELAY", "0s"))
	if err != nil {
		log.Fatalf("WORKER_DELAY: %v", err)
	}
	s, err := openStore(envOr("DATA_DIR", "data"), os.Getenv("NO_DEDUPE") == "1")
	if err != nil {
		log.Fatal(err)
	}
	go s.work(delay)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/riskos", webhook(s))
	if os.Getenv("EFFECTS") == "1" {
		mux.Handle("GET /_hookproof/effects", effects(s))
	}
	srv := &http.Server{
		Addr:              envOr("ADDR", "127.0.0.1:8081"),
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	log.Printf("listening on %s", srv.Addr)
	log.Fatal(srv.ListenAndServe())
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
