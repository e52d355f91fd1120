// Package hookprooftest certifies a RiskOS webhook receiver from a Go test,
// the way net/http/httptest tests a handler: Certify serves the handler on
// loopback (HTTPS with a throwaway CA), plays RiskOS against it in-process,
// and reports every requirement of hookproof's catalogue as a subtest named
// by its ID, so that
//
//	go test -run 'TestReceiver/IDEM'
//
// runs only the idempotency checks and CI shows one test per requirement.
// A failed MUST requirement fails its subtest with the plain reason; a
// failed SHOULD requirement is logged (and fails with Strict); a skipped
// requirement calls t.Skip with the reason. CertifyURL certifies a
// receiver started elsewhere.
//
// # Running beside Ginkgo
//
// hookproof's checks are Ginkgo specs, and Ginkgo keeps its suite in
// process-wide globals. Certify saves those globals before it runs and puts
// them back afterwards, so a test binary may hold its own Ginkgo suite (a
// TestX calling RunSpecs) and Certify tests in any order, as long as they
// do not run at the same time:
//
//   - supported: a plain go test binary; a binary whose other tests run a
//     Ginkgo suite, before or after Certify; several Certify calls in one
//     test or in sequential tests (they are serialised).
//   - not supported, and failed with a message saying so: calling Certify
//     from inside a running Ginkgo node (an It, a BeforeSuite, …), from a
//     test running in parallel with a Ginkgo suite, or in a binary run by
//     `ginkgo -p` (parallel Ginkgo processes).
//   - Ginkgo's command-line flags (-ginkgo.focus, -ginkgo.skip, …) apply to
//     the certification's specs too; leave them off for Certify tests.
//
// Certify calls in parallel subtests (t.Parallel) run one after another,
// since a certification needs the process's Ginkgo suite to itself.
package hookprooftest
