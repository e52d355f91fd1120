package scenarios

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/harness/load"
	"github.com/hookproof/hookproof/reports"
)

// Inputs are everything a certification run is given: the configuration
// and the dependencies the caller wires. Run builds the specs' shared Env
// from them in one call.
type Inputs struct {
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
}

// Env is what one certification run's specs share: the inputs, the
// profile's sizes, and the run state specs record into (the ledger and
// generator are safe for concurrent use). Only Run builds one.
type Env struct {
	Inputs
	Profile

	genMu sync.Mutex
	gen   *harness.Generator

	baseOnce sync.Once
	baseline []riskos.Outcome

	loadMu   sync.Mutex
	loadRun  *load.Summary
	capacity *float64
	// loadLost holds the first events load runs lost, and loadLostN how
	// many they lost in all, for RETRY-01 ("load included").
	loadLost  []load.LostEvent
	loadLostN uint64
	loadSent  uint64
	// overloadRan says RETRY-02's overload burst ran, so RETRY-03 can say
	// why it saw no 429 or 503.
	overloadRan atomic.Bool
	// keys caches the OAuth2 issuer's public keys (AUTH-05).
	keys keyCache

	// backlog is the processing a receiver may still owe (settle).
	backlog backlog
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

// countLoad takes a load run into the run-wide bookkeeping: its acked
// events are processing the receiver may still owe, and its lost events
// are RETRY-01's as much as any conformance delivery's.
func (e *Env) countLoad(s *load.Summary) {
	e.backlog.add(int(s.Acked))
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	e.loadLostN += s.Lost
	e.loadSent += s.Requests
	for _, l := range s.LostEvents {
		if len(e.loadLost) == maxLoadLost {
			break
		}
		e.loadLost = append(e.loadLost, l)
	}
}

// maxLoadLost bounds the lost load events kept for RETRY-01's evidence.
const maxLoadLost = 20

// lostUnderLoad returns the lost load events kept, how many were lost and
// how many deliveries the load checks made.
func (e *Env) lostUnderLoad() (kept []load.LostEvent, lost, sent uint64) {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	return append([]load.LostEvent(nil), e.loadLost...), e.loadLostN, e.loadSent
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
	sec := e.loadRun.Section()
	if e.capacity != nil {
		c := *e.capacity
		sec.CapacityRPS = &c
	}
	return sec
}

// Sizes are how much each conformance check sends.
type Sizes struct {
	PerType    int           // ACK-01 events per subscribed type
	Duplicates int           // IDEM-01/02 copies, original included
	Burst      int           // IDEM-03 concurrent copies
	Consistent time.Duration // how long a probe count must hold still
}

// Profile is how much and how long every check sends: profiles differ
// only here.
type Profile struct {
	Sizes
	Load loadPlan
}

// ProfileFor returns the profile of cfg: quick (the default, sized for CI)
// or full and production (larger samples, longer load). The load checks
// run at cfg's required rate.
func ProfileFor(cfg harness.Config) Profile {
	rate := cfg.RequiredRate
	if rate <= 0 {
		rate = harness.DefaultRequiredRate
	}
	if cfg.Profile == harness.ProfileFull || cfg.Profile == harness.ProfileProduction {
		d := cfg.LoadDuration
		if d <= 0 {
			d = 30 * time.Second
		}
		return Profile{
			Sizes: Sizes{PerType: 10, Duplicates: 5, Burst: 16, Consistent: time.Second},
			Load: loadPlan{
				rate: rate, constant: d, duplicates: min(d, 10*time.Second),
				capacity: load.CapacityOptions{Start: rate, StepDuration: 3 * time.Second, MaxSteps: 8,
					TimeCap: time.Minute, Cooldown: time.Second},
				spikeLead: 2 * time.Second, spikeFor: 5 * time.Second, recovery: 10 * time.Second,
				burstFactor: spikeFactor, burstFor: 5 * time.Second, burstMax: 50_000, retryWindow: time.Minute, probeSample: 500,
			},
		}
	}
	return Profile{
		Sizes: Sizes{PerType: 2, Duplicates: 3, Burst: 8, Consistent: 200 * time.Millisecond},
		// The five load checks take about ten seconds in all, so they fit
		// a CI certify run against a local receiver.
		Load: loadPlan{
			rate: rate, constant: 2 * time.Second, duplicates: 1500 * time.Millisecond,
			// One step at twice the rate answers LOAD-02's question in CI; the
			// full profile searches further for the figure itself.
			capacity: load.CapacityOptions{Start: 2 * rate, StepDuration: time.Second, MaxSteps: 1,
				TimeCap: 3 * time.Second, Cooldown: 200 * time.Millisecond},
			spikeLead: 250 * time.Millisecond, spikeFor: time.Second, recovery: time.Second,
			burstFactor: spikeFactor, burstFor: time.Second, burstMax: 3000, retryWindow: 10 * time.Second, probeSample: 3000,
		},
	}
}

// newEnv builds a run's Env from its inputs.
func newEnv(in Inputs) *Env {
	return &Env{Inputs: in, Profile: ProfileFor(in.Config), gen: harness.NewLiveGenerator(in.Config.Seed, time.Now)}
}

// NewEnv is an Env with no dependencies, for building the spec tree
// without running it (a dry run sends nothing).
func NewEnv(cfg harness.Config) *Env { return newEnv(Inputs{Config: cfg}) }

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
func (e *Env) ensureBaseline(ctx context.Context) []riskos.Outcome {
	e.baseOnce.Do(func() {
		for _, t := range e.eventTypes() {
			e.baseline = append(e.baseline, e.sendValid(ctx, e.delivery(t, "baseline")))
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

// NewSender is the sender of a certification run over client and auth:
// every conformance delivery waits its turn under the required rate, since
// a receiver may shed load above a rate it is not required to sustain and
// must not be failed for it outside the load checks. opts add to that (an
// observer, say).
func NewSender(cfg harness.Config, client *http.Client, auth harness.Authorizer, opts ...riskos.Option) (*riskos.Sender, error) {
	base := []riskos.Option{riskos.WithClient(client), riskos.WithAuthorizer(auth), riskos.WithPace(cfg.RequiredRate)}
	return riskos.New(cfg, append(base, opts...)...)
}
