package scenarios

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/harness/load"
	"github.com/hookproof/hookproof/reports"
)

// Env is what one certification run's specs share. cmd builds it; specs
// only read it (the ledger and generator are safe for concurrent use).
type Env struct {
	Config harness.Config
	// Sender delivers with the configured auth; every attempt lands in its ledger.
	Sender *riskos.Sender
	// Authorizer is the configured auth, for specs that need the credential
	// itself (forging a variant of it, forcing an OAuth2 refresh).
	Authorizer harness.Authorizer
	// Probe reads processing counts; nil means idempotency is unverified and
	// the requirements that need it are skipped.
	Probe harness.Probe
	// Issuer is set when hookproof issues the OAuth2 tokens itself (--demo):
	// AUTH-05 then also sends expired, wrong-audience and unknown-key tokens.
	Issuer *oauth.Server
	// Restart restarts the receiver (--restart-command); nil skips IDEM-05.
	Restart func(ctx context.Context) error
	// Sizes are the profile's sample sizes.
	Sizes Sizes

	genMu sync.Mutex
	gen   *harness.Generator

	baseOnce sync.Once
	baseline []harness.Attempt

	loadMu   sync.Mutex
	loadRun  *load.Summary
	capacity *float64
}

// setLoad keeps LOAD-01's run (and LOAD-02's capacity figure) for the
// report's load section; nil arguments leave what is there.
func (e *Env) setLoad(s *load.Summary, capacity *float64) {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	if s != nil {
		e.loadRun = s
	}
	if capacity != nil {
		e.capacity = capacity
	}
}

// LoadSection is report.json's load part for this run: LOAD-01's
// constant-rate run, with LOAD-02's capacity when it ran; nil when no load
// check ran.
func (e *Env) LoadSection() *reports.LoadSection {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	if e.loadRun == nil {
		return nil
	}
	sec := LoadSection(e.loadRun)
	if e.capacity != nil {
		c := *e.capacity
		sec.CapacityRPS = &c
	}
	return sec
}

// Sizes are how much each check sends; profiles differ only here.
type Sizes struct {
	PerType    int           // ACK-01 events per subscribed type
	Duplicates int           // IDEM-01/02 copies, original included
	Burst      int           // IDEM-03 concurrent copies
	Consistent time.Duration // how long a probe count must hold still
}

// SizesFor returns the sample sizes of a profile.
func SizesFor(profile string) Sizes {
	switch profile {
	case harness.ProfileFull, harness.ProfileProduction:
		return Sizes{PerType: 10, Duplicates: 5, Burst: 16, Consistent: time.Second}
	default:
		return Sizes{PerType: 2, Duplicates: 3, Burst: 8, Consistent: 200 * time.Millisecond}
	}
}

// NewEnv prepares an Env for cfg; sender, probe and the rest are set by the caller.
func NewEnv(cfg harness.Config) *Env {
	return &Env{Config: cfg, Sizes: SizesFor(cfg.Profile), gen: harness.NewLiveGenerator(cfg.Seed, time.Now)}
}

// eventTypes is the subscribed types: the configured list, or every type.
func (e *Env) eventTypes() []string {
	if len(e.Config.EventTypes) > 0 {
		return e.Config.EventTypes
	}
	return harness.EventTypeNames()
}

// event generates a fresh event of type t (the first subscribed type when "").
func (e *Env) event(t string) harness.Event {
	if t == "" {
		t = e.eventTypes()[0]
	}
	e.genMu.Lock()
	defer e.genMu.Unlock()
	ev, err := e.gen.Event(t)
	if err != nil {
		// The types come from the catalogue, so this is a programming error.
		panic(fmt.Sprintf("scenarios: generating %s: %v", t, err))
	}
	return ev
}

// delivery is a valid, authenticated delivery of a fresh event, labelled so
// run-wide checks (ACK-02, ACK-04, RETRY-01) can find it in the ledger.
func (e *Env) delivery(t, check string) riskos.Delivery {
	d := riskos.DeliveryOf(e.event(t))
	d.Label = validLabel + check
	d.URL = e.Config.Target // explicit, so evidence names it
	return d
}

// forged is a delivery of a fresh valid event that is not meant to be
// accepted (bad credentials, hostile body); run-wide checks ignore it.
func (e *Env) forged(check string) riskos.Delivery {
	d := riskos.DeliveryOf(e.event(""))
	d.Label = check
	d.URL = e.Config.Target
	return d
}

// validLabel prefixes the ledger label of valid, authenticated deliveries.
const validLabel = "valid:"

// ensureBaseline sends one valid event of every subscribed type once per
// run, so the run-wide checks have deliveries to judge even when a label
// filter selected only them.
func (e *Env) ensureBaseline(ctx context.Context) []harness.Attempt {
	e.baseOnce.Do(func() {
		for _, t := range e.eventTypes() {
			e.baseline = append(e.baseline, e.Sender.Send(ctx, e.delivery(t, "baseline")))
		}
	})
	return e.baseline
}

// validAttempts returns every valid, authenticated delivery attempt so far.
func (e *Env) validAttempts() []harness.Attempt {
	var out []harness.Attempt
	for _, a := range e.Sender.Ledger().Attempts() {
		if len(a.Label) >= len(validLabel) && a.Label[:len(validLabel)] == validLabel {
			out = append(out, a)
		}
	}
	return out
}
