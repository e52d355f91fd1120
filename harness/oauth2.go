package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// MaxTokenErrorBody bounds TokenError.Body, so a token endpoint answering
// with an HTML error page does not flood a report.
const MaxTokenErrorBody = 512

// Early-refresh margin: a cached token is replaced when less than
// min(MaxRefreshMargin, lifetime/RefreshMarginDivisor) of its lifetime is
// left. The margin absorbs clock skew and the time a delivery spends in
// flight, so a receiver never sees a token that expires on arrival; the
// fraction keeps a very short-lived token from being refetched on every call.
const (
	MaxRefreshMargin     = 10 * time.Second
	RefreshMarginDivisor = 10
)

// TokenError is a failed token fetch: the endpoint refused (Status ≥ 400,
// or an RFC 6749 error in a 2xx), answered something that is not a token
// (malformed JSON, no access_token), or could not be reached (Status 0).
// Body is an excerpt of at most MaxTokenErrorBody bytes with the client
// secret scrubbed, so the error can go into reports as it is.
type TokenError struct {
	// URL is the token URL, with any userinfo password redacted.
	URL string
	// Status is the HTTP status the endpoint answered, 0 if none.
	Status int
	// Code is the RFC 6749 "error" parameter, when the endpoint sent one.
	Code string
	// Body is a scrubbed excerpt of the response body.
	Body string
	// Err is the underlying error; its text is scrubbed of the secret too.
	Err error
}

// Error says where the fetch failed and what the endpoint answered, e.g.
// `oauth2 token endpoint https://host/token answered 401: {"error":"invalid_client"}`.
func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("oauth2 token endpoint ")
	b.WriteString(e.URL)
	if e.Status == 0 {
		if e.Err != nil {
			b.WriteString(": ")
			b.WriteString(e.Err.Error())
		}
		return b.String()
	}
	fmt.Fprintf(&b, " answered %d", e.Status)
	var re *oauth2.RetrieveError
	if e.Err != nil && !errors.As(e.Err, &re) {
		// A RetrieveError only repeats status and body; anything else
		// (malformed JSON, no access_token) says what was wrong with a 2xx.
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "oauth2: "))
	}
	if e.Body != "" {
		b.WriteString(": ")
		b.WriteString(e.Body)
	} else {
		b.WriteString(" with an empty body")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *TokenError) Unwrap() error { return e.Err }

// OAuth2Authorizer sends `Authorization: Bearer <access token>` obtained by
// the client-credentials grant. The token is cached and refetched before it
// expires (see MaxRefreshMargin) or after Invalidate. It is safe for
// concurrent use: callers that need a token while one is being fetched wait
// for that fetch instead of starting their own, so a load run sends one
// token request per refresh, not one per worker.
type OAuth2Authorizer struct {
	conf   *clientcredentials.Config
	client *http.Client
	url    string // redacted token URL, for errors
	scrub  *Redactor
	// learn, when set, is the run's Redactor: every token fetched is
	// learned before any caller can send it, so a token replaced by a
	// refresh stays redacted in everything written afterwards.
	learn atomic.Pointer[Redactor]
	now   func() time.Time

	fetches atomic.Int64

	mu        sync.Mutex
	token     string
	refreshAt time.Time // zero: no expiry known, reuse until invalidated
	gen       uint64    // bumped by Invalidate; a fetch from an older gen is not cached
	flight    *tokenFlight

	// joined, when set by a test, is called when a caller starts waiting
	// for another caller's fetch, so tests can line callers up without
	// sleeping.
	joined func()
}

// tokenFlight is one token fetch that concurrent callers share.
type tokenFlight struct {
	done      chan struct{}
	token     string
	err       error
	abandoned bool // the fetching caller's context ended, not the endpoint
}

// newOAuth2Authorizer builds the authorizer; cfg is already validated.
func newOAuth2Authorizer(cfg OAuth2Config, client *http.Client, now func() time.Time) *OAuth2Authorizer {
	style := oauth2.AuthStyleAutoDetect
	switch cfg.AuthStyle {
	case OAuth2StyleHeader:
		style = oauth2.AuthStyleInHeader
	case OAuth2StyleBody:
		style = oauth2.AuthStyleInParams
	}
	if client == nil {
		client = &http.Client{CheckRedirect: noRedirect}
	}
	a := &OAuth2Authorizer{
		conf: &clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret.Reveal(),
			TokenURL:     cfg.TokenURL,
			Scopes:       cfg.Scopes,
			AuthStyle:    style,
		},
		url:   RedactURL(cfg.TokenURL),
		scrub: secretScrubber(cfg),
		now:   now,
	}
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	// A copy of the caller's client, so counting and body capture do not
	// change the client the deliveries use.
	c := *client
	c.Transport = &tokenTransport{base: base, fetches: &a.fetches}
	a.client = &c
	return a
}

// secretScrubber knows every form the client secret can take on the wire
// or in an echo: as is, form-encoded, JSON-escaped, inside a Basic header.
func secretScrubber(cfg OAuth2Config) *Redactor {
	r := NewRedactor()
	r.LearnBasic(cfg.ClientID, cfg.ClientSecret.Reveal())
	return r
}

// LearnTokens makes r learn every access token fetched from now on, and
// the client secret's forms; r is the run's one Redactor.
func (a *OAuth2Authorizer) LearnTokens(r *Redactor) {
	if r == nil {
		return
	}
	r.LearnBasic(a.conf.ClientID, a.conf.ClientSecret)
	a.learn.Store(r)
	a.mu.Lock()
	tok := a.token
	a.mu.Unlock()
	r.Learn(tok)
}

// Authorize sets `Authorization: Bearer <token>` on req, fetching a token
// first if none is cached or the cached one is due for refresh.
func (a *OAuth2Authorizer) Authorize(ctx context.Context, req *http.Request) error {
	if req == nil {
		return errors.New("authorize: nil request")
	}
	tok, err := a.Token(ctx)
	if err != nil {
		return err
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	// RiskOS sends the access token as a Bearer credential whatever
	// token_type the endpoint names.
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// Token returns the cached access token, or fetches one. Errors are
// *TokenError (or ctx's error while waiting for another caller's fetch).
func (a *OAuth2Authorizer) Token(ctx context.Context) (string, error) {
	for {
		a.mu.Lock()
		if a.token != "" && (a.refreshAt.IsZero() || a.now().Before(a.refreshAt)) {
			tok := a.token
			a.mu.Unlock()
			return tok, nil
		}
		f := a.flight
		if f == nil {
			f = &tokenFlight{done: make(chan struct{})}
			a.flight = f
			gen := a.gen
			a.mu.Unlock()
			// The caller that starts the fetch runs it under its own
			// context: no goroutine outlives a cancelled caller.
			a.fetch(ctx, f, gen)
			return f.token, f.err
		}
		a.mu.Unlock()
		if a.joined != nil {
			a.joined()
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if f.abandoned && ctx.Err() == nil {
			continue // the fetching caller gave up, not the endpoint: try again
		}
		return f.token, f.err
	}
}

// fetch performs one token request for flight f and publishes its result.
func (a *OAuth2Authorizer) fetch(ctx context.Context, f *tokenFlight, gen uint64) {
	start := a.now()
	capture := &bodyCapture{}
	fctx := context.WithValue(ctx, oauth2.HTTPClient, a.client)
	fctx = context.WithValue(fctx, captureKey{}, capture)
	tok, err := a.conf.Token(fctx)
	if err == nil && tok.AccessToken == "" {
		err = errors.New("oauth2: server response missing access_token")
	}
	if err == nil {
		a.learn.Load().Learn(tok.AccessToken)
	}
	a.mu.Lock()
	if err != nil {
		f.err = a.tokenError(err, capture)
		f.abandoned = ctx.Err() != nil
	} else {
		f.token = tok.AccessToken
		if a.gen == gen {
			a.token = tok.AccessToken
			a.refreshAt = refreshTime(start, tokenLifetime(tok))
		}
	}
	if a.flight == f {
		a.flight = nil
	}
	a.mu.Unlock()
	close(f.done)
}

// tokenLifetime is expires_in as the endpoint sent it, 0 if absent. x/oauth2
// turns it into an Expiry against the wall clock; reading it back keeps the
// cache on the injected clock.
func tokenLifetime(tok *oauth2.Token) time.Duration {
	if tok.ExpiresIn > 0 {
		return time.Duration(tok.ExpiresIn) * time.Second
	}
	// clientcredentials drops ExpiresIn; the raw response keeps it, as a
	// float64 from JSON or an int64 or string from a form-encoded body.
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		if v > 0 && v < math.MaxInt64/float64(time.Second) {
			return time.Duration(v * float64(time.Second))
		}
	case int64:
		if v > 0 && v < math.MaxInt64/int64(time.Second) {
			return time.Duration(v) * time.Second
		}
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < math.MaxInt64/int64(time.Second) {
			return time.Duration(n) * time.Second
		}
	}
	if !tok.Expiry.IsZero() {
		// Only the wall-clock expiry is known; better than none.
		return time.Until(tok.Expiry)
	}
	return 0
}

// refreshTime is when a token obtained at start with the given lifetime is
// replaced; zero when it has no known lifetime. start is taken before the
// request, so the endpoint's clock started no earlier than ours.
func refreshTime(start time.Time, lifetime time.Duration) time.Time {
	if lifetime <= 0 {
		return time.Time{}
	}
	margin := min(MaxRefreshMargin, lifetime/RefreshMarginDivisor)
	return start.Add(lifetime - margin)
}

// Invalidate drops the cached token, so the next Authorize fetches a fresh
// one (AUTH-07's forced refresh). A fetch already in flight still answers its
// waiters, but its token is not cached.
func (a *OAuth2Authorizer) Invalidate() {
	a.mu.Lock()
	a.token = ""
	a.refreshAt = time.Time{}
	a.gen++
	a.flight = nil
	a.mu.Unlock()
}

// String keeps %v of the authorizer from printing the cached access token.
func (a *OAuth2Authorizer) String() string {
	return "OAuth2Authorizer(" + a.url + ")"
}

// GoString keeps %#v from printing the cached access token.
func (a *OAuth2Authorizer) GoString() string { return a.String() }

// Fetches returns how many HTTP requests were sent to the token URL. With
// the auto auth style a fetch the endpoint refuses costs two requests (Basic
// header first, then form body), as x/oauth2 probes both.
func (a *OAuth2Authorizer) Fetches() int { return int(a.fetches.Load()) }

// tokenError maps x/oauth2's errors into a scrubbed *TokenError.
func (a *OAuth2Authorizer) tokenError(err error, c *bodyCapture) *TokenError {
	te := &TokenError{URL: a.url}
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		if re.Response != nil {
			te.Status = re.Response.StatusCode
		}
		te.Code = a.scrubText(re.ErrorCode)
		te.Body = excerpt(a.scrubText(string(re.Body)))
		scrubbed := *re
		scrubbed.Body = []byte(te.Body)
		scrubbed.ErrorDescription = a.scrubText(re.ErrorDescription)
		scrubbed.ErrorURI = a.scrubText(re.ErrorURI)
		scrubbed.ErrorCode = te.Code
		te.Err = &scrubbed
		return te
	default:
		// x/oauth2 read a 2xx it could not use and kept neither status nor
		// body; the capture saw them.
		c.mu.Lock()
		te.Status = c.status
		if c.status != 0 {
			te.Body = excerpt(a.scrubText(string(c.body)))
		}
		c.mu.Unlock()
	}
	te.Err = scrubError{msg: a.scrubText(err.Error()), err: err}
	return te
}

// scrubText removes the client secret, and whatever the run's Redactor
// knows, from text the token endpoint sent.
func (a *OAuth2Authorizer) scrubText(s string) string {
	return a.learn.Load().Scrub(a.scrub.Scrub(s))
}

// scrubError is an error whose text has had the secret removed; it still
// unwraps to the original, so errors.Is(err, context.Canceled) holds.
type scrubError struct {
	msg string
	err error
}

func (e scrubError) Error() string { return e.msg }
func (e scrubError) Unwrap() error { return e.err }

// excerpt cuts s to MaxTokenErrorBody bytes on a rune boundary and puts
// control characters on one line, so the body reads inside an error string.
func excerpt(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) <= MaxTokenErrorBody {
		return s
	}
	const ellipsis = "..."
	cut := MaxTokenErrorBody - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// captureKey carries a *bodyCapture through x/oauth2 to tokenTransport.
type captureKey struct{}

// bodyCapture records the token endpoint's last answer for error messages.
type bodyCapture struct {
	mu     sync.Mutex
	status int
	body   []byte
}

// maxCapture bounds what is kept for scrubbing before the excerpt is cut;
// scrubbing before cutting means a secret is never half-kept at the cut.
const maxCapture = 64 << 10

// tokenTransport counts token requests and, when the request carries a
// bodyCapture, records the response status and the start of its body.
type tokenTransport struct {
	base    http.RoundTripper
	fetches *atomic.Int64
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.fetches.Add(1)
	c, _ := req.Context().Value(captureKey{}).(*bodyCapture)
	if c != nil {
		// Only this request's answer may explain this request's failure.
		c.mu.Lock()
		c.status, c.body = 0, nil
		c.mu.Unlock()
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if c != nil {
		c.mu.Lock()
		c.status = resp.StatusCode
		c.mu.Unlock()
		resp.Body = &capturingBody{ReadCloser: resp.Body, c: c}
	}
	return resp, nil
}

// capturingBody copies what is read through it into a bodyCapture.
type capturingBody struct {
	io.ReadCloser
	c *bodyCapture
}

func (b *capturingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.c.mu.Lock()
		if room := maxCapture - len(b.c.body); room > 0 {
			b.c.body = append(b.c.body, p[:min(n, room)]...)
		}
		b.c.mu.Unlock()
	}
	return n, err
}
