package scenarios

import (
	. "github.com/onsi/ginkgo/v2"
)

// describeLoad registers the throughput checks. They run the vegeta engine
// (harness/load) and are Serial: nothing else may share the receiver while
// its capacity is measured.
func describeLoad(env *Env) {
	Describe("Throughput", Serial, Label("load"), func() {
		for _, c := range []struct{ id, text string }{
			{"LOAD-01", "acknowledges at least 99.9 % of deliveries within the ack budget at the required rate"},
			{"LOAD-02", "has a capacity of at least twice the required rate"},
			{"LOAD-03", "processes every event exactly once under load with duplicates"},
			{"LOAD-04", "answers a spike only with 2xx or retryable statuses and recovers"},
			{"RETRY-02", "finally acknowledges every event of an overload burst through the RiskOS retry loop"},
		} {
			It(c.text, Checks(c.id), func() {
				Skip("the load checks are not built yet (hookproof load); reported as skipped, not missing")
			})
		}
	})
}
