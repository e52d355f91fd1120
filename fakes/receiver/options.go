package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultPath         = "/webhooks/riskos"
	DefaultWorkers      = 4
	DefaultQueueSize    = 1024
	DefaultMaxBody      = 1 << 20
	DefaultWorkDuration = time.Millisecond
	DefaultAckBudget    = 500 * time.Millisecond
	// DefaultRateLimit is twice the rate RiskOS receivers are required to
	// sustain: a limiter there is compliant.
	DefaultRateLimit = 2.0 * harness.DefaultRequiredRate
	// DefaultWorkerRate is 1.3× the required rate: enough to keep up, too
	// little to drain a burst quickly.
	DefaultWorkerRate = 1.3 * harness.DefaultRequiredRate
)

// EffectsPath is where every receiver serves its effects probe.
const EffectsPath = "/_hookproof/effects"

// TokenVerifier checks an OAuth2 access token (signature, exp, aud, iss).
// Any error rejects the request with 401; implementations must be safe for
// concurrent use and should not put the token in their errors (the receiver
// redacts it from what it logs anyway).
type TokenVerifier interface {
	Verify(ctx context.Context, token string) error
}

// TokenVerifierFunc adapts a function to TokenVerifier, e.g. to wrap a
// verifier whose Verify also returns claims.
type TokenVerifierFunc func(ctx context.Context, token string) error

// Verify implements TokenVerifier.
func (f TokenVerifierFunc) Verify(ctx context.Context, token string) error { return f(ctx, token) }

// Event is an accepted delivery's envelope, as handed to the business work.
type Event struct {
	ID   string
	Type string
	At   string
	Data json.RawMessage
}

// Options configure a Receiver. The zero value (after defaults) is a
// compliant receiver without authentication.
type Options struct {
	// Path is the webhook path (DefaultPath when empty).
	Path string
	// Auth is enforced on the webhook path: none, basic (user and
	// password), bearer (token); oauth2 verifies tokens with Verifier.
	Auth harness.AuthConfig
	// Verifier checks access tokens in oauth2 mode (required there).
	Verifier TokenVerifier
	// Faults switch on deliberate non-compliance (see Faults).
	Faults []Fault
	// StateFile, when set, makes deduplication survive a restart: every
	// accepted event_id is appended to it and it is read back at start.
	StateFile string
	// Workers is the number of business workers (DefaultWorkers when 0).
	Workers int
	// QueueSize bounds accepted-but-unprocessed events (DefaultQueueSize
	// when 0); beyond it deliveries get 503 with Retry-After.
	QueueSize int
	// MaxBody is the body limit in bytes (DefaultMaxBody when 0).
	MaxBody int64
	// WorkDuration is the simulated business work per event when Work is
	// nil (DefaultWorkDuration when 0; negative means none).
	WorkDuration time.Duration
	// AckBudget is the ack latency the slow-ack fault exceeds
	// (DefaultAckBudget when 0).
	AckBudget time.Duration
	// Logger receives one record per delivery (discarded when nil).
	Logger *slog.Logger
	// EffectsFile, when set, gets one processed event_id per line (for
	// --effects-file probes); it is also read back at start, because it
	// stands for the business side effects, which outlive the process.
	EffectsFile string
	// Work, when set, replaces the simulated business work. It runs on a
	// worker, once per processed event, and the event counts as processed
	// when it returns.
	Work func(ctx context.Context, ev Event)

	// RateLimit, when positive, sheds valid events above this many per
	// second with 503 + Retry-After (VariantRateLimit and
	// Fault503NoRetryAfter default it to DefaultRateLimit).
	RateLimit float64
	// RateBurst is the token bucket's depth (RateLimit/2 when 0): a limiter
	// exactly at a rate must absorb the jitter of a sender pacing at it.
	RateBurst int
	// WorkerRate, when positive, makes one worker process this many events
	// per second from an unbounded queue; it overrides Workers, QueueSize
	// and WorkDuration (VariantSlowWorker defaults it to DefaultWorkerRate).
	WorkerRate float64
	// DedupeMemory, when positive, is how long an accepted event_id is
	// remembered (FaultShortDedupeMemory defaults it to ShortDedupeMemory);
	// zero remembers for ever.
	DedupeMemory time.Duration
	// Clock is the time the rate limit, the dedupe memory and the
	// simulated work read and spend (the real clock when nil).
	Clock Clock
}

// Clock is the receiver's time source. Sleep stands for time spent working,
// so a fake clock can advance instead of waiting.
type Clock interface {
	Now() time.Time
	Sleep(d time.Duration)
}

type realClock struct{}

func (realClock) Now() time.Time        { return time.Now() }
func (realClock) Sleep(d time.Duration) { time.Sleep(d) }

// withDefaults returns a copy with zero fields defaulted and every problem
// reported, each naming its field.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if !strings.HasPrefix(o.Path, "/") {
		errs = append(errs, fmt.Errorf("receiver: path %q must start with /", o.Path))
	}
	if o.Path == EffectsPath {
		errs = append(errs, fmt.Errorf("receiver: path must not be the effects path %s", EffectsPath))
	}
	if o.Auth.Type == "" {
		o.Auth.Type = harness.AuthNone
	}
	switch o.Auth.Type {
	case harness.AuthNone:
	case harness.AuthBasic:
		if o.Auth.BasicUser == "" || strings.Contains(o.Auth.BasicUser, ":") {
			errs = append(errs, errors.New("receiver: auth.basic_user is required and must not contain ':'"))
		}
		if !o.Auth.BasicPassword.IsSet() {
			errs = append(errs, errors.New("receiver: auth.basic_password is required for basic auth"))
		}
	case harness.AuthBearer:
		if !o.Auth.BearerToken.IsSet() {
			errs = append(errs, errors.New("receiver: auth.bearer_token is required for bearer auth"))
		}
	case harness.AuthOAuth2:
		if o.Verifier == nil {
			errs = append(errs, errors.New("receiver: verifier is required for oauth2 auth"))
		}
	default:
		errs = append(errs, fmt.Errorf("receiver: auth.type %q is not one of none, basic, bearer, oauth2", o.Auth.Type))
	}
	for i, f := range o.Faults {
		if _, err := ParseFault(string(f)); err != nil {
			errs = append(errs, fmt.Errorf("receiver: faults[%d]: %w", i, err))
		}
	}
	if o.Workers < 0 {
		errs = append(errs, fmt.Errorf("receiver: workers %d must not be negative", o.Workers))
	} else if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.QueueSize < 0 {
		errs = append(errs, fmt.Errorf("receiver: queue_size %d must not be negative", o.QueueSize))
	} else if o.QueueSize == 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("receiver: max_body %d must not be negative", o.MaxBody))
	} else if o.MaxBody == 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.WorkDuration == 0 {
		o.WorkDuration = DefaultWorkDuration
	}
	if o.AckBudget < 0 {
		errs = append(errs, fmt.Errorf("receiver: ack_budget %s must not be negative", o.AckBudget))
	} else if o.AckBudget == 0 {
		o.AckBudget = DefaultAckBudget
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	errs = append(errs, o.variantDefaults()...)
	return o, errors.Join(errs...)
}

// variantDefaults applies the parameters the variants and faults imply.
func (o *Options) variantDefaults() []error {
	var errs []error
	switch {
	case o.RateLimit < 0:
		errs = append(errs, fmt.Errorf("receiver: rate_limit %g must not be negative", o.RateLimit))
	case o.RateLimit == 0 && (o.has(VariantRateLimit) || o.has(Fault503NoRetryAfter)):
		o.RateLimit = DefaultRateLimit
	}
	switch {
	case o.RateBurst < 0:
		errs = append(errs, fmt.Errorf("receiver: rate_burst %d must not be negative", o.RateBurst))
	case o.RateBurst == 0 && o.RateLimit > 0:
		o.RateBurst = max(1, int(o.RateLimit/2))
	}
	switch {
	case o.WorkerRate < 0:
		errs = append(errs, fmt.Errorf("receiver: worker_rate %g must not be negative", o.WorkerRate))
	case o.WorkerRate == 0 && o.has(VariantSlowWorker):
		o.WorkerRate = DefaultWorkerRate
	}
	if o.WorkerRate > 0 {
		o.Workers = 1
		o.WorkDuration = time.Duration(float64(time.Second) / o.WorkerRate)
	}
	switch {
	case o.DedupeMemory < 0:
		errs = append(errs, fmt.Errorf("receiver: dedupe_memory %s must not be negative", o.DedupeMemory))
	case o.DedupeMemory == 0 && o.has(FaultShortDedupeMemory):
		o.DedupeMemory = ShortDedupeMemory
	}
	return errs
}

// ackStatus is the status of every acknowledgement.
func (o *Options) ackStatus() int {
	if o.has(VariantAck202) {
		return http.StatusAccepted
	}
	return http.StatusOK
}

// has reports whether fault f is switched on.
func (o *Options) has(f Fault) bool {
	for _, x := range o.Faults {
		if x == f {
			return true
		}
	}
	return false
}

// VerifierOf adapts a verifier that also returns claims, such as
// *oauth.Verifier from fakes/oauth, to TokenVerifier, so this package does
// not depend on any one issuer.
func VerifierOf[C any](v interface {
	Verify(ctx context.Context, token string) (C, error)
}) TokenVerifier {
	return TokenVerifierFunc(func(ctx context.Context, token string) error {
		_, err := v.Verify(ctx, token)
		return err
	})
}
