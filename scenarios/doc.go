// Package scenarios holds the Ginkgo + Gomega specs that certify a RiskOS
// webhook receiver, one file per requirement area, and the in-process runner
// that `hookproof certify` calls. Every It names the requirement it checks
// with Checks("ID"), which labels it req:ID so reports, JUnit names and
// --label-filter all match on the catalogue's IDs.
//
// Specs are registered by Register(env) with the run's Env captured by
// closure: no package globals, so a process can run the suite repeatedly.
package scenarios
