package harness

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// ValidateEvent judges bodies a sender put on the wire (listen, replay,
// capture): whatever arrives, it must not panic, and it must never accept
// something that is not JSON.
func FuzzValidateEvent(f *testing.F) {
	fh, err := os.Open("testdata/riskos-examples.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f.Add(append([]byte(nil), sc.Bytes()...))
	}
	fh.Close()
	f.Add([]byte(`{"event_id":"a","event_type":"decision_update","event_at":"2025-01-01T00:00:00Z","data":{}}x`))
	f.Add([]byte(`{"event_id":"a","event_id":"b"}`))
	f.Add([]byte("{\"event_type\":\"\xc3\x28\"}"))
	f.Add([]byte(`{"data":` + strings.Repeat("[", 20000) + `}`))
	f.Add([]byte(`"\ud800"`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if ValidateEvent(b) == nil && !json.Valid(b) {
			t.Errorf("ValidateEvent accepted invalid JSON %q", b)
		}
	})
}
