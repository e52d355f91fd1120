package harness

import "strconv"

// evalKind selects how an evaluation-shaped data object is filled in.
type evalKind int

const (
	evalCompleted evalKind = iota // evaluation_completed
	evalPaused                    // evaluation_paused
	evalRerun                     // reevaluation
	evalManual                    // decision_update carrying the whole evaluation
)

// appendEvaluation writes the Evaluation API response shape, which the
// documentation says evaluation webhooks share, in the key order of a real
// Sandbox response.
// reviewer, when set, adds reviewer_id (the decision_update variant).
func (g *Generator) appendEvaluation(b []byte, k evalKind, at stamp, reviewer string) []byte {
	o := objw{b: append(b, '{')}
	wf := workflows[g.rng.IntN(len(workflows))]
	end := at.sec - g.rng.Int64N(3)
	start := end - g.rng.Int64N(300)

	if g.chance(95) {
		o.key("id")
		o.b = g.appendClientID(o.b)
	}
	o.str("workflow", wf.name)
	o.str("workflow_id", wf.id)
	o.str("workflow_version", g.pick(wf.versions))
	source := "API"
	if (k == evalRerun && g.chance(85)) || (k == evalManual && g.chance(70)) || g.chance(8) {
		source = "Dashboard"
	}
	o.str("eval_source", source)
	o.key("eval_id")
	o.uuid(g)
	o.time("eval_start_time", g.stamp(start))
	if g.chance(95) {
		o.time("eval_end_time", g.stamp(end))
	}

	decision, status, evalStatus := g.outcome(k, wf.name)
	o.str("decision", g.vary(ptrDecision, decision))
	if g.chance(ifPaused(k, 70, 90)) {
		o.time("decision_at", g.stamp(end))
	}
	o.str("status", g.vary(ptrStatus, status))
	switch {
	case decision == "PASSTHROUGH":
		o.str("sub_status", "passthrough")
	case g.chance(25):
		o.str("sub_status", "")
	default:
		o.str("sub_status", g.pick(subStatuses))
	}
	if g.chance(95) {
		if g.chance(50) {
			o.raw("tags", "[]")
		} else {
			g.appendPicks(&o, "tags", tags, 1, 2)
		}
	}
	if g.chance(80) {
		if g.chance(80) {
			o.str("notes", "")
		} else {
			o.str("notes", g.pick(reviewerNotes))
		}
	}
	if g.chance(95) {
		g.appendPicks(&o, "review_queues", reviewQueues, 0, 2)
	}
	if g.chance(ifPaused(k, 90, 70)) {
		o.key("data_enrichments")
		o.b = g.appendEnrichments(o.b, k)
	}
	o.str("eval_status", evalStatus)
	if g.chance(50) {
		// Scores are workflow-configured; negative ones are documented.
		o.key("score")
		o.b = strconv.AppendInt(o.b, int64(g.rng.IntN(1200)-200), 10)
	}
	if g.chance(15) {
		o.key("computed")
		o.b = append(o.b, `{"age_years":`...)
		o.b = strconv.AppendInt(o.b, int64(18+g.rng.IntN(70)), 10)
		o.b = append(o.b, `,"risk_band":`...)
		o.b = appendJSONString(o.b, g.pick(riskBands))
		o.b = append(o.b, '}')
	}
	if g.chance(ifPaused(k, 30, 4)) {
		o.key("redirect_uri")
		o.b = append(o.b, `"https://riskos.sandbox.socure.com/hosted/v2/`...)
		var ub [38]byte
		u := appendUUIDv4(ub[:0], g.rng.Uint64(), g.rng.Uint64())
		o.b = append(o.b, u[1:]...) // the UUID and the closing quote
	}
	if reviewer != "" {
		o.str("reviewer_id", reviewer)
	}
	g.appendEnvironment(&o)
	return append(o.b, '}')
}

// outcome draws decision, case status and eval_status consistent with the
// event kind: a completed evaluation is mostly CLOSED with a final decision,
// a paused one is REVIEW and ON_HOLD, as the documentation describes them.
func (g *Generator) outcome(k evalKind, workflow string) (decision, status, evalStatus string) {
	switch k {
	case evalPaused:
		decision = "REVIEW"
		if g.chance(10) {
			decision = g.pick(decisionsFinal)
		}
		status = g.pick(statusesPaused)
		return decision, status, "evaluation_paused"
	case evalRerun:
		evalStatus = g.pick(evalStatusesRerun)
	default:
		evalStatus = "evaluation_completed"
	}
	decision = g.pick(decisionsFinal)
	if workflow == "generic_passthrough" && g.chance(80) {
		decision = "PASSTHROUGH"
	}
	status = g.pick(statusesCompleted)
	if evalStatus == "evaluation_paused" {
		status = g.pick(statusesPaused)
	}
	return decision, status, evalStatus
}

// appendEnrichments writes 1 to 4 data_enrichments items (occasionally none,
// as a fully cached evaluation may show). A paused evaluation usually ends
// with the DocV document request, whose response carries the
// docvTransactionToken and the QR code data URI.
func (g *Generator) appendEnrichments(b []byte, k evalKind) []byte {
	b = append(b, '[')
	n := 1 + g.rng.IntN(4)
	if g.chance(3) {
		n = 0
	}
	docv := -1
	if n > 0 && (k == evalPaused && g.chance(70) || g.chance(15)) {
		docv = n - 1
	}
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		if i == docv {
			b = g.appendDocV(b, k == evalPaused)
			continue
		}
		b = g.appendModule(b, &enrichmentKinds[g.rng.IntN(len(enrichmentKinds))])
	}
	return append(b, ']')
}

// appendTail writes status_code and what follows request/response in an
// enrichment item, including the optional fields.
func (g *Generator) appendTail(b []byte, status int) []byte {
	b = append(b, `,"is_source_cache":`...)
	b = strconv.AppendBool(b, g.chance(20))
	if g.chance(80) {
		b = append(b, `,"total_attempts":`...)
		b = strconv.AppendInt(b, int64(1+g.rng.IntN(3)), 10)
	}
	if status != 200 {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, "provider answered "+strconv.Itoa(status))
	}
	return append(b, '}')
}

func (g *Generator) statusCode() int {
	if g.chance(92) {
		return 200
	}
	return providerErrors[g.rng.IntN(len(providerErrors))]
}

func (g *Generator) appendModule(b []byte, e *enrichmentKind) []byte {
	status := g.statusCode()
	b = append(b, e.head...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"request":`...)
	b = append(b, e.request...)
	b = append(b, `,"response":{"referenceId":`...)
	b = appendUUIDv4(b, g.rng.Uint64(), g.rng.Uint64())
	if status == 200 {
		b = append(b, ',', '"')
		b = append(b, e.module...)
		b = append(b, `":{"reasonCodes":`...)
		b = append(b, reasonCodeSets[g.rng.IntN(len(reasonCodeSets))]...)
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, float64(g.rng.IntN(1000))/1000, 'f', -1, 64)
		b = append(b, '}')
	}
	b = append(b, '}')
	return g.appendTail(b, status)
}

func (g *Generator) appendDocV(b []byte, request bool) []byte {
	b = append(b, docvHead...)
	b = append(b, `200,"request":`...)
	b = append(b, docvRequests[g.rng.IntN(len(docvRequests))]...)
	b = append(b, `,"response":{`...)
	if request {
		// The token doubles as the eventId and ends the capture URL.
		var tb [38]byte
		tok := appendUUIDv4(tb[:0], g.rng.Uint64(), g.rng.Uint64())
		b = append(b, `"data":{"docvTransactionToken":`...)
		b = append(b, tok...)
		b = append(b, `,"eventId":`...)
		b = append(b, tok...)
		b = append(b, `,"qrCode":`...)
		b = append(b, qrCodes[g.rng.IntN(len(qrCodes))]...)
		b = append(b, `,"url":"https://verify.socure.com/#/dv/`...)
		b = append(b, tok[1:]...)
		b = append(b, `},"referenceId":`...)
	} else {
		b = append(b, `"documentVerification":{"reasonCodes":`...)
		b = append(b, docvReasonCodes[g.rng.IntN(len(docvReasonCodes))]...)
		b = append(b, `,"decision":{"name":"standard","value":`...)
		b = appendJSONString(b, g.pick(docvDecisions))
		b = append(b, `}},"referenceId":`...)
	}
	b = appendUUIDv4(b, g.rng.Uint64(), g.rng.Uint64())
	b = append(b, '}')
	return g.appendTail(b, 200)
}

// ifPaused returns paused for a paused evaluation and other otherwise.
func ifPaused(k evalKind, paused, other int) int {
	if k == evalPaused {
		return paused
	}
	return other
}
