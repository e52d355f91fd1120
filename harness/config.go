package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Profiles of a certification run.
const (
	ProfileQuick      = "quick"      // CI: every requirement at small counts
	ProfileFull       = "full"       // larger samples, concurrency and counts
	ProfileProduction = "production" // full, and TLS-01 becomes MUST
)

// Header is one static header variable sent with every delivery.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ParseHeader parses "Name: value" as given to --header.
func ParseHeader(s string) (Header, error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Header{}, fmt.Errorf("%q is not 'Name: value'", s)
	}
	if strings.ContainsAny(name, " \t\r\n()<>@,;:\\\"/[]?={}") {
		return Header{}, fmt.Errorf("header name %q has characters a header name cannot", name)
	}
	if strings.ContainsAny(value, "\r\n") {
		return Header{}, fmt.Errorf("header %s: value has a line break", name)
	}
	return Header{Name: http.CanonicalHeaderKey(name), Value: strings.TrimSpace(value)}, nil
}

// Timeouts are every bound the harness waits on, named in one place.
type Timeouts struct {
	// Attempt bounds one delivery attempt end to end (RiskOS's delivery timeout).
	Attempt time.Duration `json:"attempt"`
	// Dial, TLSHandshake and ResponseHeader bound the transport's phases.
	Dial           time.Duration `json:"dial"`
	TLSHandshake   time.Duration `json:"tls_handshake"`
	ResponseHeader time.Duration `json:"response_header"`
	// AckBudget is the p99 ack latency a receiver must meet (ACK-02, LOAD-01).
	AckBudget time.Duration `json:"ack_budget"`
	// Settle bounds how long effects may take to appear after an ack.
	Settle time.Duration `json:"settle"`
	// Spec bounds one certification spec.
	Spec time.Duration `json:"spec"`
}

// DefaultTimeouts returns the RiskOS-like defaults.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Attempt:        30 * time.Second,
		Dial:           5 * time.Second,
		TLSHandshake:   10 * time.Second,
		ResponseHeader: 30 * time.Second,
		AckBudget:      500 * time.Millisecond,
		Settle:         5 * time.Second,
		Spec:           2 * time.Minute,
	}
}

// TLSConfig is how hookproof talks to https targets.
type TLSConfig struct {
	CACert             string `json:"ca_cert,omitempty"`
	ClientCert         string `json:"client_cert,omitempty"`
	ClientKey          string `json:"client_key,omitempty"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify,omitempty"`
}

// EffectsConfig names the probe that makes processing observable.
type EffectsConfig struct {
	URL   string `json:"url,omitempty"`
	File  string `json:"file,omitempty"`
	SQL   Secret `json:"sql,omitempty"` // a DSN may carry a password
	Query string `json:"query,omitempty"`
	// Auth sends the delivery credentials with effects-URL requests, for
	// receivers that protect their effects endpoint like their webhook.
	Auth bool `json:"auth,omitempty"`
	// Log is a log file the receiver writes, Match the pattern of its
	// lines that mark an event processed (see ParseLogPattern). Match
	// without Log reads a receiver hookproof starts itself.
	Log   string `json:"log,omitempty"`
	Match string `json:"match,omitempty"`
	// Command prints the count for {event_id}; CommandShell runs it through
	// /bin/sh; CommandTimeout bounds one run (0: DefaultCommandTimeout).
	Command        string        `json:"command,omitempty"`
	CommandShell   bool          `json:"command_shell,omitempty"`
	CommandTimeout time.Duration `json:"command_timeout,omitempty"`
}

// Configured reports whether any probe is set.
func (e EffectsConfig) Configured() bool {
	return e.URL != "" || e.File != "" || e.SQL.IsSet() || e.Log != "" || e.Match != "" || e.Command != ""
}

// validate reports the probe settings' problems. managed says a receiver
// hookproof starts itself supplies the log when Log is empty.
func (e EffectsConfig) validate(managed bool) []error {
	var errs []error
	if e.SQL.IsSet() && e.Query == "" {
		errs = append(errs, errors.New("--effects-query: required with --effects-sql"))
	}
	switch {
	case e.Log != "" && e.Match == "":
		errs = append(errs, errors.New("--effects-match: required with --effects-log (the pattern of the lines that mark an event processed)"))
	case e.Match != "" && e.Log == "" && !managed:
		errs = append(errs, errors.New("--effects-match: needs --effects-log FILE, or --receiver-command whose output is then read"))
	}
	if e.Match != "" {
		if _, err := ParseLogPattern(e.Match); err != nil {
			errs = append(errs, err)
		}
	}
	if e.Command != "" {
		if _, err := NewCommandProbe(e.Command, e.CommandShell, e.CommandTimeout); err != nil {
			errs = append(errs, err)
		}
	} else if e.CommandShell {
		errs = append(errs, errors.New("--effects-command-shell: only with --effects-command"))
	}
	if e.CommandTimeout < 0 {
		errs = append(errs, fmt.Errorf("--effects-command-timeout: must not be negative, got %s", e.CommandTimeout))
	}
	n := 0
	for _, set := range []bool{e.URL != "", e.File != "", e.SQL.IsSet(), e.Match != "", e.Command != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		errs = append(errs, errors.New("effects probe: give one of --effects-url, --effects-file, --effects-sql, --effects-match, --effects-command"))
	}
	return errs
}

// Config is one run's configuration: DefaultConfig (or a command's variant of
// it) with the command's flags applied, each flag having been set from the
// command line, a HOOKPROOF_* variable or the config file (in cmd); then
// validated once. Validate's messages name the flags.
type Config struct {
	Target         string        `json:"target"`
	Auth           AuthConfig    `json:"auth"`
	Headers        []Header      `json:"headers,omitempty"`
	Profile        string        `json:"profile"`
	EventTypes     []string      `json:"event_types,omitempty"`
	Effects        EffectsConfig `json:"effects"`
	TLS            TLSConfig     `json:"tls"`
	Timeouts       Timeouts      `json:"timeouts"`
	Retry          RetryPolicy   `json:"retry"`
	RestartCommand string        `json:"restart_command,omitempty"`
	// ReceiverCommand, when set, is a shell command that starts the
	// receiver: hookproof runs it, restarts it for IDEM-05 and stops it.
	ReceiverCommand string `json:"receiver_command,omitempty"`
	ReportDir       string `json:"report_dir,omitempty"`
	LabelFilter     string `json:"label_filter,omitempty"`
	Strict          bool   `json:"strict,omitempty"`
	Seed            int64  `json:"seed"`
	// AllowRemoteLoad lets the load checks and hookproof load send to a
	// target that is not on loopback; without it they refuse (load) or are
	// skipped (certify), so load never leaves the machine by accident.
	AllowRemoteLoad bool `json:"allow_remote_load,omitempty"`
	// BodyLimit is the body size a receiver must refuse beyond (VAL-03).
	BodyLimit int64 `json:"body_limit"`
	// RequiredRate is LOAD-01's rate in events/s; LoadDuration its duration.
	RequiredRate float64       `json:"required_rate"`
	LoadDuration time.Duration `json:"load_duration"`
	// DedupeRetention, when set, is how long IDEM-07 waits (real time)
	// before redelivering an event; --profile production waits the whole
	// RiskOS retry span without it.
	DedupeRetention time.Duration `json:"dedupe_retention,omitempty"`
}

// DefaultBodyLimit is the default size limit of VAL-03 (docs/requirements.md).
const DefaultBodyLimit = 1 << 20

// DefaultRequiredRate is LOAD-01's rate in events/s unless configured.
const DefaultRequiredRate = 50

// DefaultConfig returns the defaults every run starts from.
func DefaultConfig() Config {
	return Config{
		Auth:         AuthConfig{Type: AuthNone},
		Profile:      ProfileQuick,
		Timeouts:     DefaultTimeouts(),
		Retry:        DefaultRetryPolicy(),
		Seed:         1,
		BodyLimit:    DefaultBodyLimit,
		RequiredRate: DefaultRequiredRate,
		LoadDuration: 30 * time.Second,
	}
}

// Validate reports every problem together, each naming its field.
func (c Config) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if c.Target == "" {
		add(errors.New("--target: required"))
	} else if err := checkHTTPURL(c.Target); err != nil {
		add(fmt.Errorf("--target: %w", err))
	}
	add(c.Auth.Validate())
	switch c.Profile {
	case ProfileQuick, ProfileFull, ProfileProduction:
	default:
		add(fmt.Errorf("--profile: %q is not quick, full or production", c.Profile))
	}
	for _, t := range c.EventTypes {
		if _, ok := LookupEventType(t); !ok {
			add(fmt.Errorf("--event-types: %q is not a RiskOS event type (see hookproof events list)", t))
		}
	}
	for i, h := range c.Headers {
		if _, err := ParseHeader(h.Name + ": " + h.Value); err != nil {
			add(fmt.Errorf("headers[%d] (--header): %w", i, err))
		} else if err := CheckStaticHeader(h.Name); err != nil {
			add(fmt.Errorf("headers[%d] (--header): %w", i, err))
		}
	}
	if c.Effects.URL != "" {
		if err := checkHTTPURL(c.Effects.URL); err != nil {
			add(fmt.Errorf("--effects-url: %w", err))
		}
	}
	errs = append(errs, c.Effects.validate(c.ReceiverCommand != "")...)
	if c.ReceiverCommand != "" && c.RestartCommand != "" {
		add(errors.New("--receiver-command and --restart-command: give one; hookproof restarts a receiver it started itself"))
	}
	if (c.TLS.ClientCert == "") != (c.TLS.ClientKey == "") {
		add(errors.New("--client-cert and --client-key: give both or neither"))
	}
	t := c.Timeouts
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"timeout", t.Attempt}, {"dial-timeout", t.Dial}, {"tls-handshake-timeout", t.TLSHandshake}, {"response-header-timeout", t.ResponseHeader}, {"ack-budget", t.AckBudget}, {"settle", t.Settle}, {"spec-timeout", t.Spec}} {
		if d.v <= 0 {
			add(fmt.Errorf("--%s: must be positive, got %s", d.name, d.v))
		}
	}
	// Of the retry policy only the time scale is a setting; the rest is
	// RiskOS's fixed schedule, checked as a whole.
	if ts := c.Retry.TimeScale; !(ts > 0 && ts <= 1) {
		add(fmt.Errorf("--time-scale: %g is outside (0, 1]", ts))
	}
	r := c.Retry
	r.TimeScale = 1
	add(r.Validate("retry policy "))
	if c.BodyLimit < 1024 || c.BodyLimit > 1<<30 {
		add(fmt.Errorf("--body-limit: %d is outside 1 KiB..1 GiB", c.BodyLimit))
	}
	if c.RequiredRate <= 0 {
		add(fmt.Errorf("--required-rate: must be positive, got %g", c.RequiredRate))
	}
	if c.LoadDuration <= 0 {
		add(fmt.Errorf("--load-duration (load: --duration): must be positive, got %s", c.LoadDuration))
	}
	return errors.Join(errs...)
}

// Secrets returns every secret value in the config, for output scrubbing.
func (c Config) Secrets() []string {
	s := c.Auth.Secrets()
	if c.Effects.SQL.IsSet() {
		s = append(s, c.Effects.SQL.Reveal())
	}
	s = append(s, CommandSecrets(c.Effects.Command)...)
	// A static header may carry an API key; its value is a secret when
	// its name says so, as for redaction.
	for _, h := range c.Headers {
		if IsSensitiveName(h.Name) && h.Value != "" {
			s = append(s, h.Value)
		}
	}
	// A URL may carry credentials in its userinfo or, under any name, in
	// its query: values long enough to be keys are treated as secrets.
	for _, raw := range []string{c.Target, c.Effects.URL, c.Auth.OAuth2.TokenURL} {
		s = append(s, urlSecrets(raw)...)
	}
	return s
}

// minQuerySecret is the shortest query value treated as a secret: shorter
// ones ("1", "true", "v2") are not keys, and scrubbing them would garble
// every report.
const minQuerySecret = 8

func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return nil
	}
	var s []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			s = append(s, p)
		} else if name := u.User.Username(); name != "" {
			s = append(s, name) // https://TOKEN@host
		}
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= minQuerySecret {
				s = append(s, v)
			}
		}
	}
	return s
}

// MarshalJSON redacts the value of a header whose name marks a credential,
// so a config snapshot in a report never shows it.
func (h Header) MarshalJSON() ([]byte, error) {
	v := h.Value
	if IsSensitiveName(h.Name) && v != "" {
		v = Redacted
	}
	return json.Marshal(struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}{h.Name, v})
}
