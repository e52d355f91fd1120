package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// describeRunWide registers the checks that judge every delivery of the run,
// so they are registered last (Register keeps declaration order).
func describeRunWide(env *Env) {
	Describe("Every delivery of the run", func() {
		// ACK-02: p99 ack latency MUST be within the ack budget, and no delivery may reach the delivery timeout.
		It("is acknowledged within the ack budget at p99 and never times out", Checks("ACK-02"), func(ctx SpecContext) {
			env.ensureBaseline(ctx)
			valid := env.validAttempts()
			var lat []time.Duration
			var timedOut []string
			for _, a := range valid {
				if a.ErrorClass == harness.ErrTimeout {
					timedOut = append(timedOut, fmt.Sprintf("%s %s", a.EventType, a.EventID))
				}
				if a.Status != 0 || a.ErrorClass == harness.ErrTimeout {
					lat = append(lat, a.Latency)
				}
			}
			Expect(lat).NotTo(BeEmpty(), "no valid delivery was answered")
			slices.Sort(lat)
			p50, p99, worst := quantile(lat, 0.50), quantile(lat, 0.99), lat[len(lat)-1]
			budget := env.Config.Timeouts.AckBudget
			record(reports.Evidence{Summary: fmt.Sprintf("%d valid deliveries: p50 %s, p99 %s, max %s (budget %s)",
				len(lat), p50.Round(time.Microsecond), p99.Round(time.Microsecond), worst.Round(time.Microsecond), budget),
				LatencyMS: ms(p99), Expected: "p99 ≤ " + budget.String()})
			Expect(timedOut).To(BeEmpty(), "deliveries reached the %s delivery timeout", env.Config.Timeouts.Attempt)
			Expect(p99).To(BeNumerically("<=", budget), "p99 ack latency %s is over the %s budget", p99, budget)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// ACK-04: no webhook POST may be answered with a redirect.
		It("is never answered with a redirect", Checks("ACK-04"), func(ctx SpecContext) {
			env.ensureBaseline(ctx)
			all := env.Sender.Ledger().Attempts()
			var redirects []string
			for _, a := range all {
				if a.Status >= 300 && a.Status < 400 {
					redirects = append(redirects, fmt.Sprintf("%s → %d Location %s", a.EventID, a.Status, harness.RedactURL(a.Location)))
				}
			}
			note("%d deliveries checked, %d redirects", len(all), len(redirects))
			Expect(redirects).To(BeEmpty(), "RiskOS does not follow redirects: these events were never delivered")
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// RETRY-01: every non-2xx answer to a valid, authenticated event MUST be retryable.
		It("answers valid events only with 2xx or a status RiskOS retries", Checks("RETRY-01"), func(ctx SpecContext) {
			env.ensureBaseline(ctx)
			valid := env.validAttempts()
			var lost []string
			for _, a := range valid {
				if a.Status != 0 && !a.Acked() && !env.Config.Retry.Retryable(a.Status) {
					lost = append(lost, fmt.Sprintf("%s %s → %d", a.EventType, a.EventID, a.Status))
					record(reports.Evidence{Summary: "event lost: RiskOS does not retry " + fmt.Sprint(a.Status), EventID: a.EventID, Status: a.Status, Expected: "2xx or one of 408, 409, 423, 429, 502, 503, 504"})
				}
			}
			note("%d valid deliveries checked: %s", len(valid), statusTally(valid))
			Expect(lost).To(BeEmpty(), "these valid events were answered with a status RiskOS gives up on: the events are lost")
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// RETRY-03: 429 and 503 answers SHOULD carry Retry-After.
		It("sends Retry-After with every 429 and 503", Checks("RETRY-03"), func(ctx SpecContext) {
			var throttled, missing []string
			for _, a := range env.Sender.Ledger().Attempts() {
				if a.Status == 429 || a.Status == 503 {
					throttled = append(throttled, a.EventID)
					if strings.TrimSpace(a.RetryAfter) == "" {
						missing = append(missing, fmt.Sprintf("%s → %d", a.EventID, a.Status))
					}
				}
			}
			if len(throttled) == 0 {
				Skip("no 429 or 503 answer was observed in this run (the overload burst of --profile full provokes them)")
			}
			note("%d answers 429/503, %d without Retry-After", len(throttled), len(missing))
			Expect(missing).To(BeEmpty(), "429/503 answers without Retry-After")
		}, SpecTimeout(env.Config.Timeouts.Spec))
	})
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
