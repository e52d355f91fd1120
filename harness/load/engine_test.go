package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// delivery is what the sink saw of one request.
type delivery struct {
	id     string
	body   []byte
	auth   string
	ua     string
	tenant string
	status int
}

// sink is a minimal loopback receiver that records every delivery and
// answers with status(n) for the n-th one (0-based), 200 by default.
type sink struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	status func(n int) int
}

func newSink(t *testing.T, status func(n int) int) *sink {
	t.Helper()
	s := &sink{status: status}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		var ev struct {
			EventID string `json:"event_id"`
		}
		_ = json.Unmarshal(body, &ev)
		s.mu.Lock()
		code := 200
		if s.status != nil {
			code = s.status(len(s.got))
		}
		s.got = append(s.got, delivery{id: ev.EventID, body: body, auth: r.Header.Get("Authorization"),
			ua: r.Header.Get("User-Agent"), tenant: r.Header.Get("X-Tenant"), status: code})
		s.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.got...)
}

func testConfig(target string) harness.Config {
	cfg := harness.DefaultConfig()
	cfg.Target = target
	cfg.Auth = harness.AuthConfig{Type: harness.AuthBearer, BearerToken: harness.Secret("tok_load")}
	cfg.Headers = []harness.Header{{Name: "X-Tenant", Value: "acme"}}
	cfg.Timeouts.Attempt = 5 * time.Second
	return cfg
}

func testAuth(t *testing.T, cfg harness.Config) Authorizer {
	t.Helper()
	a, err := harness.NewAuthorizer(cfg.Auth, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRunConstantRateSendsValidAuthenticatedEvents(t *testing.T) {
	t.Parallel()
	s := newSink(t, nil)
	cfg := testConfig(s.URL)
	var snaps []Snapshot
	e, err := New(cfg, Options{Rate: 150, Duration: 1500 * time.Millisecond}, testAuth(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.Run(context.Background(), func(s Snapshot) { snaps = append(snaps, s) })
	if err != nil {
		t.Fatal(err)
	}
	got := s.deliveries()
	// 225 hits are scheduled; allow 5 % for a busy machine, never more.
	if n := len(got); n < 214 || n > 225 {
		t.Errorf("receiver got %d deliveries; want 225 (-5 %%)", n)
	}
	if sum.Requests != uint64(len(got)) || sum.Acked != sum.Requests || sum.SuccessRatio != 1 {
		t.Errorf("summary requests, acked, success = %d, %d, %g; want %d, all, 1", sum.Requests, sum.Acked, sum.SuccessRatio, len(got))
	}
	if sum.SentRate < 142 || sum.SentRate > 158 {
		t.Errorf("sent rate = %.1f/s; want 150 ± 5 %%", sum.SentRate)
	}
	if sum.RequestedRate != 150 || sum.StatusCodes["200"] != sum.Requests {
		t.Errorf("requested rate, 200s = %g, %d; want 150, %d", sum.RequestedRate, sum.StatusCodes["200"], sum.Requests)
	}
	if sum.LatencyMS.P99 <= 0 || sum.ResponseLatencyMS.P99 < sum.LatencyMS.P99 {
		t.Errorf("p99 service, response = %g, %g ms; want > 0 and response ≥ service", sum.LatencyMS.P99, sum.ResponseLatencyMS.P99)
	}
	seen := map[string]bool{}
	for i, d := range got {
		if err := harness.ValidateEvent(d.body); err != nil {
			t.Errorf("delivery %d is not schema-valid: %v", i, err)
		}
		if d.id == "" || seen[d.id] {
			t.Errorf("delivery %d has event_id %q, empty or repeated", i, d.id)
		}
		seen[d.id] = true
		if d.auth != "Bearer tok_load" || d.tenant != "acme" || d.ua != harness.UserAgent() {
			t.Errorf("delivery %d headers auth=%q x-tenant=%q ua=%q; want the bearer token, acme, %s", i, d.auth, d.tenant, d.ua, harness.UserAgent())
			break
		}
	}
	if len(snaps) == 0 || snaps[0].Requests == 0 {
		t.Errorf("observe saw %d snapshots (%+v); want at least one with requests", len(snaps), snaps)
	}
}

func TestRunDuplicatesResendEarlierEvents(t *testing.T) {
	t.Parallel()
	s := newSink(t, nil)
	cfg := testConfig(s.URL)
	e, err := New(cfg, Options{Rate: 0, MaxRequests: 2000, Duration: 10 * time.Second, DuplicateRatio: 0.2, MaxWorkers: 8}, testAuth(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := s.deliveries()
	if len(got) != 2000 {
		t.Fatalf("receiver got %d deliveries; want MaxRequests 2000", len(got))
	}
	first := map[string][]byte{}
	var dups int
	for _, d := range got {
		if b, ok := first[d.id]; ok {
			dups++
			if !bytes.Equal(b, d.body) {
				t.Errorf("duplicate of %s differs from the original body", d.id)
			}
			continue
		}
		first[d.id] = d.body
	}
	// Binomial(2000, 0.2): σ ≈ 18, so ±80 is over 4σ.
	if dups < 320 || dups > 480 {
		t.Errorf("%d duplicates in 2000; want 20 %% (400 ± 80)", dups)
	}
	if sum.Duplicates != uint64(dups) {
		t.Errorf("summary duplicates = %d; receiver saw %d", sum.Duplicates, dups)
	}
}

func TestRunClassifiesRetryableAndLost(t *testing.T) {
	t.Parallel()
	s := newSink(t, func(n int) int {
		switch {
		case n%10 == 3:
			return http.StatusInternalServerError // lost
		case n%10 == 7:
			return http.StatusServiceUnavailable // retryable
		case n%25 == 1:
			return http.StatusFound // a redirect is not an ack: lost
		}
		return http.StatusOK
	})
	cfg := testConfig(s.URL)
	e, err := New(cfg, Options{Rate: 0, MaxRequests: 300, Duration: 10 * time.Second, MaxWorkers: 4}, testAuth(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lost, retryable := map[string]int{}, 0
	for _, d := range s.deliveries() {
		switch d.status {
		case 500, 302:
			lost[d.id] = d.status
		case 503:
			retryable++
		}
	}
	if sum.Lost != uint64(len(lost)) || sum.Retryable != uint64(retryable) {
		t.Errorf("lost, retryable = %d, %d; receiver answered %d lost, %d retryable", sum.Lost, sum.Retryable, len(lost), retryable)
	}
	if len(sum.LostEvents) != len(lost) {
		t.Fatalf("%d lost events listed; want %d", len(sum.LostEvents), len(lost))
	}
	for _, le := range sum.LostEvents {
		if lost[le.EventID] != le.Status {
			t.Errorf("lost event %s with status %d; the receiver answered it %d", le.EventID, le.Status, lost[le.EventID])
		}
	}
	if sum.StatusCodes["302"] == 0 {
		t.Errorf("status codes %v lack the 302: redirects must not be followed", sum.StatusCodes)
	}
}

func TestRunWritesVegetaResults(t *testing.T) {
	t.Parallel()
	s := newSink(t, nil)
	cfg := testConfig(s.URL)
	var buf bytes.Buffer
	e, err := New(cfg, Options{Rate: 0, MaxRequests: 60, Duration: 10 * time.Second, Results: &buf, Shard: Shard{I: 1, N: 2}}, testAuth(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	dec := vegeta.NewDecoder(&buf)
	var n int
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding result %d: %v", n, err)
		}
		if r.Attack != "hookproof-shard-1-of-2" || r.Code != 200 {
			t.Errorf("result %d: attack %q code %d; want hookproof-shard-1-of-2, 200", n, r.Attack, r.Code)
		}
		n++
	}
	// Shard 1 of 2 sends half of MaxRequests.
	if n != 30 {
		t.Errorf("decoded %d results; want 30", n)
	}
}

func TestRunCancelReturnsPartialResultsPromptly(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1000)
	var served atomic.Int64
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if served.Add(1) == 1 {
			return // one quick ack, so the summary has a figure
		}
		arrived <- struct{}{}
		<-r.Context().Done() // held until the client gives up
	}))
	defer stuck.Close()
	cfg := testConfig(stuck.URL)
	e, err := New(cfg, Options{Rate: 200, Duration: 30 * time.Second}, testAuth(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for range 20 {
			<-arrived
		}
		cancel()
	}()
	sum, err := e.Run(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Interrupted || sum.Canceled < 19 {
		t.Errorf("interrupted, canceled = %v, %d; want true, ≥ 19 requests cut short", sum.Interrupted, sum.Canceled)
	}
	if sum.Requests != 1 || sum.Acked != 1 {
		t.Errorf("requests, acked = %d, %d; want only the quick ack counted (%+v)", sum.Requests, sum.Acked, sum)
	}
	// A 30 s run whose requests hang for 5 s: returning at all before the
	// timeout shows the in-flight requests were aborted.
	if d := time.Since(sum.StartedAt); d > 4*time.Second {
		t.Errorf("Run returned %s after start; want well under the 5 s request timeout", d)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	cfg := testConfig("http://127.0.0.1:1/hook")
	with := func(f func(*harness.Config)) harness.Config { c := cfg; f(&c); return c }
	remote := with(func(c *harness.Config) { c.Target = "https://receiver.example.com/hook" })
	for _, tc := range []struct {
		name string
		cfg  harness.Config
		o    Options
		ok   bool
	}{
		{"loopback", cfg, Options{Rate: 10, Duration: time.Second}, true},
		{"remote host refused", remote, Options{Rate: 10, Duration: time.Second}, false},
		{"remote host allowed", with(func(c *harness.Config) { *c = remote; c.AllowRemoteLoad = true }), Options{Rate: 10, Duration: time.Second}, true},
		{"localhost", with(func(c *harness.Config) { c.Target = "http://localhost:8080/" }), Options{Rate: 10, Duration: time.Second}, true},
		{"duplicate ratio 1", cfg, Options{Rate: 10, Duration: time.Second, DuplicateRatio: 1}, false},
		{"shard out of range", cfg, Options{Rate: 10, Duration: time.Second, Shard: Shard{I: 2, N: 2}}, false},
		{"unbounded duration", cfg, Options{Rate: 10, Duration: 48 * time.Hour}, false},
		{"unknown event type", with(func(c *harness.Config) { c.EventTypes = []string{"nope"} }), Options{Rate: 10, Duration: time.Second}, false},
		{"max rate with spike", cfg, Options{Rate: 0, Duration: time.Second, Spike: &Spike{Factor: 2, For: time.Second}}, false},
	} {
		_, err := New(tc.cfg, tc.o, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%s: New error = %v; want ok = %v", tc.name, err, tc.ok)
		}
		if verr := tc.o.Validate(tc.cfg); (verr == nil) != (err == nil) {
			t.Errorf("%s: Validate error = %v; New error = %v; want them to agree", tc.name, verr, err)
		}
		if tc.name == "remote host refused" && !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: New error = %v; want ErrNotLoopback", tc.name, err)
		}
	}
}

// failingAuth is an Authorizer whose token endpoint is down.
type failingAuth struct{}

func (failingAuth) Authorize(context.Context, *http.Request) error {
	return errors.New("token endpoint unreachable")
}

func TestRunFailsWithoutCredentials(t *testing.T) {
	t.Parallel()
	s := newSink(t, nil)
	e, err := New(testConfig(s.URL), Options{Rate: 10, Duration: time.Second}, failingAuth{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background(), nil); err == nil {
		t.Fatal("Run sent load without credentials")
	}
	if n := len(s.deliveries()); n != 0 {
		t.Errorf("receiver got %d deliveries; want none", n)
	}
}

func TestShardAttackNameRoundTrips(t *testing.T) {
	for _, s := range []Shard{{I: 0, N: 2}, {I: 3, N: 4}, {I: 9, N: 10}} {
		got, ok := ShardOfAttack(s.AttackName())
		if !ok || got != s {
			t.Errorf("ShardOfAttack(%q) = %v, %v; want %v", s.AttackName(), got, ok, s)
		}
		if p, err := ParseShard(s.String()); err != nil || p != s {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", s.String(), p, err, s)
		}
	}
	for _, name := range []string{"hookproof", "hookproof-shard-2-of-2", "hookproof-shard-01-of-2", "vegeta", "hookproof-shard-1-of-2x"} {
		if s, ok := ShardOfAttack(name); ok {
			t.Errorf("ShardOfAttack(%q) = %v; want not a shard", name, s)
		}
	}
	for _, v := range []string{"", "1", "2/2", "-1/2", "a/b", "0/0"} {
		if _, err := ParseShard(v); err == nil {
			t.Errorf("ParseShard(%q) succeeded", v)
		}
	}
}

func TestBoundsCheck(t *testing.T) {
	b := Bounds{MinSuccess: MinSuccessRatio, MaxP99: 500 * time.Millisecond}
	for _, tc := range []struct {
		name string
		s    Summary
		ok   bool
		want string
	}{
		{"pass", Summary{RequestedRate: 50, Requests: 1000, SuccessRatio: 1, ResponseLatencyMS: Quantiles{P99: 20}}, true, "at 50/s"},
		{"nothing", Summary{RequestedRate: 50}, false, "no request completed"},
		{"lost", Summary{RequestedRate: 50, Requests: 1000, SuccessRatio: 0.99, StatusCodes: map[string]uint64{"200": 990, "400": 10}}, false, "200×990, 400×10"},
		{"slow", Summary{Requests: 1000, SuccessRatio: 1, ResponseLatencyMS: Quantiles{P99: 600}}, false, "exceeds the ack budget 500ms"},
		// A generator out of workers may own part of the latency: the
		// verdict says so, and how to tell.
		{"slow with every worker in flight", Summary{Requests: 1000, SuccessRatio: 1, ResponseLatencyMS: Quantiles{P99: 600},
			Workers: &reports.Workers{Peak: 100, Bound: 100}}, false, "all 100 workers in flight"},
		{"slow with workers to spare", Summary{Requests: 1000, SuccessRatio: 1, ResponseLatencyMS: Quantiles{P99: 600},
			Workers: &reports.Workers{Peak: 99, Bound: 100}}, false, "500ms"},
	} {
		ok, reason := b.Check(&tc.s)
		if ok != tc.ok || !strings.Contains(reason, tc.want) {
			t.Errorf("%s: Check = %v, %q; want %v and a reason with %q", tc.name, ok, reason, tc.ok, tc.want)
		}
		if blamed := strings.Contains(reason, "workers in flight"); blamed != tc.s.Workers.AtBound() {
			t.Errorf("%s: reason %q names the generator's bound: %v; want %v", tc.name, reason, blamed, tc.s.Workers.AtBound())
		}
		if r := b.Result(&tc.s, false); (r.Status == "passed") != tc.ok || r.Reason != reason {
			t.Errorf("%s: Result = %s, %q; want the verdict and reason of Check", tc.name, r.Status, r.Reason)
		}
	}
}

// A lost event's evidence carries the start of the receiver's answer,
// which often says why it refused the event; reading it must not take
// the answer away from vegeta (Bytes In still counts all of it).
func TestLostEventsKeepTheStartOfTheAnswer(t *testing.T) {
	t.Parallel()
	const answer = `{"error":"data.status: \"ON HOLD\" is not one of OPEN, ON_HOLD, CLOSED"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	for _, tr := range []string{TransportFast, TransportNetHTTP} {
		t.Run(tr, func(t *testing.T) {
			cfg := testConfig(srv.URL)
			e, err := New(cfg, Options{Rate: 0, MaxRequests: 20, Duration: 10 * time.Second, MaxWorkers: 2, Transport: tr}, testAuth(t, cfg))
			if err != nil {
				t.Fatal(err)
			}
			sum, err := e.Run(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(sum.LostEvents) == 0 || !strings.Contains(sum.LostEvents[0].AnswerExcerpt, "ON HOLD") {
				t.Fatalf("lost events %+v; want the answer's start in each", sum.LostEvents)
			}
			if want := uint64(sum.Requests) * uint64(len(answer)); sum.BytesIn != want {
				t.Errorf("bytes in = %d; want %d: the peeked answer must still reach vegeta whole", sum.BytesIn, want)
			}
		})
	}
}
