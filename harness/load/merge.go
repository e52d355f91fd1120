package load

import (
	"fmt"
	"strings"
	"time"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

// MergeResults builds the load part of a sharded run from the union of its
// shards' raw results: the exact load section, and LOAD-01 judged on it by
// bounds at the whole run's requested rate. They replace what the shard
// reports in rep had (reports.Report.ReplaceLoad); rep nil means a report
// of the load alone, every other requirement skipped. The p99 judged is
// the one a single run judges, from the scheduled send, when every file
// carries its schedule (hookproof load --output does); from the actual
// send otherwise, which the verdict says. Refused: results of several
// targets, a target other than rep's, a run other than rep's, and shards
// missing from a run of n.
func MergeResults(rep *reports.Report, rs *ResultsSummary, bounds Bounds, rate float64) (*reports.Report, error) {
	s := *rs.Summary
	s.RequestedRate = rate
	target := ""
	switch len(rs.URLs) {
	case 0:
	case 1:
		target = harness.RedactURL(rs.URLs[0])
	default:
		redacted := make([]string, len(rs.URLs))
		for i, u := range rs.URLs {
			redacted[i] = harness.RedactURL(u)
		}
		return nil, fmt.Errorf("the files target %d URLs (%s); shards of one run share a target", len(rs.URLs), strings.Join(redacted, ", "))
	}
	if rep != nil && target != "" && rep.Target != "" && target != rep.Target {
		return nil, fmt.Errorf("target %q differs from %q in the shard reports; shards of one run share a target", target, rep.Target)
	}
	if rep != nil && rep.Load != nil && rep.Load.RunID != "" && rs.RunID != "" && rep.Load.RunID != rs.RunID {
		return nil, fmt.Errorf("run %q differs from run %q in the shard reports: %w", rs.RunID, rep.Load.RunID, ErrOtherRun)
	}
	if err := rs.missingShards(); err != nil {
		// A missing shard (a pod that never ran, an artifact that was not
		// uploaded) must not let CI pass on part of the load.
		return nil, err
	}
	if rep == nil {
		cfg := harness.DefaultConfig()
		cfg.Target, cfg.Timeouts.AckBudget = target, bounds.MaxP99
		rep = reports.NewRunReport(cfg, s.StartedAt, s.StartedAt.Add(time.Duration(s.DurationS*float64(time.Second))), false)
	}
	attacks := strings.Join(rs.AttackNames(), ", ")
	load01 := bounds.Result(&s, false)
	basis, note := "from the scheduled send", ScheduleNote
	if !rs.Scheduled {
		basis, note = "from the actual send (some files hold no schedule)", ServiceLatencyNote
	}
	load01.Evidence[0].Summary = fmt.Sprintf("%d requests from %d shards (%s) over %.1f s, sent %.0f/s: %.3f %% acked 2xx, p99 %.1f ms %s, %.1f ms from the actual send; %s",
		s.Requests, len(rs.Files), attacks, s.DurationS, s.SentRate, 100*s.SuccessRatio, s.ResponseLatencyMS.P99, basis, s.LatencyMS.P99, s.Answers())
	load01.Reason += " (over the exact union of the shards' results)"
	sec := s.Section()
	sec.Shards = len(rs.Files)
	sec.ShardSet = nil
	for _, a := range rs.AttackNames() {
		if sh, ok := ShardOfAttack(a); ok {
			sec.ShardSet = append(sec.ShardSet, sh.String())
		}
	}
	if rep.Load != nil {
		sec.Transport = rep.Load.Transport
	}
	rep.ReplaceLoad(sec, load01, fmt.Sprintf("load section merged exactly from the raw results of %d shards (%s); %s; lost events are counted but not named, raw results hold no event_id",
		len(rs.Files), attacks, note))
	return rep, nil
}

// missingShards fails when the attacks are shards i-of-n of one run and
// fewer than n of them were merged: the verdict would cover part of it.
func (rs *ResultsSummary) missingShards() error {
	n := 0
	for a := range rs.Attacks {
		s, ok := ShardOfAttack(a)
		if !ok || (n != 0 && s.N != n) {
			return nil
		}
		n = s.N
	}
	if n > len(rs.Attacks) {
		return fmt.Errorf("only %d of %d shards' results were merged; give every shard's results", len(rs.Attacks), n)
	}
	return nil
}
