package capture

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookproof/hookproof/internal/lifecycletest"
)

const validEvent = `{"event_id":"3b31289c-2d4a-4107-80bc-dda63031d5a0","event_type":"evaluation_completed","event_at":"2025-07-17T01:20:01Z","data":{}}`

// Any body a sender puts on the wire is acknowledged with 200 and a JSON
// answer, is recorded, and is never judged valid unless it is JSON.
func FuzzHandlerBody(f *testing.F) {
	f.Add([]byte(validEvent))
	f.Add([]byte(validEvent + "x"))
	f.Add([]byte(`{"event_id":1}`))
	f.Add([]byte("{\"a\":\"\xc3\x28\"}"))
	f.Add([]byte(strings.Repeat("[", 5000)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		h := &Handler{MaxBody: 4096}
		req := httptest.NewRequest(http.MethodPost, "/hook?access_token=s3cr3t-q", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer s3cr3t-h")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d; want 200", rec.Code)
		}
		var ans struct {
			Received bool `json:"received"`
			Valid    bool `json:"valid"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || !ans.Received {
			t.Fatalf("answer %q: %v", rec.Body.String(), err)
		}
		cs := h.Captures()
		if len(cs) != 1 {
			t.Fatalf("%d captures; want 1", len(cs))
		}
		c := cs[0]
		if ans.Valid != (c.Invalid == nil) {
			t.Errorf("answer valid=%v but capture Invalid=%v", ans.Valid, c.Invalid)
		}
		if c.Invalid == nil && !json.Valid(body) {
			t.Errorf("accepted invalid JSON %q", body)
		}
		if int64(len(c.Body)) > h.MaxBody || c.Truncated != (len(body) > int(h.MaxBody)) {
			t.Errorf("kept %d bytes, truncated=%v, of %d (limit %d)", len(c.Body), c.Truncated, len(body), h.MaxBody)
		}
		for k, v := range c.Header {
			if strings.Contains(v, "s3cr3t") {
				t.Errorf("header %s kept a credential: %q", k, v)
			}
		}
		if strings.Contains(c.Query, "s3cr3t") {
			t.Errorf("query kept a credential: %q", c.Query)
		}
	})
}

// The capture limit bounds memory whatever the sender streams: a body far
// over the limit is cut, flagged, and not validated.
func TestOversizedBodyIsTruncated(t *testing.T) {
	var got sync.WaitGroup
	got.Add(1)
	s, err := NewServer(Options{MaxBody: 1024, OnCapture: func(Capture) { got.Done() }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Post(s.URL+"/hook", "application/json", io.LimitReader(zeros{}, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got.Wait()
	c := s.Captures()[0]
	if !c.Truncated || len(c.Body) != 1024 || c.Invalid == nil {
		t.Errorf("truncated=%v len=%d invalid=%v; want true, 1024, an error", c.Truncated, len(c.Body), c.Invalid)
	}
}

// Close returns once in-flight deliveries are done and the serve goroutine
// has exited (goleak in leak_test.go checks the latter).
func TestCloseWaits(t *testing.T) {
	s, err := NewServer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(s.URL+"/hook", "application/json", strings.NewReader(validEvent))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()
	s.Close()
	if n := len(s.Captures()); n != 1 {
		t.Errorf("%d captures; want 1", n)
	}
	s.Close() // idempotent
}

func TestStartListensOnAddr(t *testing.T) {
	if _, err := NewUnstartedServer(Options{MaxBody: -1}); err == nil || !strings.Contains(err.Error(), "MaxBody") {
		t.Errorf("MaxBody -1 = %v; want an error naming MaxBody", err)
	}
	s, err := NewUnstartedServer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lifecycletest.Check(t, lifecycletest.Server{
		Start: func(addr string) error { s.Addr = addr; return s.Start() },
		URL:   func() string { return s.URL },
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}
