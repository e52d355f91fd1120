package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/reports"
)

type sendOptions struct {
	event      string
	count      int
	duplicates int
	retry      bool
	seed       int64
	bodyFile   string
	concurrent int
	body       []byte // read from bodyFile
}

func newSendCmd() *cobra.Command {
	var o sendOptions
	cmd := &cobra.Command{
		Use:   "send --target URL --event TYPE | --body-file FILE",
		Short: "Deliver generated events the way RiskOS does, one line per attempt",
		Long: `send delivers COUNT generated events of TYPE to the target, each DUPLICATES
times, with the configured auth and static headers. With --retry each delivery
follows the RiskOS retry policy (408, 409, 423, 429, 502, 503, 504 and network
errors; waits 2, 4, 8, 16, 32, 60, 60, 60, 60, 60 s, compressed by --time-scale).

--body-file FILE sends that exact body instead of a generated event (a request
saved under a report's evidence/ folder, say); --concurrent N releases N
identical copies of each delivery at one instant, as IDEM-03 does, each on its
own connection.`,
		Args: cobra.NoArgs,
	}
	cf := targetFlags(cmd, harness.DefaultConfig())
	fs := cmd.Flags()
	fs.StringVar(&o.event, "event", "", "event type to send (see hookproof events list)")
	fs.IntVar(&o.count, "count", 1, "how many distinct events")
	fs.IntVar(&o.duplicates, "duplicates", 1, "how many times each event is delivered (same event_id, same body)")
	fs.BoolVar(&o.retry, "retry", false, "follow the RiskOS retry policy on retryable answers")
	fs.Int64Var(&o.seed, "seed", 0, "generator seed (default: time-based, so event_ids are fresh)")
	fs.StringVar(&o.bodyFile, "body-file", "", "send this file's bytes as the body, instead of a generated --event")
	fs.IntVar(&o.concurrent, "concurrent", 1, "release this many identical copies of each delivery at one instant (a barrier-released burst)")
	cf.timeScale("multiply retry waits (0.01 turns the 362 s schedule into 3.6 s)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg := cf.config()
		var errs []error
		switch {
		case o.event != "" && o.bodyFile != "":
			errs = append(errs, errors.New("--event and --body-file: give one or the other"))
		case o.bodyFile != "":
			b, err := readInput("--body-file", o.bodyFile, maxBodyFile)
			if err != nil {
				errs = append(errs, err)
			}
			o.body = b
		case o.event == "":
			errs = append(errs, errors.New("--event: required (see hookproof events list), or --body-file"))
		default:
			if err := checkEventType("--event", o.event); err != nil {
				errs = append(errs, err)
			}
		}
		if o.concurrent < 1 || o.concurrent > 100 {
			errs = append(errs, fmt.Errorf("--concurrent: %d is outside 1..100", o.concurrent))
		}
		if o.count < 1 || o.count > 100_000 {
			errs = append(errs, fmt.Errorf("--count: %d is outside 1..100000", o.count))
		}
		if o.duplicates < 1 || o.duplicates > 1000 {
			errs = append(errs, fmt.Errorf("--duplicates: %d is outside 1..1000", o.duplicates))
		}
		errs = append(errs, cfg.Validate())
		if err := errors.Join(errs...); err != nil {
			return usageErr(err)
		}
		if o.seed == 0 {
			o.seed = time.Now().UnixNano()
		}
		return runSend(cmd, cfg, o)
	}
	return cmd
}

func runSend(cmd *cobra.Command, cfg harness.Config, o sendOptions) error {
	ctx := cmd.Context()
	run, err := newDeliveryRun(ctx, cmd.OutOrStdout(), cfg, o.retry)
	if err != nil {
		return err
	}
	g := harness.NewLiveGenerator(o.seed, time.Now)
	for range o.count {
		var d riskos.Delivery
		if o.body != nil {
			d = bodyDelivery(o.body)
		} else {
			ev, err := g.Event(o.event)
			if err != nil {
				return err
			}
			d = riskos.DeliveryOf(ev)
		}
		d.Label = "send"
		for range o.duplicates {
			var err error
			if o.concurrent > 1 {
				err = run.burst(ctx, d, o.concurrent)
			} else {
				err = run.deliver(ctx, d)
			}
			if err != nil {
				return err
			}
		}
	}
	return run.finish()
}

// bodyDelivery delivers body as it is; the event_id and event_type that
// label the attempts are read from it when it is an envelope.
func bodyDelivery(body []byte) riskos.Delivery {
	var env struct {
		ID   any `json:"event_id"`
		Type any `json:"event_type"`
	}
	_ = json.Unmarshal(body, &env) // a deliberately broken body is sent all the same
	str := func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		return ""
	}
	return riskos.Delivery{EventID: str(env.ID), EventType: str(env.Type), Body: body}
}

// burst releases n copies of d at one instant; each copy counts as a
// delivery of its own.
func (r *deliveryRun) burst(ctx context.Context, d riskos.Delivery, n int) error {
	var finals []harness.Attempt
	if r.retry {
		for _, o := range r.sender.BurstWithRetry(ctx, d, n) {
			finals = append(finals, o.Final)
		}
	} else {
		finals = r.sender.Burst(ctx, d, n)
	}
	return r.count(ctx, finals...)
}

// deliveryRun is what send and replay share: deliver one at a time (with
// or without the RiskOS retry loop), count acknowledged and lost
// deliveries, print the summary, and map the outcome to an exit code.
type deliveryRun struct {
	sender      *riskos.Sender
	out         io.Writer
	target      string
	retry       bool
	acked, lost int
}

// newDeliveryRun makes the sender, printing one line per attempt to out;
// the run's Redactor (in ctx) learns every OAuth2 token it fetches.
func newDeliveryRun(ctx context.Context, out io.Writer, cfg harness.Config, retry bool) (*deliveryRun, error) {
	red := redactorOf(ctx)
	learnConfig(red, cfg)
	client, err := harness.NewClient(cfg)
	if err != nil {
		return nil, usageErr(err)
	}
	auth, err := harness.NewAuthorizer(cfg.Auth, client)
	if err != nil {
		return nil, usageErr(err)
	}
	learnAuth(red, auth)
	s, err := riskos.New(cfg, riskos.WithClient(client), riskos.WithAuthorizer(auth),
		riskos.WithObserver(func(a harness.Attempt) { printAttempt(out, a, red) }))
	if err != nil {
		return nil, usageErr(err)
	}
	return &deliveryRun{sender: s, out: out, target: cfg.Target, retry: retry}, nil
}

// deliver sends d; a non-nil error ends the run (interrupted, or the target
// refused the very first connection) after the summary is printed.
func (r *deliveryRun) deliver(ctx context.Context, d riskos.Delivery) error {
	var final harness.Attempt
	if r.retry {
		final = r.sender.SendWithRetry(ctx, d).Final
	} else {
		final = r.sender.Send(ctx, d)
	}
	return r.count(ctx, final)
}

// count tallies the final attempts of deliveries; a non-nil error ends the
// run (interrupted, or the target refused the very first connection) after
// the summary is printed.
func (r *deliveryRun) count(ctx context.Context, finals ...harness.Attempt) error {
	if ctx.Err() != nil {
		r.summary()
		return ctx.Err()
	}
	for _, f := range finals {
		if r.acked+r.lost == 0 && (f.ErrorClass == harness.ErrRefused || f.ErrorClass == harness.ErrDNS) {
			r.summary()
			return unreachableErr(fmt.Errorf("target %s refused the connection", harness.RedactURL(r.target)))
		}
		if f.Acked() {
			r.acked++
		} else {
			r.lost++
		}
	}
	return nil
}

func (r *deliveryRun) summary() {
	printSendSummary(r.out, r.sender.Ledger().Attempts(), r.acked, r.lost)
}

// finish prints the summary; any lost delivery fails the run (exit 1).
func (r *deliveryRun) finish() error {
	r.summary()
	if r.lost > 0 {
		return failedErr(fmt.Errorf("%d of %d deliveries were not acknowledged", r.lost, r.acked+r.lost))
	}
	return nil
}

// printAttempt prints one attempt line. A Location may carry the token the
// delivery was sent with (a receiver redirecting to ?token=…): it is
// scrubbed before RedactURL re-encodes it into a form red would not know.
func printAttempt(w io.Writer, a harness.Attempt, red *harness.Redactor) {
	status := fmt.Sprint(a.Status)
	if a.Status == 0 {
		status = "---"
	}
	line := fmt.Sprintf("attempt %-2d %s %-26s %s %8.1fms %6dB", a.Attempt, a.EventID, a.EventType, status, ms(a.Latency), a.BytesRecv)
	if a.RealWait > 0 {
		line += fmt.Sprintf("  after %s (RiskOS: %s)", a.Wait.Round(time.Millisecond), a.RealWait)
	}
	if a.ErrorClass != harness.ErrNone {
		line += "  error=" + string(a.ErrorClass)
	}
	if a.RetryAfter != "" {
		line += "  retry-after=" + a.RetryAfter
	}
	if a.Location != "" {
		line += "  location=" + red.Scrub(harness.RedactURL(red.Scrub(a.Location))) + " (not followed)"
	}
	fmt.Fprintln(w, line)
}

func printSendSummary(w io.Writer, attempts []harness.Attempt, acked, lost int) {
	// The same statistics a certify report shows for its deliveries.
	ds := reports.NewDeliveryStats(attempts, 0)
	fmt.Fprintf(w, "summary: %d deliveries, %d attempts, %d acknowledged, %d lost", acked+lost, len(attempts), acked, lost)
	if p := ds.AckLatencyMS; p.Count > 0 {
		fmt.Fprintf(w, "; latency p50 %.1fms p99 %.1fms max %.1fms", p.P50, p.P99, p.Max)
	}
	fmt.Fprintf(w, "; statuses %s\n", reports.Tally(ds.StatusCodes))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
