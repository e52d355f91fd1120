package scenarios

import (
	"fmt"
	"net/http"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
)

func describeValidation(env *Env) {
	Describe("Untrusted input", func() {
		// The catalogue of hostile bodies is built once per run from one
		// base event; each body gets its own event_id.
		hostile := riskos.HostileBodies(env.event(""), env.Config.BodyLimit)
		byReq := map[string][]riskos.Hostile{}
		for _, h := range hostile {
			byReq[h.Requirement] = append(byReq[h.Requirement], h)
		}
		deliver := func(ctx SpecContext, h riskos.Hostile) (riskos.Delivery, harness.Attempt) {
			d := h.Delivery("")
			d.Label, d.URL = h.Requirement, env.Config.Target
			// A hostile body may leave its connection unusable (a receiver
			// that answers and closes mid-body): it travels alone.
			d.Isolated = true
			if h.Requirement == "VAL-06" {
				// Extra fields leave a valid event valid: RETRY-01 judges
				// its answer. An unknown event_type (VAL-05) is not a
				// catalogue event, so only VAL-05 judges that one.
				d.Label = validLabel + h.Requirement
			}
			return d, env.Sender.Send(ctx, d)
		}
		// alive checks the receiver still acknowledges a valid event.
		alive := func(ctx SpecContext, after string) {
			d := env.delivery("", "liveness")
			out := env.sendValid(ctx, d)
			recordOutcome(d, out, "2xx", "a valid event after "+after)
			Expect(out.Acked).To(BeTrue(), "the receiver did not acknowledge a valid event after %s: %s", after, out)
		}
		// Bodies that must be rejected and never processed are checked
		// through the probe together, once per requirement, after their
		// specs: one settling wait instead of one per body.
		unprocessed := map[string]*rejected{"VAL-01": {}, "VAL-03": {}, "VAL-04": {}}
		rejected4xx := func(ctx SpecContext, h riskos.Hostile, notProcessed bool) {
			d, a := deliver(ctx, h)
			recordAttempt(d, a, "a non-retryable 4xx", h.Name)
			Expect(a.Status).To(SatisfyAll(BeNumerically(">=", 400), BeNumerically("<", 500)),
				"answered %s to %s; expected a 4xx rejection", riskos.AnswerOf(a), h.Name)
			Expect(env.Config.Retry.Retryable(a.Status)).To(BeFalse(),
				"%s was answered %d, which RiskOS retries: a bad body would be resent %d times", h.Name, a.Status, env.Config.Retry.MaxRetries)
			if notProcessed {
				for _, id := range h.EventIDs {
					unprocessed[h.Requirement].add(id)
				}
			}
		}
		notProcessedSpec := func(id, what string) {
			It("does not process "+what+" it rejected", Checks(id), func(ctx SpecContext) {
				needProbe(env)
				ids := unprocessed[id].all()
				if len(ids) == 0 {
					Skip("no rejected body of this kind was delivered in this run")
				}
				expectNoneProcessed(ctx, env, ids)
			}, SpecTimeout(env.Config.Timeouts.Spec))
		}

		// VAL-01: malformed JSON MUST be rejected with a non-retryable 4xx and not processed.
		for _, h := range byReq["VAL-01"] {
			It("rejects "+h.Name+" with a non-retryable 4xx", Checks("VAL-01"), func(ctx SpecContext) {
				rejected4xx(ctx, h, true)
			}, SpecTimeout(env.Config.Timeouts.Spec))
		}
		notProcessedSpec("VAL-01", "malformed JSON")
		// VAL-02: an envelope missing event_id or event_type, or mistyping them, MUST be rejected with 4xx.
		for _, h := range byReq["VAL-02"] {
			It("rejects "+h.Name+" with a non-retryable 4xx", Checks("VAL-02"), func(ctx SpecContext) {
				rejected4xx(ctx, h, false)
			}, SpecTimeout(env.Config.Timeouts.Spec))
		}
		// VAL-03: a body over the size limit MUST be rejected with 4xx, and the receiver stays healthy.
		for _, h := range byReq["VAL-03"] {
			It("rejects "+h.Name+" with 4xx and stays healthy", Checks("VAL-03"), func(ctx SpecContext) {
				rejected4xx(ctx, h, true)
				alive(ctx, h.Name)
			}, SpecTimeout(env.Config.Timeouts.Spec))
		}
		notProcessedSpec("VAL-03", "an oversized body")
		// VAL-04: a non-JSON Content-Type SHOULD be rejected with 4xx.
		for _, h := range byReq["VAL-04"] {
			It("rejects "+h.Name+" with 4xx", Checks("VAL-04"), func(ctx SpecContext) {
				rejected4xx(ctx, h, true)
			}, SpecTimeout(env.Config.Timeouts.Spec))
		}
		notProcessedSpec("VAL-04", "a non-JSON content type")
		// VAL-05: an unknown event_type in a valid envelope SHOULD be acknowledged 2xx.
		// VAL-06: unknown extra fields MUST be tolerated.
		for _, id := range []string{"VAL-05", "VAL-06"} {
			for _, h := range byReq[id] {
				It("acknowledges "+h.Name+" with 2xx", Checks(id), func(ctx SpecContext) {
					d, a := deliver(ctx, h)
					recordAttempt(d, a, "2xx", h.Name)
					Expect(a.Acked()).To(BeTrue(), "answered %s to %s; expected 2xx", riskos.AnswerOf(a), h.Name)
				}, SpecTimeout(env.Config.Timeouts.Spec))
			}
		}
		// VAL-07: hostile JSON MUST never cause a 5xx, a hang or a crash.
		for _, h := range byReq["VAL-07"] {
			It("survives "+h.Name+" without a 5xx or a hang", Checks("VAL-07"), func(ctx SpecContext) {
				d, a := deliver(ctx, h)
				recordAttempt(d, a, "2xx or 4xx, promptly", h.Name)
				Expect(a.ErrorClass).To(Equal(harness.ErrNone), "gave %s to %s; expected a prompt 2xx or 4xx", riskos.AnswerOf(a), h.Name)
				Expect(a.Status).To(BeNumerically("<", 500), "answered %d to %s; hostile input must never cause a 5xx", a.Status, h.Name)
				alive(ctx, h.Name)
			}, SpecTimeout(env.Config.Timeouts.Spec))
		}
		// VAL-09: spelling variants the RiskOS documentation leaves open SHOULD be acknowledged 2xx.
		for _, v := range harness.SpellingVariants() {
			It(fmt.Sprintf("acknowledges %q in %s %s", v.Value, v.EventType, v.Pointer), Checks("VAL-09"), func(ctx SpecContext) {
				if !slices.Contains(env.eventTypes(), v.EventType) {
					Skip(fmt.Sprintf("%s is not among the subscribed event types (--event-types)", v.EventType))
				}
				ev, err := env.eventWithVariant(v)
				Expect(err).NotTo(HaveOccurred(), "generating %s with %s", v.EventType, v.Value)
				d := riskos.DeliveryOf(ev)
				d.Label, d.URL = "VAL-09", env.Config.Target
				out := env.Sender.SendWithRetry(ctx, d)
				if out.Acked {
					env.backlog.add(1)
				}
				recordOutcome(d, out, "2xx", fmt.Sprintf("%s with %s = %q (%s)", v.EventType, v.Pointer, v.Value, v.Source))
				Expect(out.Acked).To(BeTrue(), "%s with %s = %q, a spelling RiskOS may send beside %q: %s", v.EventType, v.Pointer, v.Value, v.Documented, out)
			}, SpecTimeout(env.Config.Timeouts.Spec))
		}
		// VAL-08: methods other than POST SHOULD be answered 404 or 405.
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			It(fmt.Sprintf("answers %s on the webhook path with 404 or 405", m), Checks("VAL-08"), func(ctx SpecContext) {
				d := env.forged("VAL-08")
				d.Method = m
				if m == http.MethodGet || m == http.MethodDelete {
					d.Body = nil
				}
				a := env.Sender.Send(ctx, d)
				recordAttempt(d, a, "404 or 405", m+" on the webhook path")
				Expect(a.Status).To(BeElementOf(404, 405), "answered %s to %s on the webhook path; expected 404 or 405", riskos.AnswerOf(a), m)
			}, SpecTimeout(env.Config.Timeouts.Spec))
		}
	})
}

// eventWithVariant generates a valid event carrying one documented
// spelling variant (VAL-09).
func (e *Env) eventWithVariant(v harness.SpellingVariant) (harness.Event, error) {
	e.genMu.Lock()
	defer e.genMu.Unlock()
	return e.gen.EventWithVariant(v)
}
