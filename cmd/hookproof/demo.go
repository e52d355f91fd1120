package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/internal/devca"
)

// demo is the built-in default target of `certify --demo`: the reference
// receiver on loopback (and the OAuth2 issuer for --auth oauth2), with its
// effects endpoint, started in-process and closed after the run.
type demo struct {
	srv    *receiver.Server
	issuer *oauth.Server
}

// startDemo starts the demo for cfg's auth (default: Bearer with a generated
// token) and faults, and points cfg at it. stateDir holds the dedupe state
// file so IDEM-05 can restart the receiver.
func startDemo(cfg *harness.Config, authGiven bool, faults []receiver.Fault, stateDir string) (*demo, error) {
	if !authGiven {
		cfg.Auth = harness.AuthConfig{Type: harness.AuthBearer, BearerToken: harness.Secret(uuid.NewString())}
	}
	a := &cfg.Auth
	switch a.Type {
	case harness.AuthBasic:
		if a.BasicUser == "" {
			a.BasicUser = "riskos"
		}
		if !a.BasicPassword.IsSet() {
			a.BasicPassword = harness.Secret(uuid.NewString())
		}
	case harness.AuthBearer:
		if !a.BearerToken.IsSet() {
			a.BearerToken = harness.Secret(uuid.NewString())
		}
	}
	d := &demo{}
	// The demo is sized like a modest production receiver, 250 events/s
	// (one worker, 4 ms of work per event, a queue of 50): five times the
	// required 50/s, so the load checks pass, yet a burst at the
	// catalogue's 10× spike overloads it and the overload checks (RETRY-02,
	// RETRY-03) see it shed with 503 + Retry-After.
	opts := receiver.Options{Auth: cfg.Auth, Faults: faults, StateFile: filepath.Join(stateDir, "dedupe.state"),
		Workers: 1, WorkDuration: 4 * time.Millisecond, QueueSize: 50}
	if a.Type == harness.AuthOAuth2 {
		if a.OAuth2.ClientID == "" {
			a.OAuth2.ClientID = "hookproof-demo"
		}
		if !a.OAuth2.ClientSecret.IsSet() {
			a.OAuth2.ClientSecret = harness.Secret(uuid.NewString())
		}
		iss, err := oauth.NewServer(oauth.ServerOptions{Clients: map[string]harness.Secret{a.OAuth2.ClientID: a.OAuth2.ClientSecret}})
		if err != nil {
			return nil, fmt.Errorf("starting the demo OAuth2 issuer: %w", err)
		}
		d.issuer = iss
		a.OAuth2.TokenURL = iss.TokenURL()
		v := oauth.NewVerifier(oauth.VerifierOptions{JWKSURL: iss.JWKSURL(), Issuer: iss.URL, Audience: iss.Audience(),
			AllowedClients: []string{a.OAuth2.ClientID}, Client: iss.Client()})
		opts.Verifier = receiver.TokenVerifierFunc(func(ctx context.Context, tok string) error {
			_, err := v.Verify(ctx, tok)
			return err
		})
	}
	// The demo serves HTTPS with a throwaway CA, as a production endpoint
	// would, so the transport checks have something real to judge.
	ca, err := devca.New("hookproof demo CA")
	if err != nil {
		d.Close()
		return nil, err
	}
	leaf, err := ca.Issue("127.0.0.1", "localhost")
	if err != nil {
		d.Close()
		return nil, err
	}
	caFile := filepath.Join(stateDir, "demo-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		d.Close()
		return nil, err
	}
	cfg.TLS.CACert = caFile
	srv, err := receiver.NewUnstartedServer(opts)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("starting the demo receiver: %w", err)
	}
	d.srv = srv
	if err := srv.StartTLS(leaf); err != nil {
		d.Close()
		return nil, fmt.Errorf("starting the demo receiver: %w", err)
	}
	cfg.Target = srv.WebhookURL()
	cfg.Effects.URL = srv.EffectsURL()
	return d, nil
}

// Close stops the demo servers, waiting for in-flight requests.
func (d *demo) Close() {
	if d.srv != nil {
		d.srv.Close()
	}
	if d.issuer != nil {
		d.issuer.Close()
	}
}
