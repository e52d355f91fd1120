package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/internal/proc"
	"github.com/hookproof/hookproof/reports"
	"github.com/hookproof/hookproof/scenarios"
)

type certifyOptions struct {
	demo        bool
	demoFaults  []string
	verbose     bool
	color       string
	maxDuration time.Duration
}

func newCertifyCmd() *cobra.Command {
	var o certifyOptions
	cmd := &cobra.Command{
		Use:   "certify --target URL | --demo",
		Short: "Certify a receiver against the requirement catalogue",
		Long: `certify plays RiskOS against the receiver and judges it requirement by
requirement (hookproof's catalogue: ACK, IDEM, AUTH, VAL, RETRY, LOAD, TLS).
Exit codes: 0 every MUST passed; 1 a MUST failed; 2 usage or configuration
error; 3 target unreachable; 130 interrupted (the partial report is written).

--demo certifies hookproof's own reference receiver, started on loopback;
--demo-fault NAME switches one of its faults on (see hookproof receiver --list-faults)
and implies --strict, so a fault that breaks only SHOULD requirements still exits 1.`,
		Args: cobra.NoArgs,
	}
	cf := targetFlags(cmd, certifyDefaults())
	fs := cmd.Flags()
	fs.BoolVar(&o.demo, "demo", false, "certify the built-in reference receiver, started in-process on loopback")
	fs.StringArrayVar(&o.demoFaults, "demo-fault", nil, "with --demo: switch on a receiver fault (repeatable)")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "stream Ginkgo's own output to stderr")
	fs.StringVar(&o.color, "color", "auto", "colour: auto (on a terminal), always or never")
	fs.DurationVar(&o.maxDuration, "max-duration", 0, "run deadline: no check starts after it, requests in flight are cancelled (0: the profile's, quick 5m, full 30m, production 2h, longer with a long --load-duration or --dedupe-retention)")
	c := cf.cfg
	cf.str(&c.Profile, "profile", "quick (CI), full or production (TLS-01 becomes MUST)")
	cf.str(&c.LabelFilter, "label-filter", "Ginkgo label filter, e.g. 'area:auth' or 'req:ACK-01 || req:IDEM-03'")
	cf.str(&c.ReportDir, "report-dir", "write report.json, junit.xml, summary.md and report.html here")
	cf.str(&c.Effects.URL, "effects-url", "effects probe: GET URL?event_id=ID answers {\"event_id\":ID,\"count\":N}")
	cf.boolean(&c.Effects.Auth, "effects-auth", "send the delivery credentials with effects-URL requests too")
	cf.str(&c.Effects.File, "effects-file", "effects probe: a file the receiver appends one processed event_id per line to")
	cf.secret(&c.Effects.SQL, "effects-sql", "effects probe: PostgreSQL DSN, e.g. postgres://user:pass@host/db")
	cf.str(&c.Effects.Query, "effects-query", "with --effects-sql: query counting processings of event_id $1, e.g. 'SELECT count(*) FROM processed WHERE event_id = $1'")
	cf.str(&c.Effects.Log, "effects-log", "effects probe: a log file the receiver writes (followed across rotation); with --effects-match")
	cf.str(&c.Effects.Match, "effects-match", "pattern of the log lines that mark an event PROCESSED (not received): 'processed {event_id}', 're:REGEXP' or 'json:msg=processed,event_id={event_id}'")
	cf.str(&c.Effects.Command, "effects-command", "effects probe: command printing the count for {event_id}, e.g. 'redis-cli SCARD processed:{event_id}' (run without a shell)")
	cf.boolean(&c.Effects.CommandShell, "effects-command-shell", "run --effects-command through /bin/sh (pipes); the event_id is checked first either way")
	cf.duration(&c.Effects.CommandTimeout, "effects-command-timeout", "bound on one --effects-command run (0: 10s)")
	cf.str(&c.Auth.OAuth2.JWKSURL, "oauth2-jwks-url", "the OAuth2 issuer's JWKS URL, for AUTH-05's forgeries that need only its public keys (default: from the issuer's metadata)")
	cf.str(&c.RestartCommand, "restart-command", "shell command that restarts the receiver (enables IDEM-05)")
	cf.str(&c.ReceiverCommand, "receiver-command", "shell command that starts the receiver: hookproof runs it, restarts it for IDEM-05 and stops it; its output goes to receiver.log in --report-dir")
	cf.list(&c.EventTypes, "event-types", ",", "comma-separated subscribed event types (default: all)")
	cf.timeScale("multiply RiskOS retry waits")
	cf.duration(&c.Timeouts.Settle, "settle", "how long processing may take to show in the effects probe")
	cf.duration(&c.Timeouts.AckBudget, "ack-budget", "p99 ack latency a receiver must meet")
	cf.duration(&c.Timeouts.Spec, "spec-timeout", "bound on one check")
	cf.int64v(&c.BodyLimit, "body-limit", "the body size (bytes) the receiver must refuse beyond, for VAL-03")
	cf.float(&c.RequiredRate, "required-rate", "events/s the receiver must sustain: LOAD-01's rate, the pace of conformance deliveries and the processing deadline")
	cf.duration(&c.DedupeRetention, "dedupe-retention", "IDEM-07: wait this long (real time) before redelivering an event (0: the whole retry span, in --profile production only)")
	cf.duration(&c.LoadDuration, "load-duration", "length of LOAD-01's sustained run in the full and production profiles")
	cf.boolean(&c.AllowRemoteLoad, "allow-remote-load", "run the load checks (LOAD-01..04, RETRY-02) against a target that is not on loopback")
	cf.boolean(&c.Strict, "strict", "fail the run on SHOULD failures too")
	cf.int64v(&c.Seed, "seed", "generator and spec-order seed (0: time-based)")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg := cf.config()
		if cfg.Seed == 0 {
			cfg.Seed = time.Now().UnixNano()
		}
		return runCertify(cmd.Context(), cmd, cf, cfg, o)
	}
	return cmd
}

// certifyDefaults are certify's defaults: it compresses the 362 s retry
// schedule unless told otherwise, and draws a fresh seed per run.
func certifyDefaults() harness.Config {
	c := harness.DefaultConfig()
	c.Retry.TimeScale = 0.01
	c.Seed = 0
	return c
}

func runCertify(ctx context.Context, cmd *cobra.Command, cf *configFlags, cfg harness.Config, o certifyOptions) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	var errs []error
	var faults []receiver.Fault
	for _, name := range o.demoFaults {
		f, err := receiver.ParseFault(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("--demo-fault: %w", err))
		}
		faults = append(faults, f)
	}
	switch {
	case o.demo && cfg.Target != "":
		errs = append(errs, errors.New("--demo and --target: give one or the other"))
	case o.demo && cfg.ReceiverCommand != "":
		errs = append(errs, errors.New("--demo and --receiver-command: give one or the other"))
	case !o.demo && len(faults) > 0:
		errs = append(errs, errors.New("--demo-fault: only with --demo"))
	}
	if err := checkColor(o.color); err != nil {
		errs = append(errs, err)
	}
	if o.maxDuration < 0 {
		errs = append(errs, fmt.Errorf("--max-duration: %s is negative", o.maxDuration))
	}
	if cfg.ReportDir != "" {
		// Found now, not after a whole run whose report then has nowhere to go.
		if err := reports.CheckWritable(cfg.ReportDir); err != nil {
			errs = append(errs, fmt.Errorf("--report-dir %s: cannot write reports there: %w", cfg.ReportDir, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return usageErr(err)
	}
	started := time.Now().UTC()
	red := redactorOf(ctx)
	var in scenarios.Inputs
	if o.demo {
		stateDir, err := os.MkdirTemp("", "hookproof-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(stateDir)
		d, err := startDemo(&cfg, cf.fs.Changed("auth") || os.Getenv(envName("auth")) != "", faults, stateDir)
		if err != nil {
			return err
		}
		defer d.Close()
		if err := cfg.Validate(); err != nil {
			return usageErr(err)
		}
		if len(faults) > 0 {
			// A fault that breaks only SHOULD requirements must still show
			// up in the exit code of a demo run made to watch it caught.
			cfg.Strict = true
		}
		in.Issuer = d.issuer
		in.Restart = func(context.Context) error { return d.srv.Restart() }
		fmt.Fprintf(stderr, "hookproof certify: demo receiver at %s", cfg.Target)
		if len(faults) > 0 {
			fmt.Fprintf(stderr, " with fault %v", o.demoFaults)
		}
		fmt.Fprintln(stderr)
	} else {
		if err := cfg.Validate(); err != nil {
			return usageErr(err)
		}
		if cfg.RestartCommand != "" {
			in.Restart = func(ctx context.Context) error { return runRestart(ctx, cfg.RestartCommand, stderr) }
		}
		stopReceiver, err := manageReceiver(ctx, &cfg, &in, stderr)
		if err != nil {
			return err
		}
		defer stopReceiver()
	}
	learnConfig(red, cfg)
	color := useColor(o.color, stdout)
	if err := reachable(ctx, cfg); err != nil && ctx.Err() == nil {
		return unreachableErr(err)
	}
	client, err := harness.NewClient(cfg)
	if err != nil {
		return usageErr(err)
	}
	breaker := scenarios.NewBreaker(0)
	client.Transport = breaker.Transport(client.Transport)
	auth, err := harness.NewAuthorizer(cfg.Auth, client)
	if err != nil {
		return usageErr(err)
	}
	learnAuth(red, auth)
	if err := preflightToken(ctx, auth); err != nil && ctx.Err() == nil {
		return usageErr(err)
	}
	if err := preflightDelivery(ctx, cfg, client, auth); err != nil && ctx.Err() == nil {
		// The CI step that collects the reports must find them, saying why.
		if werr := writeErrorReports(stdout, stderr, cfg, started, err.Error(), color, red); werr != nil {
			fmt.Fprintln(stderr, "hookproof certify:", werr)
		}
		return unreachableErr(err)
	}
	sender, err := scenarios.NewSender(cfg, client, auth, riskos.WithObserver(breaker.Observe))
	if err != nil {
		return usageErr(err)
	}
	probe, closeProbe, err := harness.NewProbe(cfg.Effects, client, auth)
	if err != nil {
		return usageErr(err)
	}
	defer closeProbe()
	if probe != nil && ctx.Err() == nil {
		if err := checkProbe(ctx, probe); err != nil {
			return usageErr(err)
		}
	}
	in.Config, in.Sender, in.Authorizer, in.Probe = cfg, sender, auth, probe

	deadline := o.maxDuration
	if deadline == 0 {
		deadline = defaultMaxDuration(cfg)
	}
	fmt.Fprintf(stderr, "hookproof certify: %s profile against %s (auth %s, deadline %s)\n", cfg.Profile, harness.RedactURL(cfg.Target), cfg.Auth.Type, deadline)
	res, err := scenarios.Run(in, scenarios.RunOptions{
		LabelFilter: cfg.LabelFilter, Progress: stderr, Color: color, Verbose: o.verbose, GinkgoOut: stderr, Context: ctx,
		Breaker: breaker, MaxDuration: deadline,
	})
	rearmSignals()
	if err != nil {
		return usageErr(err)
	}
	rep := res.Report(cfg)
	// Every token the run fetched is known to red: LearnTokens saw each.
	reports.ScrubWith(rep, red)
	repro := addReproductions(rep, cmd, cfg)
	// The reproduction lines hold flag values (a --header, a --target with
	// a key in its query): they are scrubbed like every other field.
	reports.ScrubWith(rep, red)
	scrubReproFiles(repro, red)
	if err := reports.WriteConsole(stdout, rep, color); err != nil {
		return err
	}
	if cfg.ReportDir != "" {
		if err := reports.WriteAll(cfg.ReportDir, rep); err != nil {
			return fmt.Errorf("--report-dir: %w", err)
		}
		if err := writeReproFiles(cfg.ReportDir, repro); err != nil {
			return fmt.Errorf("--report-dir: %w", err)
		}
		fmt.Fprintf(stderr, "hookproof certify: reports written to %s\n", cfg.ReportDir)
	}
	switch {
	case res.Interrupted:
		return &exitError{code: exitInterrupted, err: errors.New("interrupted: the partial report was written")}
	case ctx.Err() != nil:
		return &exitError{code: exitInterrupted, err: errors.New("interrupted after every check ran: the report is complete")}
	case rep.Verdict != reports.VerdictPass:
		return failedErr(fmt.Errorf("certification failed: %s", rep.Headline()))
	}
	return nil
}

// checkProbe asks the probe about an event_id nothing was ever sent with:
// it must answer 0. A probe that cannot answer would otherwise turn every
// idempotency check into a failure blamed on the receiver.
func checkProbe(ctx context.Context, p harness.Probe) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	id := "hookproof-probe-check-" + uuid.NewString()
	n, err := p.Count(ctx, id)
	switch {
	case err != nil:
		// The probe's answer may echo the credentials sent with it; the
		// run's Redactor scrubs the message on its way out.
		return fmt.Errorf("the effects probe does not answer (%s): %w (check the --effects-* flags; --effects-auth sends the delivery credentials to an effects URL)", p.Describe(), err)
	case n != 0:
		return fmt.Errorf("the effects probe (%s) counts %d processings of %s, an event_id never sent: it cannot tell duplicates apart", p.Describe(), n, id)
	}
	return nil
}

// reachable fails fast, with one clear line, when nothing listens at the
// target: every check would fail the same way.
func reachable(ctx context.Context, cfg harness.Config) error {
	u, err := url.Parse(cfg.Target)
	if err != nil {
		return err
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	d := net.Dialer{Timeout: min(cfg.Timeouts.Dial, 5*time.Second)}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return fmt.Errorf("target %s is unreachable: %s", harness.RedactURL(cfg.Target), harness.ClassifyError(err))
	}
	return conn.Close()
}

// restartGrace is how long --restart-command's process group has between
// SIGTERM and SIGKILL once the run ends it.
const restartGrace = 3 * time.Second

// runRestart runs --restart-command through the shell, bounded by ctx, in
// a process group of its own: when ctx ends (Ctrl-C, the run deadline) the
// whole group is ended, so no grandchild it started is left behind. What
// the command leaves running after it exited by itself (the restarted
// receiver, typically) is not touched.
func runRestart(ctx context.Context, command string, stderr io.Writer) error {
	c := exec.Command("/bin/sh", "-c", command)
	c.Stdout, c.Stderr = stderr, stderr
	g, err := proc.Start(c)
	if err != nil {
		return fmt.Errorf("--restart-command: %w", err)
	}
	liveGroups.Store(g, struct{}{})
	defer liveGroups.Delete(g)
	select {
	case <-g.Done():
		// Children the command leaves running are the restarted receiver:
		// they are not touched.
		if err := g.Err(); err != nil {
			return fmt.Errorf("--restart-command: %w", err)
		}
		return nil
	case <-ctx.Done():
		// The group may hold processes that ignore SIGTERM.
		_ = g.Stop(restartGrace)
		return fmt.Errorf("--restart-command: %w", context.Cause(ctx))
	}
}

// defaultMaxDuration is the run deadline of cfg's profile: quick runs fit
// in 5 minutes, full and production ones in 30 minutes and 2 hours; the
// real-time waits a run is asked for (IDEM-07's dedupe retention, LOAD-01's
// sustained runs) come on top.
func defaultMaxDuration(cfg harness.Config) time.Duration {
	switch cfg.Profile {
	case harness.ProfileQuick:
		return 5*time.Minute + cfg.DedupeRetention
	case harness.ProfileProduction:
		return 2*time.Hour + 8*cfg.LoadDuration + cfg.DedupeRetention
	}
	return 30*time.Minute + 8*cfg.LoadDuration + cfg.DedupeRetention
}

// preflightTimeout bounds the preflight token fetch and delivery: a target
// that cannot answer one delivery in this time is not worth a whole run.
const preflightTimeout = 10 * time.Second

// preflightToken obtains the first OAuth2 token before any check: a token
// endpoint that refuses is a configuration error, not fourteen failed
// requirements of the receiver.
func preflightToken(ctx context.Context, auth harness.Authorizer) error {
	oa, ok := auth.(*harness.OAuth2Authorizer)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	if _, err := oa.Token(ctx); err != nil {
		return fmt.Errorf("--oauth2-token-url: no token for the client credentials: %w", err)
	}
	return nil
}

// preflightDelivery sends one valid event, outside the run's ledger, and
// fails when the target lets it time out (within preflightTimeout): a
// target that accepts connections and never answers would otherwise keep
// every check waiting out its timeouts.
func preflightDelivery(ctx context.Context, cfg harness.Config, client *http.Client, auth harness.Authorizer) error {
	s, err := riskos.New(cfg, riskos.WithClient(client), riskos.WithAuthorizer(auth))
	if err != nil {
		return err
	}
	typ := "decision_update"
	if len(cfg.EventTypes) > 0 {
		typ = cfg.EventTypes[0]
	}
	ev, err := harness.NewLiveGenerator(max(cfg.Seed, 1), time.Now).Event(typ)
	if err != nil {
		return err
	}
	d := riskos.DeliveryOf(ev)
	d.Label = "preflight"
	ctx, cancel := context.WithTimeout(ctx, min(preflightTimeout, cfg.Timeouts.Attempt))
	defer cancel()
	a := s.Send(ctx, d)
	if a.Status != 0 || a.ErrorClass != harness.ErrTimeout {
		// Any answer, and any failure that is the receiver's own doing (a
		// reset, a TLS refusal), is evidence the checks will judge; only
		// silence leaves nothing to judge.
		return nil
	}
	return fmt.Errorf("target %s accepted the connection but did not answer a delivery within %s (%s): nothing can be judged", harness.RedactURL(cfg.Target), min(preflightTimeout, cfg.Timeouts.Attempt), orClass(a.ErrorClass))
}

func orClass(c harness.ErrorClass) string {
	if c == harness.ErrNone {
		return "no answer"
	}
	return string(c)
}

// writeErrorReports writes the report of a run that could not judge the
// receiver: every requirement not run, the verdict error with its cause.
func writeErrorReports(stdout, stderr io.Writer, cfg harness.Config, started time.Time, cause string, color bool, red *harness.Redactor) error {
	rep := reports.NewRunReport(cfg, started, time.Now().UTC(), false)
	rep.Requirements = reports.Complete(nil, cfg.Profile, "not run: "+cause)
	rep.SetError(cause)
	reports.ScrubWith(rep, red)
	if err := reports.WriteConsole(stdout, rep, color); err != nil {
		return err
	}
	if cfg.ReportDir == "" {
		return nil
	}
	if err := reports.WriteAll(cfg.ReportDir, rep); err != nil {
		return fmt.Errorf("--report-dir: %w", err)
	}
	fmt.Fprintf(stderr, "hookproof certify: reports written to %s\n", cfg.ReportDir)
	return nil
}
