// Package riskos is the fake RiskOS sender: it delivers webhook events to a
// receiver exactly as RiskOS would (POST, JSON, auth, static headers, a
// per-attempt timeout, no redirects followed), and adds the deliveries a
// certification needs that RiskOS only produces by accident: sequential
// duplicates, concurrent bursts released at one instant, lost acks, and the
// hostile bodies of the VAL requirements.
//
// Every attempt is recorded in a harness.Ledger. A Sender is safe for
// concurrent use; it holds no per-delivery state.
package riskos
