package scenarios

import (
	. "github.com/onsi/ginkgo/v2"
)

// Register builds the spec tree for env. One root container keeps the
// declaration order (Ginkgo shuffles only top-level containers), so the
// run-wide checks that judge every delivery of the run come last.
func Register(env *Env) {
	Describe("A RiskOS webhook receiver", func() {
		describeAck(env)
		describeIdempotency(env)
		describeAuth(env)
		describeValidation(env)
		describeTLS(env)
		describeLoad(env)
		describeRunWide(env)
	})
}
