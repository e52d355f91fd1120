package harness

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// RetryPolicy is how RiskOS redelivers an event that was not acknowledged.
// The default is hookproof's reading of the RiskOS webhook documentation: an initial delivery
// plus up to 10 retries, only on 408, 409, 423, 429, 502, 503, 504 (and
// network errors), retry k waiting min(Base·2^(k-1), Max): 2, 4, 8, 16, 32,
// 60, 60, 60, 60, 60 s, 362 s in all.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the initial delivery.
	MaxRetries int `yaml:"max_retries" json:"max_retries"`
	// Base is the wait before the first retry; each later retry doubles it.
	Base time.Duration `yaml:"base" json:"base"`
	// Max caps every wait.
	Max time.Duration `yaml:"max" json:"max"`
	// Jitter spreads each wait uniformly by ±Jitter·wait (0 = none, RiskOS
	// documents none).
	Jitter float64 `yaml:"jitter" json:"jitter"`
	// RetryableCodes are the statuses RiskOS retries; any other non-2xx loses
	// the event.
	RetryableCodes []int `yaml:"retryable_codes" json:"retryable_codes"`
	// RetryNetworkErrors retries connection failures and timeouts too.
	RetryNetworkErrors bool `yaml:"retry_network_errors" json:"retry_network_errors"`
	// TimeScale multiplies every wait actually slept (0.01 turns 362 s into
	// 3.62 s); reports show the real schedule beside the scaled one.
	TimeScale float64 `yaml:"time_scale" json:"time_scale"`
}

// RiskOSRetryableCodes is the exact set of statuses RiskOS retries.
var RiskOSRetryableCodes = []int{408, 409, 423, 429, 502, 503, 504}

// DefaultRetryPolicy returns the RiskOS default policy, unscaled.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxRetries:         10,
		Base:               2 * time.Second,
		Max:                60 * time.Second,
		RetryableCodes:     slices.Clone(RiskOSRetryableCodes),
		RetryNetworkErrors: true,
		TimeScale:          1,
	}
}

// Retryable reports whether RiskOS would retry an answer with this status.
func (p RetryPolicy) Retryable(status int) bool {
	return slices.Contains(p.RetryableCodes, status)
}

// Verdict is what RiskOS makes of one delivery attempt's answer.
type Verdict uint8

const (
	// Acked: a 2xx; the event is delivered.
	Acked Verdict = iota
	// Retry: RiskOS would deliver the event again; it is not lost yet.
	Retry
	// Lost: any other answer; RiskOS gives up on the event.
	Lost
)

func (v Verdict) String() string {
	switch v {
	case Acked:
		return "acked"
	case Retry:
		return "retryable"
	}
	return "lost"
}

// Judge is the policy's verdict on one answer. Status 0 means no HTTP
// answer at all (a connection failure or timeout), which RiskOS retries
// only when RetryNetworkErrors is set; a 3xx is not followed and loses the
// event like any other status outside RetryableCodes.
func (p RetryPolicy) Judge(status int) Verdict {
	switch {
	case status >= 200 && status < 300:
		return Acked
	case status == 0 && p.RetryNetworkErrors:
		return Retry
	case status != 0 && p.Retryable(status):
		return Retry
	}
	return Lost
}

// Wait returns the real (unscaled, unjittered) wait before retry k (1-based).
func (p RetryPolicy) Wait(k int) time.Duration {
	if k < 1 {
		return 0
	}
	w := p.Base
	for i := 1; i < k && w < p.Max; i++ {
		w *= 2
	}
	return min(w, p.Max)
}

// ScaledWait returns the wait actually slept before retry k: Wait(k) spread
// by jitter (u is a uniform sample in [0,1), ignored when Jitter is 0) and
// multiplied by TimeScale.
func (p RetryPolicy) ScaledWait(k int, u float64) time.Duration {
	w := float64(p.Wait(k))
	if p.Jitter > 0 {
		w *= 1 + p.Jitter*(2*u-1)
	}
	return time.Duration(w * p.TimeScale)
}

// Schedule returns the real waits before retries 1..MaxRetries.
func (p RetryPolicy) Schedule() []time.Duration {
	s := make([]time.Duration, p.MaxRetries)
	for k := range s {
		s[k] = p.Wait(k + 1)
	}
	return s
}

// Span is the whole backoff at real scale: how long after the initial
// delivery the last retry of an event can still come.
func (p RetryPolicy) Span() time.Duration {
	var d time.Duration
	for _, w := range p.Schedule() {
		d += w
	}
	return d
}

// ScaledSpan is Span as the sender sleeps it (TimeScale applied, no
// jitter): how long the retry loop may take for one event, attempt
// timeouts not included.
func (p RetryPolicy) ScaledSpan() time.Duration {
	return time.Duration(float64(p.Span()) * p.TimeScale)
}

// Validate reports every problem with the policy, each naming its field
// under prefix (e.g. "retry.").
func (p RetryPolicy) Validate(prefix string) error {
	var errs []error
	if p.MaxRetries < 0 || p.MaxRetries > 100 {
		errs = append(errs, fmt.Errorf("%smax_retries: %d is outside 0..100", prefix, p.MaxRetries))
	}
	if p.Base <= 0 {
		errs = append(errs, fmt.Errorf("%sbase: must be positive, got %s", prefix, p.Base))
	}
	if p.Max < p.Base {
		errs = append(errs, fmt.Errorf("%smax: %s is less than base %s", prefix, p.Max, p.Base))
	}
	if p.Jitter < 0 || p.Jitter >= 1 {
		errs = append(errs, fmt.Errorf("%sjitter: %g is outside [0, 1)", prefix, p.Jitter))
	}
	if p.TimeScale <= 0 || p.TimeScale > 1 {
		errs = append(errs, fmt.Errorf("%stime_scale: %g is outside (0, 1]", prefix, p.TimeScale))
	}
	for _, c := range p.RetryableCodes {
		if c < 100 || c > 599 {
			errs = append(errs, fmt.Errorf("%sretryable_codes: %d is not an HTTP status", prefix, c))
		}
	}
	return errors.Join(errs...)
}
