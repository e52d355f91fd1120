package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
)

func newReceiverCmd() *cobra.Command {
	var (
		addr, path, stateFile, effectsFile, tlsCert, tlsKey string
		jwksURL, issuerURL, audience                        string
		faultNames                                          []string
		listFaults                                          bool
		workers, queue                                      int
		maxBody                                             int64
		rateLimit, workerRate                               float64
		dedupeMemory                                        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "receiver --listen ADDR",
		Short: "Run hookproof's reference receiver (compliant, or with named faults)",
		Long: `receiver serves a RiskOS webhook receiver that does everything right: auth in
constant time, body limit, strict envelope, race-free dedupe on event_id, ack
before processing, 503 + Retry-After when its queue is full, and an effects
endpoint at /_hookproof/effects. --fault switches on one deliberate defect, or
one compliant variant (a rate limit, an in-flight lock, a slow worker, ...);
--list-faults names them all with the requirements each one breaks.

With --auth oauth2 and no --jwks-url, an OAuth2 issuer for the given client id
and secret is started beside it and its token URL printed.`,
		Args: cobra.NoArgs,
	}
	b := newBinder(cmd.Flags(), harness.DefaultConfig())
	authFlags(b)
	fs := cmd.Flags()
	fs.StringVar(&addr, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&path, "path", receiver.DefaultPath, "webhook path")
	fs.StringArrayVar(&faultNames, "fault", nil, "switch on a named fault or compliant variant (repeatable; see --list-faults)")
	fs.BoolVar(&listFaults, "list-faults", false, "list the faults and variants and the requirements each one breaks")
	fs.Float64Var(&rateLimit, "rate-limit", 0, "shed valid events above this many per second with 503 + Retry-After (rate-limit default: "+fmt.Sprint(receiver.DefaultRateLimit)+")")
	fs.Float64Var(&workerRate, "worker-rate", 0, "one worker processing this many events per second from an unbounded queue (slow-worker default: "+fmt.Sprint(receiver.DefaultWorkerRate)+")")
	fs.DurationVar(&dedupeMemory, "dedupe-memory", 0, "forget an event_id this long after accepting it (short-dedupe-memory default: "+receiver.ShortDedupeMemory.String()+"; 0: never)")
	fs.StringVar(&stateFile, "state-file", "", "dedupe state file: deduplication survives a restart")
	fs.StringVar(&effectsFile, "effects-file", "", "append one processed event_id per line (for --effects-file probes)")
	fs.IntVar(&workers, "workers", receiver.DefaultWorkers, "business workers")
	fs.IntVar(&queue, "queue-size", receiver.DefaultQueueSize, "queue bound; beyond it deliveries get 503 + Retry-After")
	fs.Int64Var(&maxBody, "max-body", receiver.DefaultMaxBody, "body limit in bytes (413 beyond)")
	fs.StringVar(&tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate")
	fs.StringVar(&tlsKey, "tls-key", "", "PEM key of --tls-cert")
	fs.StringVar(&jwksURL, "jwks-url", "", "oauth2: verify tokens against this JWKS instead of a built-in issuer")
	fs.StringVar(&issuerURL, "oauth2-issuer", "", "oauth2 with --jwks-url: the iss claim tokens must carry")
	fs.StringVar(&audience, "oauth2-audience", "hookproof-receiver", "oauth2: the aud claim tokens must carry")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		out := cmd.OutOrStdout()
		if listFaults {
			return printFaults(out)
		}
		cfg := b.config()
		var errs []error
		opts := receiver.Options{Path: path, Auth: cfg.Auth, StateFile: stateFile, EffectsFile: effectsFile,
			Workers: workers, QueueSize: queue, MaxBody: maxBody,
			RateLimit: rateLimit, WorkerRate: workerRate, DedupeMemory: dedupeMemory,
			Logger: slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))}
		for _, n := range faultNames {
			f, err := receiver.ParseFault(n)
			if err != nil {
				errs = append(errs, fmt.Errorf("--fault: %w", err))
			}
			opts.Faults = append(opts.Faults, f)
		}
		if cfg.Auth.Type != harness.AuthOAuth2 || jwksURL == "" {
			// The receiver checks credentials it holds; only the OAuth2
			// token URL is irrelevant to it.
			if err := receiverAuthValid(cfg.Auth); err != nil {
				errs = append(errs, err)
			}
		}
		for _, p := range []struct {
			flag string
			v    float64
		}{{"rate-limit", rateLimit}, {"worker-rate", workerRate}, {"dedupe-memory", dedupeMemory.Seconds()}} {
			if p.v < 0 {
				errs = append(errs, fmt.Errorf("--%s: must not be negative", p.flag))
			}
		}
		if (tlsCert == "") != (tlsKey == "") {
			errs = append(errs, errors.New("--tls-cert and --tls-key: give both or neither"))
		}
		var cert *tls.Certificate
		if tlsCert != "" && tlsKey != "" {
			c, err := tls.LoadX509KeyPair(tlsCert, tlsKey)
			if err != nil {
				errs = append(errs, fmt.Errorf("--tls-cert/--tls-key: %w", err))
			}
			cert = &c
		}
		if err := errors.Join(errs...); err != nil {
			return usageErr(err)
		}
		ctx := cmd.Context()
		var issuerLine string
		if cfg.Auth.Type == harness.AuthOAuth2 {
			stop, line, err := oauthVerifier(ctx, &opts, cfg.Auth, jwksURL, issuerURL, audience)
			if err != nil {
				return usageErr(err)
			}
			defer stop()
			issuerLine = line
		}
		srv, err := receiver.NewUnstartedServer(opts)
		if err != nil {
			return usageErr(err)
		}
		defer srv.Close() // waits for in-flight deliveries, drains the queue, syncs the state file
		srv.Addr = addr
		if cert != nil {
			err = srv.StartTLS(*cert)
		} else {
			err = srv.Start()
		}
		if err != nil {
			// A port in use or an address that is not one: the command
			// line is what needs changing.
			return usageErr(fmt.Errorf("--listen %s: %w", addr, err))
		}
		// Printed once bound, so --listen 127.0.0.1:0 says which port it
		// got, and never before a configuration error.
		if issuerLine != "" {
			fmt.Fprintln(cmd.ErrOrStderr(), issuerLine)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "hookproof receiver: webhook at %s, effects at %s (auth %s, faults %v)\n",
			srv.WebhookURL(), srv.EffectsURL(), cfg.Auth.Type, faultNames)
		<-ctx.Done()
		return nil
	}
	return cmd
}

// receiverAuthValid checks what the receiver itself needs to enforce auth.
func receiverAuthValid(a harness.AuthConfig) error {
	switch a.Type {
	case harness.AuthOAuth2:
		if a.OAuth2.ClientID == "" || !a.OAuth2.ClientSecret.IsSet() {
			return errors.New("--auth oauth2 without --jwks-url: give --oauth2-client-id and --oauth2-client-secret for the built-in issuer")
		}
		return nil
	case harness.AuthNone, harness.AuthBasic, harness.AuthBearer:
		a.OAuth2 = harness.OAuth2Config{}
		return a.Validate()
	}
	return a.Validate()
}

// oauthVerifier sets opts.Verifier: against an external JWKS, or against a
// built-in issuer started for the configured client, whose banner line it
// returns for printing once the receiver listens.
func oauthVerifier(ctx context.Context, opts *receiver.Options, a harness.AuthConfig, jwksURL, iss, aud string) (func(), string, error) {
	vo := oauth.VerifierOptions{JWKSURL: jwksURL, Issuer: iss, Audience: aud}
	stop := func() {}
	var banner string
	if jwksURL == "" {
		issuer, err := oauth.NewServer(oauth.ServerOptions{Clients: map[string]harness.Secret{a.OAuth2.ClientID: a.OAuth2.ClientSecret}, Audience: aud})
		if err != nil {
			return nil, "", fmt.Errorf("starting the built-in OAuth2 issuer: %w", err)
		}
		vo = oauth.VerifierOptions{JWKSURL: issuer.JWKSURL(), Issuer: issuer.URL, Audience: issuer.Audience(),
			AllowedClients: []string{a.OAuth2.ClientID}, Client: issuer.Client()}
		stop = issuer.Close
		banner = fmt.Sprintf("hookproof receiver: OAuth2 token URL %s (client %s)", issuer.TokenURL(), a.OAuth2.ClientID)
	}
	v := oauth.NewVerifier(vo)
	opts.Verifier = receiver.TokenVerifierFunc(func(ctx context.Context, tok string) error {
		_, err := v.Verify(ctx, tok)
		return err
	})
	return stop, banner, nil
}

func printFaults(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tBREAKS\tWHAT IT DOES")
	for _, f := range receiver.Matrix() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, kindOf(f), breaksOf(f), f.Description)
	}
	return tw.Flush()
}

func kindOf(f receiver.FaultInfo) string {
	if f.Compliant {
		return "variant"
	}
	return "fault"
}

// breaksOf lists f's requirements, marking those only the longer profiles
// catch with this receiver.
func breaksOf(f receiver.FaultInfo) string {
	if len(f.Breaks) == 0 {
		return "none"
	}
	ids := make([]string, len(f.Breaks))
	for i, id := range f.Breaks {
		ids[i] = id
		if slices.Contains(f.NotInQuick, id) {
			ids[i] += " (not in quick)"
		}
	}
	return strings.Join(ids, ", ")
}
