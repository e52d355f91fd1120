package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/harness"
)

func TestEventsSampleIsValidAndDeterministic(t *testing.T) {
	for _, typ := range harness.EventTypeNames() {
		out, errOut, code := cli(t, "events", "sample", typ, "--count", "100", "--seed", "42")
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", typ, code, errOut)
		}
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			n++
			if err := harness.ValidateEvent(sc.Bytes()); err != nil {
				t.Errorf("%s line %d invalid: %v", typ, n, err)
			}
		}
		if n != 100 {
			t.Errorf("%s: %d lines; want 100", typ, n)
		}
		again, _, _ := cli(t, "events", "sample", typ, "--count", "100", "--seed", "42")
		if again != out {
			t.Errorf("%s: same seed printed different events", typ)
		}
	}
}

func TestEventsListAndSchema(t *testing.T) {
	out, _, code := cli(t, "events", "list")
	if code != exitOK || strings.Count(out, "\n") != 11 {
		t.Errorf("events list: exit %d, %d lines; want 11\n%s", code, strings.Count(out, "\n"), out)
	}
	out, _, code = cli(t, "events", "schema", "case_notes_added")
	var schema map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &schema) != nil || schema["$schema"] == nil {
		t.Errorf("events schema: exit %d, not a JSON Schema:\n%s", code, out)
	}
}

// listen prints each delivery with credentials redacted, names the field
// that breaks a schema rule, and --save keeps the valid events for replay.
func TestListenCapturesAndValidates(t *testing.T) {
	dir := t.TempDir()
	save := filepath.Join(dir, "events.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var out strings.Builder
	go func() {
		done <- runListen(ctx, "127.0.0.1:0", save, &out, pw)
		pw.Close()
	}()
	// The first stderr line names the address.
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url := strings.Fields(line[strings.Index(line, "http://"):])[0]

	g := harness.NewGenerator(3)
	valid, _ := g.Event("evaluation_completed")
	post := func(body string) {
		req, _ := http.NewRequest(http.MethodPost, url+"/webhooks/riskos", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer super-secret-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("capture answered %d; want 200", resp.StatusCode)
		}
	}
	post(string(valid.Body))
	post(`{"event_id":"3b31289c-2d4a-4107-80bc-dda63031d5a0","event_type":"decision_update","event_at":"yesterday","data":{}}`)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"valid RiskOS event", "invalid", "/event_at", "Bearer [REDACTED]"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "super-secret-token") {
		t.Error("the bearer token was printed")
	}
	saved, _ := os.ReadFile(save)
	if strings.Count(string(saved), "\n") != 1 || !strings.Contains(string(saved), valid.ID) {
		t.Errorf("--save kept %q; want exactly the valid event", saved)
	}
}
