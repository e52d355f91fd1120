package receiver

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// A probe is one small check of the battery; it returns an observation
// that must be equal between two receivers that behave alike.
type probe struct {
	name string
	req  string // the requirement whose check this probe imitates
	run  func(t *testing.T, s *Server) string
}

func status(r result) string { return fmt.Sprint(r.status) }

// matrixAckBudget is short to keep slow-ack fast, yet far above a loopback
// ack.
const matrixAckBudget = 100 * time.Millisecond

var battery = []probe{
	{"auth-missing", "AUTH-01", func(t *testing.T, s *Server) string {
		return status(send(t, s.WebhookURL(), "", "application/json", validEvent(newID())))
	}},
	{"auth-wrong", "AUTH-02", func(t *testing.T, s *Server) string {
		return status(send(t, s.WebhookURL(), "Bearer wrong", "application/json", validEvent(newID())))
	}},
	{"ack", "ACK-01", func(t *testing.T, s *Server) string { return status(deliver(t, s, validEvent(newID()))) }},
	{"ack-" + Error500EventType, "ACK-01", func(t *testing.T, s *Server) string {
		return status(deliver(t, s, event(newID(), Error500EventType)))
	}},
	{"ack-" + RedirectEventType, "ACK-04", func(t *testing.T, s *Server) string {
		r := deliver(t, s, event(newID(), RedirectEventType))
		return status(r) + " " + r.header.Get("Location")
	}},
	{"ack-latency", "ACK-02", func(t *testing.T, s *Server) string {
		if r := deliver(t, s, validEvent(newID())); r.took > matrixAckBudget {
			return "over budget"
		}
		return "within budget"
	}},
	{"duplicate-status", "IDEM-01", func(t *testing.T, s *Server) string {
		id := newID()
		deliver(t, s, validEvent(id))
		return status(deliver(t, s, validEvent(id)))
	}},
	{"duplicate-count", "IDEM-02", func(t *testing.T, s *Server) string {
		id := newID()
		deliver(t, s, validEvent(id))
		deliver(t, s, validEvent(id))
		return fmt.Sprint(probeCount(t, s, id))
	}},
	{"burst", "IDEM-03", func(t *testing.T, s *Server) string {
		list := ids(4)
		all200, once := true, true
		for id, st := range burst(t, s, list, 8) {
			for _, c := range st {
				all200 = all200 && c == http.StatusOK
			}
			once = once && probeCount(t, s, id) == 1
		}
		return fmt.Sprintf("all 200: %v, processed once: %v", all200, once)
	}},
	{"restart", "IDEM-05", func(t *testing.T, s *Server) string {
		id := newID()
		deliver(t, s, validEvent(id))
		if err := s.Restart(); err != nil {
			t.Fatalf("Restart: %v", err)
		}
		testClient.CloseIdleConnections()
		deliver(t, s, validEvent(id))
		return fmt.Sprint(probeCount(t, s, id))
	}},
	{"malformed", "VAL-01", func(t *testing.T, s *Server) string {
		return status(deliver(t, s, []byte(`{"event_id":"x",`)))
	}},
	{"envelope", "VAL-02", func(t *testing.T, s *Server) string {
		return status(deliver(t, s, []byte(`{"event_type":"evaluation_completed","event_at":"2025-07-17T01:20:01Z"}`)))
	}},
	{"oversized", "VAL-03", func(t *testing.T, s *Server) string {
		return status(deliver(t, s, withData(newID(), `{"s":"`+strings.Repeat("a", 128<<10)+`"}`)))
	}},
	{"text-plain", "VAL-04", func(t *testing.T, s *Server) string {
		return status(send(t, s.WebhookURL(), goodAuth(s.Receiver().opts), "text/plain", validEvent(newID())))
	}},
	{"unknown-type", "VAL-05", func(t *testing.T, s *Server) string {
		return status(deliver(t, s, event(newID(), "harness.unknown.v9")))
	}},
	{"extra-fields", "VAL-06", func(t *testing.T, s *Server) string {
		return status(deliver(t, s, []byte(`{"event_id":"`+newID()+`","event_type":"evaluation_completed","event_at":"2025-07-17T01:20:01Z","x":1,"data":{"y":2}}`)))
	}},
	{"hostile", "VAL-07", func(t *testing.T, s *Server) string {
		var out []string
		for _, b := range [][]byte{
			withData(newID(), strings.Repeat("[", 5000)+strings.Repeat("]", 5000)),
			withData(newID(), "{\"n\":\"\xC3\x28\"}"),
			withData(newID(), `{"a":1,"a":2}`),
		} {
			out = append(out, status(deliver(t, s, b)))
		}
		return strings.Join(out, ",")
	}},
	{"method", "VAL-08", func(t *testing.T, s *Server) string {
		req, _ := http.NewRequest(http.MethodGet, s.WebhookURL(), nil)
		return status(do(t, req))
	}},
	{"status-variant", "VAL-09", func(t *testing.T, s *Server) string {
		return status(deliver(t, s, withData(newID(), `{"status":"ON HOLD"}`)))
	}},
}

// observe runs the battery against a fresh receiver with faults on.
func observe(t *testing.T, faults ...Fault) map[string]string {
	o := authOptions(harness.AuthBearer)
	o.Faults = faults
	o.AckBudget = matrixAckBudget
	o.MaxBody = 64 << 10
	o.StateFile = filepath.Join(t.TempDir(), "seen.log")
	s := startServer(t, o)
	got := map[string]string{}
	for _, p := range battery {
		got[p.name] = p.run(t, s)
	}
	return got
}

// TestEachFaultChangesExactlyTheBehaviourItNames runs the same battery of
// probes against the compliant receiver and against each fault, and checks
// that exactly the probes expected for the fault differ, and that each
// differing probe stands for a requirement the fault's Breaks lists.
func TestEachFaultChangesExactlyTheBehaviourItNames(t *testing.T) {
	t.Parallel()
	want := map[Fault][]string{
		FaultNoAuth:               {"auth-missing", "auth-wrong"},
		FaultNoDedupe:             {"burst", "duplicate-count", "restart"},
		FaultRacyDedupe:           {"burst"},
		FaultDup409:               {"burst", "duplicate-status"},
		FaultSlowAck:              {"ack-latency"},
		FaultError500:             {"ack-" + Error500EventType},
		FaultNoSizeLimit:          {"oversized"},
		FaultAcceptAnyContentType: {"text-plain"},
		FaultRejectUnknownType:    {"unknown-type"},
		Fault5xxOnHostileJSON:     {"hostile"},
		FaultRedirect:             {"ack-" + RedirectEventType},
		FaultForgetOnRestart:      {"restart"},
		// The battery runs well inside the short memory; the dedicated test
		// moves a fake clock past it.
		FaultShortDedupeMemory: {},
		FaultStrictVariants:    {"status-variant"},
		// The battery stays under the limit's burst; the dedicated test
		// exceeds it.
		Fault503NoRetryAfter: {},
	}
	if len(want) != len(Faults) {
		t.Fatalf("the table covers %d faults; Faults has %d", len(want), len(Faults))
	}
	compliant := observe(t)
	for p, v := range map[string]string{
		"auth-missing": "401", "auth-wrong": "401", "ack": "200", "ack-latency": "within budget",
		"duplicate-status": "200", "duplicate-count": "1", "burst": "all 200: true, processed once: true",
		"restart": "1", "malformed": "400", "envelope": "400", "oversized": "413", "text-plain": "415",
		"unknown-type": "200", "extra-fields": "200", "hostile": "400,400,400", "method": "405",
		"status-variant": "200",
	} {
		if compliant[p] != v {
			t.Errorf("compliant receiver: probe %s = %q; want %q", p, compliant[p], v)
		}
	}
	reqOf := map[string]string{}
	for _, p := range battery {
		reqOf[p.name] = p.req
	}
	for _, info := range Faults {
		t.Run(string(info.Name), func(t *testing.T) {
			t.Parallel()
			got := observe(t, info.Name)
			var differ []string
			for _, p := range battery {
				if got[p.name] != compliant[p.name] {
					differ = append(differ, p.name)
					if !slices.Contains(info.Breaks, p.req) {
						t.Errorf("probe %s (%s) changed: %q -> %q, but Breaks %v does not list %s",
							p.name, p.req, compliant[p.name], got[p.name], info.Breaks, p.req)
					}
				}
			}
			sort.Strings(differ)
			exp := slices.Sorted(slices.Values(want[info.Name]))
			if !slices.Equal(differ, exp) {
				for _, p := range differ {
					t.Logf("%s: %q -> %q", p, compliant[p], got[p])
				}
				t.Errorf("probes changed by %s = %v; want %v", info.Name, differ, exp)
			}
		})
	}
}

func TestParseFault(t *testing.T) {
	t.Parallel()
	seen := map[Fault]bool{}
	for _, info := range Matrix() {
		if seen[info.Name] {
			t.Errorf("%s appears twice in the matrix", info.Name)
		}
		seen[info.Name] = true
		if f, err := ParseFault(string(info.Name)); err != nil || f != info.Name {
			t.Errorf("ParseFault(%q) = %q, %v", info.Name, f, err)
		}
		for _, id := range info.Breaks {
			r, err := harness.LookupRequirement(id)
			switch {
			case err != nil:
				t.Errorf("%s breaks %s, which is not in the catalogue", info.Name, id)
			case info.Compliant && r.Level == harness.Must:
				t.Errorf("compliant variant %s breaks %s, a MUST", info.Name, id)
			}
		}
		for _, id := range info.NotInQuick {
			if !slices.Contains(info.Breaks, id) {
				t.Errorf("%s: NotInQuick %s is not in Breaks %v", info.Name, id, info.Breaks)
			}
		}
		if (len(info.Breaks) == 0 && !info.Compliant) || info.Description == "" {
			t.Errorf("%s: Breaks and Description must be set", info.Name)
		}
	}
	if len(seen) != len(Faults)+len(Variants) {
		t.Errorf("the matrix has %d rows; want %d faults and %d variants", len(seen), len(Faults), len(Variants))
	}
	if _, err := ParseFault("no-such"); err == nil || !strings.Contains(err.Error(), "no-auth") {
		t.Errorf("ParseFault(no-such) error = %v; want the known names listed", err)
	}
}
