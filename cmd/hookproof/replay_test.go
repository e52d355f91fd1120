package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookproof/hookproof/fakes/capture"
	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
)

// recordedEvents writes n generated events as listen --save does (one
// compact JSON object per line), with what hand-edited files have mixed in:
// a blank line, a CRLF line and a spaced-out object. It returns the path,
// the events and each event's line as written (without its terminator).
func recordedEvents(t *testing.T, n int) (string, []harness.Event, []string) {
	t.Helper()
	g := harness.NewGenerator(42)
	types := []string{"decision_update", "evaluation_completed", "case_status_updated"}
	var buf bytes.Buffer
	var evs []harness.Event
	var lines []string
	for i := range n {
		ev, err := g.Event(types[i%len(types)])
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
		line := compactJSON(ev.Body)
		if i == 2 {
			// Whitespace between tokens is the receiver's to parse: a
			// replay must not normalise it away.
			var ind bytes.Buffer
			if err := json.Indent(&ind, ev.Body, "", " "); err != nil {
				t.Fatal(err)
			}
			line = bytes.ReplaceAll(ind.Bytes(), []byte("\n"), []byte(" "))
		}
		lines = append(lines, string(line))
		buf.Write(line)
		switch i {
		case 0:
			buf.WriteString("\n\n")
		case 1:
			buf.WriteString("\r\n")
		default:
			buf.WriteString("\n")
		}
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, evs, lines
}

func startCapture(t *testing.T) *capture.Server {
	t.Helper()
	srv, err := capture.NewServer(capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// The reference receiver sees every copy and processes each event once.
func TestReplayToReceiverProcessesEachEventOnce(t *testing.T) {
	path, evs, _ := recordedEvents(t, 4)
	srv, err := receiver.NewServer(receiver.Options{Auth: harness.AuthConfig{Type: harness.AuthBasic, BasicUser: "riskos", BasicPassword: "pw-replay"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	out, errOut, code := cli(t, "replay", "--target", srv.WebhookURL(), "--from", path, "--duplicates", "3", "--shuffle", "--seed", "7",
		"--auth", "basic", "--basic-user", "riskos", "--basic-password", "pw-replay")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if n := strings.Count(out, "attempt 1 "); n != 12 {
		t.Errorf("%d attempt lines; want 12 (4 events × 3 copies)\n%s", n, out)
	}
	if !strings.Contains(out, "12 deliveries, 12 attempts, 12 acknowledged, 0 lost") {
		t.Errorf("summary does not say 12 acknowledged:\n%s", out)
	}
	if !strings.Contains(errOut, "--seed 7") {
		t.Errorf("stderr does not give the shuffle seed:\n%s", errOut)
	}
	if strings.Contains(out+errOut, "pw-replay") {
		t.Error("the password was printed")
	}
	if got := eventually(func() int { return srv.Receiver().Processed() }, 4); got != 4 {
		t.Errorf("receiver processed %d events; want 4 (copies deduplicated)", got)
	}
	for _, ev := range evs {
		if c := srv.Receiver().Count(ev.ID); c != 1 {
			t.Errorf("event %s processed %d times; want 1", ev.ID, c)
		}
	}
}

// Every copy carries the recorded bytes, and shuffling with a seed is
// reproducible and leaves each event's copies intact.
func TestReplaySendsTheRecordedBytes(t *testing.T) {
	path, _, lines := recordedEvents(t, 5)
	want := map[string]int{}
	for _, l := range lines {
		want[l] += 2
	}
	order := func() []string {
		srv := startCapture(t)
		out, errOut, code := cli(t, "replay", "--target", srv.URL+"/hook", "--from", path, "--duplicates", "2", "--shuffle", "--seed", "99")
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		var bodies []string
		got := map[string]int{}
		for _, c := range srv.Captures() {
			got[string(c.Body)]++
			bodies = append(bodies, string(c.Body))
			if c.Invalid != nil {
				t.Errorf("capture says the replayed body is invalid: %v", c.Invalid)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("bodies received (body → copies) differ from the file:\ngot  %v\nwant %v", got, want)
		}
		return bodies
	}
	first, second := order(), order()
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Error("the same --seed gave two different orders")
	}
	var unshuffled []string
	for _, l := range lines {
		unshuffled = append(unshuffled, l, l)
	}
	if fmt.Sprint(first) == fmt.Sprint(unshuffled) {
		t.Error("--shuffle delivered in file order")
	}
}

// A broken line stops the replay before anything is sent, and the message
// points at it.
func TestReplayMalformedLineExits2BeforeSending(t *testing.T) {
	g := harness.NewGenerator(1)
	ev, err := g.Event("decision_update")
	if err != nil {
		t.Fatal(err)
	}
	good := string(compactJSON(ev.Body))
	long := `{"event_id":"` + strings.Repeat("x", maxReplayLine) + `"}`
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		{"array", good + "\n\n[1,2]\n" + good + "\n", []string{"events.jsonl:3", fmt.Sprintf("byte offset %d", len(good)+2), "not a JSON object"}},
		{"not JSON", good + "\n{\"event_id\": \n", []string{"events.jsonl:2", fmt.Sprintf("byte offset %d", len(good)+1), "not a JSON object"}},
		{"two objects on one line", good + good + "\n", []string{"events.jsonl:1", "byte offset 0"}},
		{"line over 1 MiB", good + "\n" + long + "\n" + good + "\n", []string{"events.jsonl:2", fmt.Sprintf("byte offset %d", len(good)+1), "longer than 1048576 bytes"}},
		{"empty file", "\n\n", []string{"no events"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
			t.Cleanup(srv.Close)
			path := filepath.Join(t.TempDir(), "events.jsonl")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			out, errOut, code := cli(t, "replay", "--target", srv.URL, "--from", path)
			if code != exitUsage {
				t.Fatalf("exit %d; want %d\n%s%s", code, exitUsage, out, errOut)
			}
			for _, w := range append(tc.want, "--from") {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr does not say %q:\n%s", w, errOut)
				}
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("%d requests sent; want none", n)
			}
			noStackTrace(t, out, errOut)
		})
	}
}

// A schema-invalid event is a warning and is sent; --strict-schema refuses.
func TestReplaySchemaInvalidEvent(t *testing.T) {
	g := harness.NewGenerator(3)
	ev, err := g.Event("decision_update")
	if err != nil {
		t.Fatal(err)
	}
	bad := `{"event_id":"not-a-uuid","event_type":"decision_update","event_at":"yesterday","data":{}}`
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(string(compactJSON(ev.Body))+"\n"+bad+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("warned and sent", func(t *testing.T) {
		srv := startCapture(t)
		out, errOut, code := cli(t, "replay", "--target", srv.URL, "--from", path)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if !strings.Contains(errOut, "events.jsonl:2") || !strings.Contains(errOut, "not-a-uuid") || !strings.Contains(errOut, "warning") {
			t.Errorf("no warning naming line 2 and its event:\n%s", errOut)
		}
		if strings.Contains(errOut, "events.jsonl:1") {
			t.Errorf("the valid line 1 was warned about:\n%s", errOut)
		}
		caps := srv.Captures()
		if len(caps) != 2 || string(caps[1].Body) != bad {
			t.Errorf("captured %d deliveries; want 2, the second the invalid line as written", len(caps))
		}
	})
	t.Run("strict refuses", func(t *testing.T) {
		srv := startCapture(t)
		out, errOut, code := cli(t, "replay", "--target", srv.URL, "--from", path, "--strict-schema")
		if code != exitUsage {
			t.Fatalf("exit %d; want %d\n%s%s", code, exitUsage, out, errOut)
		}
		if !strings.Contains(errOut, "events.jsonl:2") || !strings.Contains(errOut, "--strict-schema") {
			t.Errorf("error does not name line 2 and --strict-schema:\n%s", errOut)
		}
		if n := len(srv.Captures()); n != 0 {
			t.Errorf("%d deliveries sent; want none", n)
		}
	})
}

// Exit codes: 1 when a delivery is not acknowledged, 3 when the target
// refuses the first connection, 2 without --from.
func TestReplayExitCodes(t *testing.T) {
	path, _, _ := recordedEvents(t, 2)
	t.Run("lost", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no", http.StatusBadRequest)
		}))
		t.Cleanup(srv.Close)
		out, errOut, code := cli(t, "replay", "--target", srv.URL, "--from", path, "--retry", "--time-scale", "0.001")
		if code != exitFailed {
			t.Fatalf("exit %d; want %d\n%s%s", code, exitFailed, out, errOut)
		}
		if !strings.Contains(out, "0 acknowledged, 2 lost") {
			t.Errorf("summary does not say 2 lost:\n%s", out)
		}
	})
	t.Run("retried until acked", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
			}
		}))
		t.Cleanup(srv.Close)
		out, errOut, code := cli(t, "replay", "--target", srv.URL, "--from", path, "--retry", "--time-scale", "0.001")
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if !strings.Contains(out, "2 deliveries, 3 attempts, 2 acknowledged, 0 lost") || !strings.Contains(out, "attempt 2 ") {
			t.Errorf("the 503 was not retried:\n%s", out)
		}
	})
	t.Run("refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		out, errOut, code := cli(t, "replay", "--target", "http://"+addr+"/hook", "--from", path)
		if code != exitUnreachable {
			t.Fatalf("exit %d; want %d\n%s%s", code, exitUnreachable, out, errOut)
		}
	})
	t.Run("usage", func(t *testing.T) {
		out, errOut, code := cli(t, "replay", "--target", "http://127.0.0.1:9/x", "--duplicates", "0")
		if code != exitUsage {
			t.Fatalf("exit %d; want %d\n%s%s", code, exitUsage, out, errOut)
		}
		for _, w := range []string{"--from", "--duplicates"} {
			if !strings.Contains(errOut, w) {
				t.Errorf("stderr does not name %s:\n%s", w, errOut)
			}
		}
	})
}

// An interrupt stops the replay after the delivery in flight, with the
// summary of what was sent and exit 130.
func TestReplayInterrupted(t *testing.T) {
	path, _, _ := recordedEvents(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		cancel() // the user presses Ctrl-C while the first delivery is answered
	}))
	t.Cleanup(srv.Close)
	out, errOut, code := cliCtx(ctx, t, "replay", "--target", srv.URL, "--from", path, "--duplicates", "2")
	if code != exitInterrupted {
		t.Fatalf("exit %d; want %d\n%s%s", code, exitInterrupted, out, errOut)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d deliveries after the interrupt; want only the one in flight", n)
	}
	if !strings.Contains(out, "summary:") {
		t.Errorf("no summary after the interrupt:\n%s", out)
	}
}

// --from - reads the events from stdin. os.Stdin is swapped, so this test
// must not run in parallel.
func TestReplayFromStdin(t *testing.T) {
	path, _, lines := recordedEvents(t, 3)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old })
	srv := startCapture(t)
	out, errOut, code := cli(t, "replay", "--target", srv.URL, "--from", "-")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	caps := srv.Captures()
	if len(caps) != len(lines) {
		t.Fatalf("captured %d deliveries; want %d", len(caps), len(lines))
	}
	for i, c := range caps {
		if string(c.Body) != lines[i] {
			t.Errorf("delivery %d: body differs from line %d of the input", i, i+1)
		}
	}
}

// parseReplay numbers lines from 1 and gives each event the byte offset of
// its line, counting blank lines and CRLF terminators.
func TestParseReplayOffsets(t *testing.T) {
	in := "{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}"
	evs, err := parseReplay("x", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line   int
		offset int64
		body   string
	}{{1, 0, `{"a":1}`}, {4, 13, `{"b":2}`}, {5, 21, `{"c":3}`}}
	if len(evs) != len(want) {
		t.Fatalf("%d events; want %d", len(evs), len(want))
	}
	for i, w := range want {
		if evs[i].line != w.line || evs[i].offset != w.offset || string(evs[i].body) != w.body {
			t.Errorf("event %d = line %d offset %d %q; want line %d offset %d %q", i, evs[i].line, evs[i].offset, evs[i].body, w.line, w.offset, w.body)
		}
	}
}
