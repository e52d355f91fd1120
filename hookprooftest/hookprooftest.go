package hookprooftest

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/internal/devca"
	"github.com/hookproof/hookproof/reports"
	"github.com/hookproof/hookproof/scenarios"
)

// Option configures a certification.
type Option func(*options)

type options struct {
	auth         harness.AuthConfig
	issuer       *Issuer
	probe        harness.Probe
	profile      string
	requiredRate float64
	labelFilter  string
	reportDir    string
	strict       bool
	path         string
	caCert       string
	seed         int64
	restart      func(context.Context) error
	retention    time.Duration
	remoteLoad   bool
}

// BearerToken sends every delivery with Authorization: Bearer token, the
// credential the receiver is configured to accept.
func BearerToken(token string) Option {
	return func(o *options) {
		o.auth = harness.AuthConfig{Type: harness.AuthBearer, BearerToken: harness.Secret(token)}
	}
}

// Basic sends every delivery with HTTP Basic credentials.
func Basic(user, password string) Option {
	return func(o *options) {
		o.auth = harness.AuthConfig{Type: harness.AuthBasic, BasicUser: user, BasicPassword: harness.Secret(password)}
	}
}

// OAuth2 fetches access tokens from iss (client credentials) and sends
// them as Bearer tokens; since hookproof runs the issuer, AUTH-05 also
// sends expired, wrong-audience and unknown-key tokens the receiver must
// refuse.
func OAuth2(iss *Issuer) Option {
	return func(o *options) {
		o.issuer = iss
		o.auth = harness.AuthConfig{Type: harness.AuthOAuth2, OAuth2: harness.OAuth2Config{
			TokenURL: iss.TokenURL(), ClientID: iss.ClientID, ClientSecret: harness.Secret(iss.ClientSecret)}}
	}
}

// Effects is the effects probe: count reports how many times the
// receiver's business handling ran for eventID. Without it idempotency
// cannot be observed, and the requirements that need it are skipped.
func Effects(count func(ctx context.Context, eventID string) (int, error)) Option {
	return func(o *options) { o.probe = funcProbe(count) }
}

// Profile is the certification profile: "quick" (the default, for CI),
// "full" or "production".
func Profile(name string) Option { return func(o *options) { o.profile = name } }

// RequiredRate is the rate in events/s the receiver must sustain (LOAD-01)
// and the pace of the conformance deliveries; default 50.
func RequiredRate(eventsPerSecond float64) Option {
	return func(o *options) { o.requiredRate = eventsPerSecond }
}

// LabelFilter selects checks by Ginkgo label, e.g. "area:auth" or
// "req:ACK-01 || req:IDEM-03"; go test -run 'TestX/ID' narrows it further.
func LabelFilter(filter string) Option { return func(o *options) { o.labelFilter = filter } }

// ReportDir writes report.json, junit.xml, summary.md and report.html into
// dir, as hookproof certify --report-dir does.
func ReportDir(dir string) Option { return func(o *options) { o.reportDir = dir } }

// Strict fails the subtests of failed SHOULD requirements too.
func Strict() Option { return func(o *options) { o.strict = true } }

// Path is the webhook's path on the handler given to Certify ("/" by
// default).
func Path(p string) Option { return func(o *options) { o.path = p } }

// CACert trusts the PEM certificates in file for an HTTPS receiver given
// to CertifyURL (Certify trusts its own throwaway CA).
func CACert(file string) Option { return func(o *options) { o.caCert = file } }

// Seed fixes the event generator's and spec order's seed (default: drawn
// per run and logged, so a failing run can be repeated).
func Seed(seed int64) Option { return func(o *options) { o.seed = seed } }

// Restart restarts the receiver, keeping its durable state; with it IDEM-05
// checks that deduplication survives a restart.
func Restart(restart func(ctx context.Context) error) Option {
	return func(o *options) { o.restart = restart }
}

// DedupeRetention makes IDEM-07 redeliver an event after d of real time,
// checking that deduplication remembers it that long (the production
// profile waits the whole RiskOS retry span without it).
func DedupeRetention(d time.Duration) Option { return func(o *options) { o.retention = d } }

// AllowRemoteLoad lets the load checks run against a CertifyURL receiver
// that is not on loopback; they are skipped otherwise.
func AllowRemoteLoad() Option { return func(o *options) { o.remoteLoad = true } }

// funcProbe adapts an effects function to harness.Probe.
type funcProbe func(ctx context.Context, eventID string) (int, error)

func (f funcProbe) Count(ctx context.Context, eventID string) (int, error) {
	n, err := f(ctx, eventID)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", harness.ErrProbe, err)
	}
	return n, nil
}

func (funcProbe) Describe() string { return "the Effects function" }

// Certify serves h over HTTPS on loopback, with a certificate from a CA made
// for this call, certifies it and reports every requirement as a subtest of
// t named by its ID. The server is closed when Certify returns.
func Certify(t *testing.T, h http.Handler, opts ...Option) {
	t.Helper()
	o := collect(opts)
	ca, err := devca.New("hookprooftest CA")
	if err != nil {
		t.Fatalf("hookprooftest: %v", err)
	}
	leaf, err := ca.Issue("127.0.0.1", "localhost")
	if err != nil {
		t.Fatalf("hookprooftest: %v", err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatalf("hookprooftest: %v", err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()
	path := o.path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	o.caCert = caFile
	certify(t, srv.URL+path, o)
}

// CertifyURL certifies the receiver at url, started elsewhere, and reports
// every requirement as a subtest of t named by its ID.
func CertifyURL(t *testing.T, url string, opts ...Option) {
	t.Helper()
	certify(t, url, collect(opts))
}

func collect(opts []Option) options {
	o := options{profile: harness.ProfileQuick, requiredRate: harness.DefaultRequiredRate, path: "/"}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// certifyMu serialises certifications: each one needs the process's Ginkgo
// suite to itself.
var certifyMu sync.Mutex

func certify(t *testing.T, url string, o options) {
	t.Helper()
	filter, ok := runFilter(o.labelFilter, subtestPattern(t.Name()))
	if !ok {
		t.Skip("hookprooftest: -run selects no requirement of the catalogue")
	}
	cfg := harness.DefaultConfig()
	// A test run compresses RiskOS's 362 s retry schedule as certify does.
	cfg.Retry.TimeScale = 0.01
	cfg.Target, cfg.Auth, cfg.Profile = url, o.auth, o.profile
	cfg.RequiredRate, cfg.LabelFilter, cfg.ReportDir, cfg.Strict = o.requiredRate, filter, o.reportDir, o.strict
	cfg.TLS.CACert = o.caCert
	cfg.Seed = o.seed
	cfg.DedupeRetention, cfg.AllowRemoteLoad = o.retention, o.remoteLoad
	if cfg.Seed == 0 {
		cfg.Seed = time.Now().UnixNano()
	}
	if cfg.Auth.Type == "" {
		cfg.Auth.Type = harness.AuthNone
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("hookprooftest: %v", err)
	}
	in, err := inputs(cfg, o)
	if err != nil {
		t.Fatalf("hookprooftest: %v", err)
	}
	if in.Probe != nil {
		if err := checkProbe(t.Context(), in.Probe); err != nil {
			t.Fatalf("hookprooftest: %v", err)
		}
	}

	certifyMu.Lock()
	defer certifyMu.Unlock()
	if err := checkGinkgo(); err != nil {
		// Not Fatal: inside a Ginkgo node this is not the test's goroutine.
		t.Error(err)
		return
	}
	t.Logf("hookprooftest: %s profile against %s (auth %s, seed %d)", cfg.Profile, harness.RedactURL(url), cfg.Auth.Type, cfg.Seed)
	saved := saveGinkgo()
	res, err := scenarios.Run(in, scenarios.RunOptions{LabelFilter: filter, Progress: logWriter{t}, Context: t.Context()})
	saved.restore()
	if err != nil {
		t.Fatalf("hookprooftest: %v", err)
	}
	rep := res.Report(cfg)
	reports.Scrub(rep, cfg.Secrets())
	if o.reportDir != "" {
		if err := reports.WriteAll(o.reportDir, rep); err != nil {
			t.Errorf("hookprooftest: ReportDir: %v", err)
		}
	}
	for _, n := range rep.Notes {
		t.Log("note: " + inOptions.Replace(n))
	}
	if res.Interrupted {
		t.Error("hookprooftest: the certification was interrupted")
	}
	for _, r := range rep.Requirements {
		t.Run(r.ID, func(t *testing.T) { judge(t, r, o.strict) })
	}
}

// inputs wires the run as hookproof certify does.
func inputs(cfg harness.Config, o options) (scenarios.Inputs, error) {
	client, err := harness.NewClient(cfg)
	if err != nil {
		return scenarios.Inputs{}, err
	}
	auth, err := harness.NewAuthorizer(cfg.Auth, client)
	if err != nil {
		return scenarios.Inputs{}, err
	}
	sender, err := scenarios.NewSender(cfg, client, auth)
	if err != nil {
		return scenarios.Inputs{}, err
	}
	in := scenarios.Inputs{Config: cfg, Sender: sender, Authorizer: auth, Probe: o.probe, Restart: o.restart}
	if o.issuer != nil {
		in.Issuer = o.issuer.srv
	}
	return in, nil
}

// judge reports one requirement: MUST failures fail, SHOULD failures fail
// only when strict, skipped requirements skip.
func judge(t *testing.T, r reports.RequirementResult, strict bool) {
	r.Reason = inOptions.Replace(r.Reason)
	msg := r.Reason
	for i, e := range r.Evidence {
		if i == 3 {
			msg += fmt.Sprintf("\n… %d more observations (ReportDir has them all)", len(r.Evidence)-i)
			break
		}
		if r.Status == reports.StatusFailed && e.Summary != "" {
			msg += "\n  " + e.Summary
			if e.Expected != "" {
				msg += " (expected: " + e.Expected + ")"
			}
		}
	}
	switch r.Status {
	case reports.StatusFailed:
		if r.Level == string(harness.Must) || strict {
			t.Errorf("%s failed: %s", r.Level, msg)
			return
		}
		t.Logf("SHOULD failed (fails with Strict): %s", msg)
	case reports.StatusSkipped:
		t.Skip(r.Reason)
	default:
		t.Logf("%s passed: %s", r.Level, r.Title)
	}
}

// inOptions says the command-line flags that the checks' reasons name in
// this package's terms.
var inOptions = strings.NewReplacer(
	"pass --restart-command", "pass the Restart option",
	"--effects-url, --effects-file or --effects-sql", "the Effects option",
	"pass --dedupe-retention D to wait D", "pass DedupeRetention(d) to wait d",
	"--profile production", `Profile("production")`,
	"--profile full", `Profile("full")`,
	"--allow-remote-load", "AllowRemoteLoad()",
	"--auth none", "no auth option",
	"--auth ", "auth ",
	"--time-scale", "time scale",
	"--settle", "the settle time",
	"--label-filter", "LabelFilter",
	"--ca-cert", "CACert",
)

// checkProbe asks about an event_id never sent: a probe that cannot answer
// 0 would turn every idempotency check into a failure blamed on the handler.
func checkProbe(ctx context.Context, p harness.Probe) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	id := "hookprooftest-probe-check-" + uuid.NewString()
	switch n, err := p.Count(ctx, id); {
	case err != nil:
		return fmt.Errorf("Effects: the function fails for an event_id never sent: %w", err)
	case n != 0:
		return fmt.Errorf("Effects: the function counts %d processings of %s, an event_id never sent: it cannot tell duplicates apart", n, id)
	}
	return nil
}

// logWriter sends the run's progress lines to t.Log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// subtestPattern is the element of go test's -run pattern that selects the
// subtests of the test named name (for TestX, the second slash-separated
// element), "" if there is none.
func subtestPattern(name string) string {
	f := flag.Lookup("test.run")
	if f == nil {
		return ""
	}
	return patternBelow(f.Value.String(), name)
}

func patternBelow(run, name string) string {
	parts, level := splitRun(run), strings.Count(name, "/")+1
	if len(parts) <= level {
		return ""
	}
	return parts[level]
}

// splitRun splits a -run pattern on the slashes outside brackets and
// parentheses, as the testing package does.
func splitRun(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '(':
			depth++
		case ']', ')':
			depth--
		case '\\':
			i++
		case '/':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// runFilter narrows the label filter to the requirements whose IDs the
// subtest pattern selects, so that go test -run 'TestX/IDEM' runs only the
// idempotency checks instead of running everything and reporting part.
// ok is false when the pattern selects no requirement.
func runFilter(labelFilter, subtest string) (filter string, ok bool) {
	if subtest == "" {
		return labelFilter, true
	}
	re, err := regexp.Compile(subtest)
	if err != nil {
		// go test itself refuses a bad pattern; certify everything.
		return labelFilter, true
	}
	var reqs []string
	for _, r := range harness.Catalogue {
		if re.MatchString(r.ID) {
			reqs = append(reqs, "req:"+r.ID)
		}
	}
	if len(reqs) == 0 {
		return "", false
	}
	sel := strings.Join(reqs, " || ")
	if labelFilter == "" {
		return sel, true
	}
	return "(" + labelFilter + ") && (" + sel + ")", true
}

// Issuer is an OAuth2 authorisation server on loopback that issues RS256
// JWT access tokens to one client (client credentials); the receiver under
// test verifies them against JWKSURL. Make one with NewIssuer and pass it
// to OAuth2.
type Issuer struct {
	ClientID, ClientSecret string
	srv                    *oauth.Server
	verifier               *oauth.Verifier
}

// NewIssuer starts an issuer on loopback, closed when t ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	id, secret := "hookprooftest", uuid.NewString()
	srv, err := oauth.NewServer(oauth.ServerOptions{Clients: map[string]harness.Secret{id: harness.Secret(secret)}})
	if err != nil {
		t.Fatalf("hookprooftest: starting the OAuth2 issuer: %v", err)
	}
	t.Cleanup(srv.Close)
	v := oauth.NewVerifier(oauth.VerifierOptions{JWKSURL: srv.JWKSURL(), Issuer: srv.URL, Audience: srv.Audience(),
		AllowedClients: []string{id}, Client: srv.Client()})
	return &Issuer{ClientID: id, ClientSecret: secret, srv: srv, verifier: v}
}

// URL is the issuer's base URL and the iss claim of its tokens.
func (i *Issuer) URL() string { return i.srv.URL }

// TokenURL is the client-credentials token endpoint.
func (i *Issuer) TokenURL() string { return i.srv.TokenURL() }

// JWKSURL publishes the keys tokens are signed with.
func (i *Issuer) JWKSURL() string { return i.srv.JWKSURL() }

// Audience is the aud claim of the tokens.
func (i *Issuer) Audience() string { return i.srv.Audience() }

// Verify checks an access token as a correct receiver must (signature
// against the JWKS, exp, iss, aud, client): a handler under test may use
// it, or verify with a JWT library of its own against JWKSURL.
func (i *Issuer) Verify(ctx context.Context, token string) error {
	_, err := i.verifier.Verify(ctx, token)
	if err != nil {
		return errors.New("invalid access token")
	}
	return nil
}
