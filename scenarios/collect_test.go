package scenarios

import (
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

func spec(id string, state types.SpecState) types.SpecReport {
	return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: id, LeafNodeLabels: []string{"req:" + id}, State: state}
}

// A signal that arrives after the last spec finished cuts nothing short:
// collect says so, and Run then calls the run complete, not interrupted.
func TestCollectTellsWhetherAnInterruptCutTheRun(t *testing.T) {
	id := harness.Catalogue[0].ID
	other := harness.Catalogue[1].ID
	all := types.Report{SpecReports: types.SpecReports{spec(id, types.SpecStatePassed), spec(other, types.SpecStateFailed)}}
	if _, _, cut := collect(all, "quick", true); cut {
		t.Error("every spec ran, yet collect says the interrupt cut the run")
	}
	partial := types.Report{SpecReports: types.SpecReports{spec(id, types.SpecStatePassed), spec(other, types.SpecStateInterrupted)}}
	reqs, _, cut := collect(partial, "quick", true)
	if !cut {
		t.Error("a spec was interrupted, yet collect says nothing was cut")
	}
	for _, r := range reqs {
		if r.ID == other && (r.Status != reports.StatusSkipped || r.Reason != reasonInterrupted) {
			t.Errorf("%s: %s %q; want skipped as interrupted", other, r.Status, r.Reason)
		}
	}
}
