// Package harness is the vocabulary every part of hookproof shares: the run
// configuration, auth, the RiskOS event catalogue with its embedded JSON
// Schemas and generator, the retry policy, the requirement catalogue, the
// effects probe and the delivery ledger.
//
// harness imports nothing else of hookproof, and never Ginkgo or Gomega.
package harness
