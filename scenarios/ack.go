package scenarios

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

func describeAck(env *Env) {
	Describe("Acknowledgement", func() {
		// ACK-01: every subscribed event type, valid and authenticated, MUST be acked 2xx.
		It("acknowledges every subscribed event type with 2xx", Checks("ACK-01"), func(ctx SpecContext) {
			var failures []string
			var all []harness.Attempt
			for _, t := range env.eventTypes() {
				for range env.Sizes.PerType {
					d := env.delivery(t, "ACK-01")
					a := env.Sender.Send(ctx, d)
					all = append(all, a)
					if !a.Acked() {
						recordAttempt(d, a, "2xx", "")
						failures = append(failures, fmt.Sprintf("%s %s → %s", t, a.EventID, answer(a)))
					}
				}
			}
			note("%d events of %d types sent: %s", len(all), len(env.eventTypes()), reports.TallyAttempts(all))
			Expect(failures).To(BeEmpty(), "valid, authenticated events not acknowledged with 2xx")
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// ACK-03: the ack status SHOULD be exactly 200.
		It("acknowledges with exactly 200", Checks("ACK-03"), func(ctx SpecContext) {
			var other []string
			base := env.ensureBaseline(ctx)
			note("baseline of %d events: %s", len(base), reports.TallyAttempts(base))
			for _, a := range base {
				if a.Acked() && a.Status != 200 {
					other = append(other, fmt.Sprintf("%s %s → %d", a.EventType, a.EventID, a.Status))
				}
			}
			Expect(other).To(BeEmpty(), "2xx acks other than 200 (some RiskOS products accept nothing else)")
		}, SpecTimeout(env.Config.Timeouts.Spec))
	})
}

// answer describes an attempt's outcome in a few words.
func answer(a harness.Attempt) string {
	if a.Status != 0 {
		return fmt.Sprint(a.Status)
	}
	return "no answer (" + string(a.ErrorClass) + ")"
}
