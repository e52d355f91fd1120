package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestHTTPProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("event_id")
		switch id {
		case "seen-twice":
			fmt.Fprintf(w, `{"event_id":%q,"count":2}`, id)
		case "other":
			fmt.Fprint(w, `{"event_id":"someone-else","count":1}`)
		case "broken":
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			fmt.Fprintf(w, `{"event_id":%q,"count":0}`, id)
		}
	}))
	defer srv.Close()
	p := &HTTPProbe{URL: srv.URL + "/_hookproof/effects", Client: srv.Client()}
	ctx := context.Background()
	if n, err := p.Count(ctx, "seen-twice"); n != 2 || err != nil {
		t.Errorf("Count(seen-twice) = %d, %v; want 2, nil", n, err)
	}
	if n, err := p.Count(ctx, "never"); n != 0 || err != nil {
		t.Errorf("Count(never) = %d, %v; want 0, nil", n, err)
	}
	for _, id := range []string{"other", "broken"} {
		if _, err := p.Count(ctx, id); !errors.Is(err, ErrProbe) {
			t.Errorf("Count(%s) error = %v; want ErrProbe", id, err)
		}
	}
}

func TestParseEffects(t *testing.T) {
	for _, tc := range []struct {
		body    string
		want    int
		wantErr bool
	}{
		{`{"event_id":"a","count":3}`, 3, false},
		{`{"count":1}`, 1, false},                 // event_id is optional in the answer
		{`{"event_id":"a"}`, 0, true},             // no count
		{`{"event_id":"a","count":-1}`, 0, true},  // negative
		{`{"event_id":"a","count":"1"}`, 0, true}, // wrong type
		{`{"event_id":"a","count":1} x`, 0, true}, // trailing data
		{`{"event_id":"a",`, 0, true},             // truncated
		{`[]`, 0, true},                           // not an object
	} {
		got, err := ParseEffects([]byte(tc.body), "a")
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseEffects(%s) = %d, %v; want %d, error %v", tc.body, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestFileProbe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "effects.log")
	p := &FileProbe{Path: path}
	if n, err := p.Count(context.Background(), "x"); n != 0 || err != nil {
		t.Errorf("Count before the file exists = %d, %v; want 0, nil", n, err)
	}
	os.WriteFile(path, []byte("x\ny\nx\n  x  \nxx\n"), 0o600)
	if n, err := p.Count(context.Background(), "x"); n != 3 || err != nil {
		t.Errorf("Count(x) = %d, %v; want 3, nil", n, err)
	}
}

func FuzzParseEffects(f *testing.F) {
	for _, s := range []string{`{"event_id":"a","count":1}`, `{"count":0}`, `[]`, `{"count":1e309}`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := ParseEffects(body, "a")
		if err == nil && n < 0 {
			t.Fatalf("ParseEffects(%q) = %d with no error", body, n)
		}
	})
}
