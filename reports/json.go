package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"testing"
)

// MaxReportSize bounds what Read accepts, so a wrong --from path (a
// results.bin, a log) fails fast instead of filling memory.
const MaxReportSize = 256 << 20

// WriteJSON writes r as indented report.json. Map keys come out sorted, so
// the same report always gives the same bytes.
func WriteJSON(w io.Writer, r *Report) error {
	if r == nil {
		return errors.New("reports: nil report")
	}
	c := *r
	if c.Requirements == nil {
		c.Requirements = []RequirementResult{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// Reasons and evidence hold <, > and & often; escaping them would make
	// the file harder to read and gains nothing outside HTML.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return fmt.Errorf("reports: encode report.json: %w", err)
	}
	// Under test, every report any test writes (here, in cmd/hookproof's
	// in-process runs, anywhere) must follow the shipped schema: that is
	// how the schema and the structs are kept from drifting apart. A
	// production run never refuses to write its report over it.
	if schemaCheck.Load() {
		if err := ValidateSchema(buf.Bytes()); err != nil {
			return fmt.Errorf("reports: %w", err)
		}
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("reports: write report.json: %w", err)
	}
	return nil
}

// schemaCheck is on in test binaries; only a fuzz test feeding arbitrary
// decoded input turns it off.
var schemaCheck = func() *atomic.Bool { var b atomic.Bool; b.Store(testing.Testing()); return &b }()

// Read loads a report.json written by WriteJSON (or by another hookproof
// version: unknown fields are ignored) and checks the fields renderers
// rely on. The config snapshot is kept as raw JSON, in its original order.
func Read(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxReportSize+1))
	if err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	if len(b) > MaxReportSize {
		return nil, fmt.Errorf("read report %s: larger than %d bytes", path, MaxReportSize)
	}
	r, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	return r, nil
}

// Decode parses report.json bytes and validates them as Read does.
func Decode(b []byte) (*Report, error) {
	raw := json.RawMessage{}
	r := &Report{Config: &raw}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(r); err != nil {
		return nil, fmt.Errorf("decode report.json: %w", err)
	}
	if p, ok := r.Config.(*json.RawMessage); ok {
		if len(*p) == 0 || string(*p) == "null" {
			r.Config = nil
		} else {
			r.Config = *p
		}
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// Validate checks the fields renderers and verdicts depend on, reporting
// every problem with its field path.
func (r *Report) Validate() error {
	var errs []error
	switch r.Verdict {
	case VerdictPass, VerdictFail, VerdictError:
	default:
		errs = append(errs, fmt.Errorf("verdict: %q is not %q or %q", r.Verdict, VerdictPass, VerdictFail))
	}
	seen := map[string]bool{}
	for i, q := range r.Requirements {
		if q.ID == "" {
			errs = append(errs, fmt.Errorf("requirements[%d].id: empty", i))
		} else if seen[q.ID] {
			errs = append(errs, fmt.Errorf("requirements[%d].id: %q appears twice", i, q.ID))
		}
		seen[q.ID] = true
		switch q.Status {
		case StatusPassed, StatusFailed, StatusSkipped:
		default:
			errs = append(errs, fmt.Errorf("requirements[%d].status: %q is not passed, failed or skipped", i, q.Status))
		}
	}
	return errors.Join(errs...)
}
