package scenarios

import (
	. "github.com/onsi/ginkgo/v2"
)

// Register builds the spec tree for env. Ginkgo otherwise runs specs in
// code-location order (file by file, alphabetically), so the root container
// is Ordered: specs run as declared, and the run-wide checks that judge
// every delivery of the run come last. ContinueOnFailure keeps a failure
// from skipping the rest: a certification judges every requirement.
func Register(env *Env) {
	Describe("A RiskOS webhook receiver", Ordered, ContinueOnFailure, func() {
		describeAck(env)
		describeIdempotency(env)
		describeAuth(env)
		describeValidation(env)
		describeTLS(env)
		describeLoad(env)
		describeRunWide(env)
	})
}
