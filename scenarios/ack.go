package scenarios

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hookproof/hookproof/fakes/riskos"
)

func describeAck(env *Env) {
	Describe("Acknowledgement", func() {
		// ACK-01: every subscribed event type, valid and authenticated, MUST be acked 2xx.
		It("acknowledges every subscribed event type with 2xx", Checks("ACK-01"), func(ctx SpecContext) {
			var failures []string
			var all []riskos.Outcome
			for _, t := range env.eventTypes() {
				for range env.Sizes.PerType {
					d := env.delivery(t, "ACK-01")
					out := env.sendValid(ctx, d)
					all = append(all, out)
					if !out.Acked {
						recordOutcome(d, out, "2xx", "")
						failures = append(failures, fmt.Sprintf("%s %s: %s", t, d.EventID, out))
					}
				}
			}
			note("%d events of %d types sent: %s", len(all), len(env.eventTypes()), outcomeTally(all))
			Expect(failures).To(BeEmpty(), func() string {
				return fmt.Sprintf("%d of %d valid, authenticated events were never acknowledged, so RiskOS would lose them: %s", len(failures), len(all), listed(failures, 3))
			})
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// ACK-03: the ack status SHOULD be exactly 200.
		It("acknowledges with exactly 200", Checks("ACK-03"), func(ctx SpecContext) {
			var other []string
			base := env.ensureBaseline(ctx)
			note("one event of each of %d types: %s", len(base), outcomeTally(base))
			for _, o := range base {
				if a := o.Final; o.Acked && a.Status != 200 {
					other = append(other, fmt.Sprintf("%s %s → %d", a.EventType, a.EventID, a.Status))
				}
			}
			Expect(other).To(BeEmpty(), func() string {
				return fmt.Sprintf("acknowledged %d of %d valid events with a 2xx other than 200 (%s); some RiskOS products accept only 200", len(other), len(base), listed(other, 3))
			})
		}, SpecTimeout(env.Config.Timeouts.Spec))
	})
}

// answer describes an attempt's outcome in a few words.
// listed joins the first n items, saying how many more there are.
func listed(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return fmt.Sprintf("%s (and %d more)", strings.Join(items[:n], "; "), len(items)-n)
}

// either lists statuses as "401 or 403".
func either(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = fmt.Sprint(c)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
