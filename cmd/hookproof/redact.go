package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/hookproof/hookproof/harness"
)

// The run's one redaction registry rides in the command's context: run
// creates it and puts every byte of stdout, stderr and the returned error
// through it; commands teach it what they learn (configured secrets, each
// OAuth2 token fetched).
type redactorKey struct{}

func withRedactor(ctx context.Context, r *harness.Redactor) context.Context {
	return context.WithValue(ctx, redactorKey{}, r)
}

// redactorOf returns ctx's Redactor; nil (which scrubs JWTs only) outside run.
func redactorOf(ctx context.Context) *harness.Redactor {
	if ctx == nil {
		return nil
	}
	r, _ := ctx.Value(redactorKey{}).(*harness.Redactor)
	return r
}

// learnFlagSecrets teaches r every secret the command's flags hold, however
// they were set (command line, HOOKPROOF_*, config file, @FILE): secret
// flags, the Basic pair, credential-bearing static headers, and credentials
// inside URLs.
func learnFlagSecrets(fs *pflag.FlagSet, r *harness.Redactor) {
	if r == nil {
		return
	}
	var c harness.Config
	fs.VisitAll(func(f *pflag.Flag) {
		switch v := f.Value.(type) {
		case *secretValue:
			if v.dst != nil {
				r.Learn(v.dst.Reveal())
			}
		case *sliceValue[harness.Header]:
			c.Headers = append(c.Headers, *v.dst...)
		}
		switch f.Name {
		case "target":
			c.Target = f.Value.String()
		case "effects-url":
			c.Effects.URL = f.Value.String()
		case "oauth2-token-url":
			c.Auth.OAuth2.TokenURL = f.Value.String()
		}
	})
	for _, s := range c.Secrets() {
		r.Learn(s)
	}
	if pw, user := fs.Lookup("basic-password"), fs.Lookup("basic-user"); pw != nil && user != nil {
		if v, ok := pw.Value.(*secretValue); ok && v.dst != nil {
			r.LearnBasic(user.Value.String(), v.dst.Reveal())
		}
	}
}

// learnConfig teaches r the secrets of a finished Config (the demo adds
// credentials of its own after the flags are parsed).
func learnConfig(r *harness.Redactor, cfg harness.Config) {
	for _, s := range cfg.Secrets() {
		r.Learn(s)
	}
	r.LearnBasic(cfg.Auth.BasicUser, cfg.Auth.BasicPassword.Reveal())
	r.LearnBasic(cfg.Auth.OAuth2.ClientID, cfg.Auth.OAuth2.ClientSecret.Reveal())
}

// learnAuth makes an OAuth2 authorizer teach r every token it fetches.
func learnAuth(r *harness.Redactor, a harness.Authorizer) {
	if oa, ok := a.(*harness.OAuth2Authorizer); ok {
		oa.LearnTokens(r)
	}
}
