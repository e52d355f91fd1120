package load

import (
	"context"
	"fmt"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// CapacityOptions bound a capacity search. Zero fields take the defaults
// documented on each.
type CapacityOptions struct {
	// Start is the first rate tried (default Config.RequiredRate); Max the
	// highest (default 64 × Start).
	Start, Max float64
	// StepDuration is the length of each step (default 3 s).
	StepDuration time.Duration
	// Precision stops the binary search once the failing rate is within
	// (1+Precision) of the passing one (default 0.1).
	Precision float64
	// MaxSteps (default 12) and TimeCap (default 2 min, cooldowns included)
	// bound the whole search.
	MaxSteps int
	TimeCap  time.Duration
	// Cooldown lets the receiver drain its queues between steps, so a step
	// does not inherit the previous one's backlog (default 1 s).
	Cooldown time.Duration
	// Bounds judge each step; a zero field takes LOAD-01's (Load01Bounds).
	Bounds Bounds
	// Now is the clock the time cap reads (default time.Now).
	Now func() time.Time
}

func (o CapacityOptions) normalize(cfg harness.Config) CapacityOptions {
	if o.Start <= 0 {
		o.Start = cfg.RequiredRate
	}
	if o.Start <= 0 {
		o.Start = harness.DefaultRequiredRate
	}
	if o.Max <= 0 {
		o.Max = 64 * o.Start
	}
	o.Max = max(o.Max, o.Start)
	if o.StepDuration <= 0 {
		o.StepDuration = 3 * time.Second
	}
	if o.Precision <= 0 {
		o.Precision = 0.1
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = 12
	}
	if o.TimeCap <= 0 {
		o.TimeCap = 2 * time.Minute
	}
	if o.Cooldown < 0 {
		o.Cooldown = 0
	} else if o.Cooldown == 0 {
		o.Cooldown = time.Second
	}
	def := Load01Bounds(cfg)
	if o.Bounds.MinSuccess <= 0 {
		o.Bounds.MinSuccess = def.MinSuccess
	}
	if o.Bounds.MaxP99 <= 0 {
		o.Bounds.MaxP99 = def.MaxP99
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// StepFunc runs one step of a capacity search at rate for d.
type StepFunc func(ctx context.Context, rate float64, d time.Duration) (*Summary, error)

// Step is one step of a capacity search, as evidence.
type Step struct {
	Rate          float64 `json:"rate"`
	SentRate      float64 `json:"sent_rate"`
	Requests      uint64  `json:"requests"`
	SuccessRatio  float64 `json:"success_ratio"`
	P99MS         float64 `json:"p99_ms"`
	ResponseP99MS float64 `json:"response_p99_ms"`
	Pass          bool    `json:"pass"`
	Reason        string  `json:"reason,omitempty"`
}

// Capacity is the outcome of a capacity search.
type Capacity struct {
	// RPS is the highest rate that met the bounds, 0 if none did.
	RPS float64 `json:"capacity_rps"`
	// Lowest failing rate tried, 0 if none failed (RPS is then a lower
	// bound: the search hit Max, MaxSteps or the time cap first).
	FailedAt float64 `json:"failed_at_rps,omitempty"`
	Steps    []Step  `json:"steps"`
	// Stopped says why the search ended.
	Stopped string `json:"stopped"`
}

// SearchCapacity finds the highest rate meeting LOAD-01's bounds: it
// doubles the rate from Start while steps pass, then bisects between the
// last pass and the first failure until they are within Precision. Every
// step is short and the whole search is bounded by MaxSteps and TimeCap;
// cancelling ctx ends it with the steps so far.
func SearchCapacity(ctx context.Context, cfg harness.Config, opts CapacityOptions, step StepFunc) (*Capacity, error) {
	o := opts.normalize(cfg)
	deadline := o.Now().Add(o.TimeCap)
	c := &Capacity{}
	var lo, hi float64 // highest pass, lowest fail (0 = none yet)
	rate := o.Start
	for {
		switch {
		case len(c.Steps) >= o.MaxSteps:
			c.Stopped = fmt.Sprintf("max steps (%d)", o.MaxSteps)
		case deadline.Sub(o.Now()) < o.StepDuration:
			c.Stopped = fmt.Sprintf("time cap (%s)", o.TimeCap)
		case ctx.Err() != nil:
			c.Stopped = "interrupted"
		}
		if c.Stopped != "" {
			break
		}
		s, err := step(ctx, rate, o.StepDuration)
		if err != nil {
			c.RPS, c.FailedAt, c.Stopped = lo, hi, "error"
			return c, fmt.Errorf("capacity: step at %g/s: %w", rate, err)
		}
		if s.Interrupted {
			c.Stopped = "interrupted"
			break
		}
		st := judgeStep(o, rate, s)
		c.Steps = append(c.Steps, st)
		if st.Pass {
			lo = rate
		} else {
			hi = rate
		}
		next, done := nextRate(o, lo, hi)
		if done != "" {
			c.Stopped = done
			break
		}
		rate = next
		if o.Cooldown > 0 && deadline.Sub(o.Now()) >= o.Cooldown+o.StepDuration {
			t := time.NewTimer(o.Cooldown)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
	}
	c.RPS, c.FailedAt = lo, hi
	return c, nil
}

// nextRate is the search's next rate, or why it is over.
func nextRate(o CapacityOptions, lo, hi float64) (float64, string) {
	switch {
	case hi == 0 && lo >= o.Max:
		return 0, fmt.Sprintf("max rate (%g/s) passed", o.Max)
	case hi == 0:
		return min(2*lo, o.Max), ""
	case lo > 0 && hi <= lo*(1+o.Precision):
		return 0, "converged"
	case lo == 0 && hi <= 1:
		return 0, "no rate passed"
	}
	return (lo + hi) / 2, ""
}

// judgeStep applies LOAD-01's bounds to one step, and also fails a step
// whose sent rate fell 5 % short of the rate asked: that rate was not
// actually tested.
func judgeStep(o CapacityOptions, rate float64, s *Summary) Step {
	st := Step{
		Rate: rate, SentRate: s.SentRate, Requests: s.Requests, SuccessRatio: s.SuccessRatio,
		P99MS: s.LatencyMS.P99, ResponseP99MS: s.ResponseLatencyMS.P99, Pass: true,
	}
	at := *s
	at.RequestedRate = rate // the step's rate, whatever the runner recorded
	if ok, reason := o.Bounds.Check(&at); !ok {
		st.Pass, st.Reason = false, reason
	} else if s.SentRate < 0.95*rate {
		st.Pass, st.Reason = false, fmt.Sprintf("sent %.0f/s of %.0f/s", s.SentRate, rate)
	}
	return st
}

// EngineStep returns a StepFunc that runs the engine with base's options at
// each step's rate and duration (no ramp, spike or duplicates).
func EngineStep(cfg harness.Config, base Options, auth Authorizer) StepFunc {
	return func(ctx context.Context, rate float64, d time.Duration) (*Summary, error) {
		o := base
		o.Rate, o.Duration, o.Ramp, o.Spike, o.DuplicateRatio, o.Results = rate, d, nil, nil, 0, nil
		e, err := New(cfg, o, auth)
		if err != nil {
			return nil, err
		}
		return e.Run(ctx, nil)
	}
}

// SearchCapacityRun is SearchCapacity on the engine with base's options,
// for a caller that reports the search as a run: onStep (may be nil) sees
// every completed step, and the summary returned is the fastest passing
// step's (the last step's when none passed), so a report's load section
// describes a run at the reported capacity, with CapacityRPS set.
func SearchCapacityRun(ctx context.Context, cfg harness.Config, co CapacityOptions, base Options, auth Authorizer, onStep func(rate float64, s *Summary)) (*Summary, *Capacity, error) {
	step := EngineStep(cfg, base, auth)
	byRate := map[float64]*Summary{} // at most CapacityOptions.MaxSteps entries
	var last *Summary
	wrapped := func(ctx context.Context, rate float64, d time.Duration) (*Summary, error) {
		s, err := step(ctx, rate, d)
		if s != nil && !s.Interrupted {
			byRate[rate], last = s, s
			if onStep != nil {
				onStep(rate, s)
			}
		}
		return s, err
	}
	c, err := SearchCapacity(ctx, cfg, co, wrapped)
	if c == nil {
		return nil, nil, err
	}
	s := last
	if b, ok := byRate[c.RPS]; ok {
		s = b
	}
	if s == nil {
		// Interrupted before the first step ended: an empty, interrupted run.
		s = &Summary{Interrupted: true, StartedAt: time.Now()}
	}
	s.CapacityRPS = c.RPS
	return s, c, err
}
