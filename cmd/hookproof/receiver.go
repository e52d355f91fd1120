package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

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
	)
	cmd := &cobra.Command{
		Use:   "receiver --listen ADDR",
		Short: "Run hookproof's reference receiver (compliant, or with named faults)",
		Long: `receiver serves a RiskOS webhook receiver that does everything right: auth in
constant time, body limit, strict envelope, race-free dedupe on event_id, ack
before processing, 503 + Retry-After when its queue is full, and an effects
endpoint at /_hookproof/effects. --fault switches on one deliberate defect;
--list-faults names them with the requirements each one breaks.

With --auth oauth2 and no --jwks-url, an OAuth2 issuer for the given client id
and secret is started beside it and its token URL printed.`,
		Args: cobra.NoArgs,
	}
	b := newBinder(cmd.Flags(), harness.DefaultConfig())
	authFlags(b)
	fs := cmd.Flags()
	fs.StringVar(&addr, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&path, "path", receiver.DefaultPath, "webhook path")
	fs.StringArrayVar(&faultNames, "fault", nil, "switch on a named fault (repeatable; see --list-faults)")
	fs.BoolVar(&listFaults, "list-faults", false, "list the faults and the requirements each one breaks")
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
		if cfg.Auth.Type == harness.AuthOAuth2 {
			stop, err := oauthVerifier(ctx, &opts, cfg.Auth, jwksURL, issuerURL, audience, cmd.ErrOrStderr())
			if err != nil {
				return usageErr(err)
			}
			defer stop()
		}
		scheme := "http"
		if cert != nil {
			scheme = "https"
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "hookproof receiver: webhook at %s://%s%s, effects at %s (auth %s, faults %v)\n",
			scheme, addr, opts.Path, receiver.EffectsPath, cfg.Auth.Type, faultNames)
		err := receiver.ListenAndServe(ctx, addr, opts, cert)
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("--listen %s: %w", addr, err)
		}
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
// built-in issuer started for the configured client.
func oauthVerifier(ctx context.Context, opts *receiver.Options, a harness.AuthConfig, jwksURL, iss, aud string, stderr io.Writer) (func(), error) {
	vo := oauth.VerifierOptions{JWKSURL: jwksURL, Issuer: iss, Audience: aud}
	stop := func() {}
	if jwksURL == "" {
		issuer, err := oauth.NewIssuer(oauth.IssuerOptions{Clients: map[string]harness.Secret{a.OAuth2.ClientID: a.OAuth2.ClientSecret}, Audience: aud})
		if err != nil {
			return nil, fmt.Errorf("starting the built-in OAuth2 issuer: %w", err)
		}
		vo = oauth.VerifierOptions{JWKSURL: issuer.JWKSURL(), Issuer: issuer.URL(), Audience: issuer.Audience(),
			AllowedClients: []string{a.OAuth2.ClientID}, Client: issuer.Client()}
		stop = issuer.Close
		fmt.Fprintf(stderr, "hookproof receiver: OAuth2 token URL %s (client %s)\n", issuer.TokenURL(), a.OAuth2.ClientID)
	}
	v := oauth.NewVerifier(vo)
	opts.Verifier = receiver.TokenVerifierFunc(func(ctx context.Context, tok string) error {
		_, err := v.Verify(ctx, tok)
		return err
	})
	return stop, nil
}

func printFaults(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tBREAKS\tWHAT IT DOES")
	for _, f := range receiver.Faults {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, strings.Join(f.Breaks, ","), f.Description)
	}
	return tw.Flush()
}
