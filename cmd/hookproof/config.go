package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookproof/hookproof/harness"
)

// binder registers flags and remembers how each one sets the Config, so the
// precedence defaults < hookproof.yaml < HOOKPROOF_* < flags is applied in
// one place: only flags that were given (or filled from the environment)
// override the file.
type binder struct {
	fs       *pflag.FlagSet
	bindings []binding
}

type binding struct {
	name  string
	apply func(*harness.Config) error
}

func newBinder(fs *pflag.FlagSet) *binder { return &binder{fs: fs} }

func (b *binder) add(name string, apply func(*harness.Config) error) {
	b.bindings = append(b.bindings, binding{name, apply})
}

func (b *binder) str(name, usage string, set func(*harness.Config, string) error) {
	v := b.fs.String(name, "", usage)
	b.add(name, func(c *harness.Config) error { return set(c, *v) })
}

// secret registers a secret flag; its value may be @FILE so it stays out of
// process listings and shell history.
func (b *binder) secret(name, usage string, set func(*harness.Config, harness.Secret)) {
	v := b.fs.String(name, "", usage+" (or @FILE to read it from a file)")
	b.add(name, func(c *harness.Config) error {
		s, err := readSecret(*v)
		if err != nil {
			return fmt.Errorf("--%s: %w", name, err)
		}
		set(c, s)
		return nil
	})
}

func (b *binder) duration(name, usage string, set func(*harness.Config, time.Duration)) {
	v := b.fs.Duration(name, 0, usage)
	b.add(name, func(c *harness.Config) error { set(c, *v); return nil })
}

func (b *binder) float(name, usage string, set func(*harness.Config, float64)) {
	v := b.fs.Float64(name, 0, usage)
	b.add(name, func(c *harness.Config) error { set(c, *v); return nil })
}

func (b *binder) int64v(name, usage string, set func(*harness.Config, int64)) {
	v := b.fs.Int64(name, 0, usage)
	b.add(name, func(c *harness.Config) error { set(c, *v); return nil })
}

func (b *binder) boolean(name, usage string, set func(*harness.Config, bool)) {
	v := b.fs.Bool(name, false, usage)
	b.add(name, func(c *harness.Config) error { set(c, *v); return nil })
}

func readSecret(v string) (harness.Secret, error) {
	path, ok := strings.CutPrefix(v, "@")
	if !ok {
		return harness.Secret(v), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		// The path is not a secret; the error from os names it.
		return "", fmt.Errorf("reading secret file: %w", err)
	}
	return harness.Secret(strings.TrimRight(string(b), "\r\n")), nil
}

// envName is the HOOKPROOF_* variable that stands in for a flag.
func envName(flag string) string {
	return "HOOKPROOF_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// configFlags are the flags every command that talks to a target shares.
type configFlags struct {
	*binder
	configPath string
}

// targetFlags registers --config, --target, the auth flags, --header, the
// TLS flags and the delivery timeout.
func targetFlags(cmd *cobra.Command) *configFlags {
	fs := cmd.Flags()
	cf := &configFlags{binder: newBinder(fs)}
	fs.StringVar(&cf.configPath, "config", "", "config file (default ./hookproof.yaml if present; env HOOKPROOF_CONFIG)")
	cf.str("target", "receiver URL to deliver to", func(c *harness.Config, v string) error { c.Target = v; return nil })
	authFlags(cf.binder)
	headers := fs.StringArray("header", nil, "static header 'Name: value' sent with every delivery (repeatable)")
	cf.add("header", func(c *harness.Config) error {
		c.Headers = nil
		var errs []error
		for _, h := range *headers {
			p, err := harness.ParseHeader(h)
			if err != nil {
				errs = append(errs, fmt.Errorf("--header: %w", err))
				continue
			}
			c.Headers = append(c.Headers, p)
		}
		return errors.Join(errs...)
	})
	cf.str("ca-cert", "PEM file of CAs to trust for https targets", func(c *harness.Config, v string) error { c.TLS.CACert = v; return nil })
	cf.str("client-cert", "PEM client certificate for mTLS", func(c *harness.Config, v string) error { c.TLS.ClientCert = v; return nil })
	cf.str("client-key", "PEM client key for mTLS", func(c *harness.Config, v string) error { c.TLS.ClientKey = v; return nil })
	cf.boolean("insecure-skip-verify", "do not verify the target's certificate (shown loudly in reports)", func(c *harness.Config, v bool) { c.TLS.InsecureSkipVerify = v })
	cf.duration("timeout", "per-attempt delivery timeout (default 30s)", func(c *harness.Config, v time.Duration) { c.Timeouts.Attempt = v })
	return cf
}

// timeScale registers --time-scale, which compresses the RiskOS retry waits
// for every command that runs the retry loop.
func (cf *configFlags) timeScale(usage string) {
	cf.float("time-scale", usage, func(c *harness.Config, v float64) { c.Retry.TimeScale = v })
}

// authFlags registers design.md's auth flags.
func authFlags(b *binder) {
	b.str("auth", "auth type: none, basic, bearer or oauth2", func(c *harness.Config, v string) error {
		c.Auth.Type = harness.AuthType(strings.ToLower(v))
		return nil
	})
	b.str("basic-user", "Basic auth user name", func(c *harness.Config, v string) error { c.Auth.BasicUser = v; return nil })
	b.secret("basic-password", "Basic auth password (env HOOKPROOF_BASIC_PASSWORD)", func(c *harness.Config, s harness.Secret) { c.Auth.BasicPassword = s })
	b.secret("bearer-token", "Bearer token (env HOOKPROOF_BEARER_TOKEN)", func(c *harness.Config, s harness.Secret) { c.Auth.BearerToken = s })
	b.str("oauth2-token-url", "OAuth2 token URL (client-credentials grant)", func(c *harness.Config, v string) error { c.Auth.OAuth2.TokenURL = v; return nil })
	b.str("oauth2-client-id", "OAuth2 client id", func(c *harness.Config, v string) error { c.Auth.OAuth2.ClientID = v; return nil })
	b.secret("oauth2-client-secret", "OAuth2 client secret (env HOOKPROOF_OAUTH2_CLIENT_SECRET)", func(c *harness.Config, s harness.Secret) { c.Auth.OAuth2.ClientSecret = s })
	b.str("oauth2-scope", "OAuth2 scopes, space or comma separated", func(c *harness.Config, v string) error {
		c.Auth.OAuth2.Scopes = strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
		return nil
	})
	b.str("oauth2-auth-style", "how client credentials reach the token URL: auto, header or body", func(c *harness.Config, v string) error { c.Auth.OAuth2.AuthStyle = v; return nil })
}

// load builds the run's Config: defaults, then the config file, then
// HOOKPROOF_* variables, then flags. It does not validate: commands validate
// what they need once, reporting every problem together.
func (cf *configFlags) load(getenv func(string) string) (harness.Config, error) {
	cfg := harness.DefaultConfig()
	return cfg, cf.loadInto(&cfg, getenv)
}

func (cf *configFlags) loadInto(cfg *harness.Config, getenv func(string) string) error {
	path := cf.configPath
	if path == "" {
		path = getenv("HOOKPROOF_CONFIG")
	}
	if path == "" {
		if _, err := os.Stat("hookproof.yaml"); err == nil {
			path = "hookproof.yaml"
		}
	}
	if path != "" {
		if err := harness.LoadConfigFile(path, cfg); err != nil {
			return usageErr(err)
		}
	}
	return cf.apply(cfg, getenv)
}

// apply fills unset flags from the environment, then applies every flag
// that has a value, gathering all problems.
func (b *binder) apply(cfg *harness.Config, getenv func(string) string) error {
	var errs []error
	for _, bd := range b.bindings {
		f := b.fs.Lookup(bd.name)
		if !f.Changed {
			if v := getenv(envName(bd.name)); v != "" {
				if err := f.Value.Set(v); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", envName(bd.name), err))
					continue
				}
				f.Changed = true
			}
		}
		if f.Changed {
			if err := bd.apply(cfg); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return usageErr(errors.Join(errs...))
}
