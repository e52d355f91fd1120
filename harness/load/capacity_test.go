package load

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// fakeReceiver is a step runner for a receiver that meets LOAD-01's bounds
// up to capacity events/s and not beyond; each step advances a fake clock.
type fakeReceiver struct {
	capacity float64
	now      time.Time
	rates    []float64
}

func (f *fakeReceiver) step(_ context.Context, rate float64, d time.Duration) (*Summary, error) {
	f.rates = append(f.rates, rate)
	f.now = f.now.Add(d)
	s := &Summary{Requests: uint64(rate * d.Seconds()), SentRate: rate, SuccessRatio: 1}
	s.LatencyMS.P99, s.ResponseLatencyMS.P99 = 20, 20
	if rate > f.capacity {
		s.SuccessRatio = 0.97
	}
	return s, nil
}

func (f *fakeReceiver) clock() time.Time { return f.now }

func TestSearchCapacityConverges(t *testing.T) {
	t.Parallel()
	cfg := harness.DefaultConfig()
	f := &fakeReceiver{capacity: 730, now: t0}
	c, err := SearchCapacity(context.Background(), cfg, CapacityOptions{Start: 50, Cooldown: -1, MaxSteps: 20, Now: f.clock}, f.step)
	if err != nil {
		t.Fatal(err)
	}
	if c.RPS > 730 || c.FailedAt <= 730 || c.FailedAt > c.RPS*1.1 {
		t.Errorf("capacity %g, failed at %g; want pass ≤ 730 < fail ≤ 1.1 × pass", c.RPS, c.FailedAt)
	}
	if c.Stopped != "converged" {
		t.Errorf("stopped = %q; want converged", c.Stopped)
	}
	// Doubling from 50: 50, 100, 200, 400, 800 (fail), then bisection.
	want := []float64{50, 100, 200, 400, 800, 600, 700, 750}
	for i, r := range want {
		if i >= len(f.rates) || f.rates[i] != r {
			t.Fatalf("rates tried = %v; want to start %v", f.rates, want)
		}
	}
	if len(c.Steps) != len(f.rates) {
		t.Errorf("%d steps reported; %d run", len(c.Steps), len(f.rates))
	}
	for _, s := range c.Steps {
		if s.Pass != (s.Rate <= 730) || (!s.Pass && !strings.Contains(s.Reason, "success ratio")) {
			t.Errorf("step %+v judged wrongly", s)
		}
	}
}

func TestSearchCapacityBounded(t *testing.T) {
	t.Parallel()
	cfg := harness.DefaultConfig()
	for _, tc := range []struct {
		name    string
		opts    CapacityOptions
		steps   int
		stopped string
	}{
		{"time cap: 10 s allows three 3 s steps", CapacityOptions{Start: 10, TimeCap: 10 * time.Second, Cooldown: -1}, 3, "time cap"},
		{"max steps", CapacityOptions{Start: 10, MaxSteps: 4, Cooldown: -1}, 4, "max steps"},
		{"max rate passed", CapacityOptions{Start: 10, Max: 40, Cooldown: -1}, 3, "max rate"},
	} {
		f := &fakeReceiver{capacity: 1e9, now: t0}
		tc.opts.Now = f.clock
		c, err := SearchCapacity(context.Background(), cfg, tc.opts, f.step)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Steps) != tc.steps || !strings.HasPrefix(c.Stopped, tc.stopped) {
			t.Errorf("%s: %d steps, stopped %q; want %d, %q", tc.name, len(c.Steps), c.Stopped, tc.steps, tc.stopped)
		}
		if c.FailedAt != 0 || c.RPS != f.rates[len(f.rates)-1] {
			t.Errorf("%s: capacity %g failed at %g; want a lower bound of %g", tc.name, c.RPS, c.FailedAt, f.rates[len(f.rates)-1])
		}
	}
}

func TestSearchCapacityNothingPasses(t *testing.T) {
	t.Parallel()
	f := &fakeReceiver{capacity: 0, now: t0}
	c, err := SearchCapacity(context.Background(), harness.DefaultConfig(), CapacityOptions{Start: 50, Cooldown: -1, MaxSteps: 30, Now: f.clock}, f.step)
	if err != nil {
		t.Fatal(err)
	}
	if c.RPS != 0 || c.Stopped != "no rate passed" {
		t.Errorf("capacity %g stopped %q; want 0, no rate passed", c.RPS, c.Stopped)
	}
}

func TestSearchCapacityFailsSlowAndShortSteps(t *testing.T) {
	t.Parallel()
	o := CapacityOptions{}.normalize(harness.DefaultConfig()) // ack budget 500 ms
	slow := &Summary{Requests: 100, SentRate: 100, SuccessRatio: 1}
	slow.LatencyMS.P99, slow.ResponseLatencyMS.P99 = 100, 900 // fine when sent, late against schedule
	if st := judgeStep(o, 100, slow); st.Pass || !strings.Contains(st.Reason, "p99") {
		t.Errorf("judgeStep(response p99 900ms) = %+v; want a p99 failure", st)
	}
	short := &Summary{Requests: 80, SentRate: 80, SuccessRatio: 1}
	if st := judgeStep(o, 100, short); st.Pass || !strings.Contains(st.Reason, "sent") {
		t.Errorf("judgeStep(sent 80 of 100/s) = %+v; want a shortfall failure", st)
	}
}

func TestSearchCapacityReportsStepErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("receiver unreachable")
	c, err := SearchCapacity(context.Background(), harness.DefaultConfig(), CapacityOptions{Start: 10, Cooldown: -1},
		func(context.Context, float64, time.Duration) (*Summary, error) { return nil, boom })
	if !errors.Is(err, boom) || c == nil || c.Stopped != "error" {
		t.Errorf("SearchCapacity = %+v, %v; want the step error wrapped", c, err)
	}
}
