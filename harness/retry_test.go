package harness

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultScheduleIsRiskOS(t *testing.T) {
	p := DefaultRetryPolicy()
	s := time.Second
	want := []time.Duration{2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 60 * s, 60 * s, 60 * s, 60 * s, 60 * s}
	got := p.Schedule()
	if !slices.Equal(got, want) {
		t.Fatalf("Schedule() = %v; want %v", got, want)
	}
	var total time.Duration
	for _, w := range got {
		total += w
	}
	if total != 362*s {
		t.Errorf("total backoff = %s; want 6m2s", total)
	}
}

func TestScaledWait(t *testing.T) {
	p := DefaultRetryPolicy()
	p.TimeScale = 0.01
	for _, tc := range []struct {
		k    int
		u    float64
		jit  float64
		want time.Duration
	}{
		{1, 0, 0, 20 * time.Millisecond},      // 2 s scaled by 0.01
		{6, 0, 0, 600 * time.Millisecond},     // capped at 60 s, scaled
		{10, 0.99, 0, 600 * time.Millisecond}, // no jitter ignores u
		{1, 0, 0.5, 10 * time.Millisecond},    // -50 %
		{1, 0.75, 0.5, 25 * time.Millisecond}, // +25 %
		{0, 0, 0, 0},                          // the initial delivery waits nothing
	} {
		p.Jitter = tc.jit
		if got := p.ScaledWait(tc.k, tc.u); got != tc.want {
			t.Errorf("ScaledWait(%d, %g) with jitter %g = %s; want %s", tc.k, tc.u, tc.jit, got, tc.want)
		}
	}
}

func TestRetryableIsExactlyRiskOSSet(t *testing.T) {
	p := DefaultRetryPolicy()
	for code := 100; code < 600; code++ {
		want := slices.Contains([]int{408, 409, 423, 429, 502, 503, 504}, code)
		if got := p.Retryable(code); got != want {
			t.Errorf("Retryable(%d) = %v; want %v", code, got, want)
		}
	}
}

func TestRetryPolicyValidateNamesEveryField(t *testing.T) {
	p := RetryPolicy{MaxRetries: -1, Base: 0, Max: -1, Jitter: 2, TimeScale: 0, RetryableCodes: []int{42}}
	err := p.Validate("retry.")
	if err == nil {
		t.Fatal("Validate() = nil; want errors")
	}
	for _, field := range []string{"retry.max_retries", "retry.base", "retry.max", "retry.jitter", "retry.time_scale", "retry.retryable_codes"} {
		if !contains(err.Error(), field) {
			t.Errorf("Validate() = %q; want it to name %s", err, field)
		}
	}
	if err := DefaultRetryPolicy().Validate(""); err != nil {
		t.Errorf("default policy invalid: %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestJudge(t *testing.T) {
	p := DefaultRetryPolicy()
	for _, tc := range []struct {
		status int
		want   Verdict
	}{
		{200, Acked}, {204, Acked}, {299, Acked},
		{0, Retry}, {408, Retry}, {409, Retry}, {429, Retry}, {503, Retry},
		{301, Lost}, {400, Lost}, {401, Lost}, {500, Lost}, {501, Lost},
	} {
		if got := p.Judge(tc.status); got != tc.want {
			t.Errorf("Judge(%d) = %s; want %s", tc.status, got, tc.want)
		}
	}
	p.RetryNetworkErrors = false
	if got := p.Judge(0); got != Lost {
		t.Errorf("Judge(0) without RetryNetworkErrors = %s; want lost", got)
	}
}

func TestSpanIsTheWholeBackoff(t *testing.T) {
	p := DefaultRetryPolicy()
	if got, want := p.Span(), 362*time.Second; got != want {
		t.Errorf("Span() = %s; want %s (2+4+8+16+32+5×60 s)", got, want)
	}
	p.TimeScale = 0.01
	if got, want := p.ScaledSpan(), 3620*time.Millisecond; got != want {
		t.Errorf("ScaledSpan() at 0.01 = %s; want %s", got, want)
	}
}
