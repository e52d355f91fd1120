package scenarios

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/google/uuid"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
)

// attack is one way of presenting credentials that must be refused.
type attack struct {
	name string
	// forge rewrites a valid delivery; it may need the live credential.
	forge func(ctx context.Context, d *riskos.Delivery) error
	// needsIssuer marks attacks only possible when hookproof issues tokens.
	needsIssuer bool
	// needsKeys marks attacks that need only the issuer's public keys:
	// hookproof's own issuer, or a JWKS URL given or discovered.
	needsKeys bool
	// closeOK accepts a connection closed without an answer as a refusal
	// (servers drop requests whose headers exceed their limit), provided
	// the receiver then still acknowledges a valid event.
	closeOK bool
}

// noCredentials sends a valid event with no Authorization header at all.
var noCredentials = attack{name: "a request without credentials", forge: func(_ context.Context, d *riskos.Delivery) error {
	d.NoAuth = true
	return nil
}}

// rejected remembers the event_ids of refused deliveries for AUTH-06.
type rejected struct {
	mu  sync.Mutex
	ids []string
}

func (r *rejected) add(id string) { r.mu.Lock(); r.ids = append(r.ids, id); r.mu.Unlock() }
func (r *rejected) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

func describeAuth(env *Env) {
	typ := env.Config.Auth.Type
	refused := &rejected{}
	Describe("Authentication", func() {
		BeforeEach(func() {
			if typ == harness.AuthNone {
				Skip("hookproof is configured with --auth none: the receiver's authentication cannot be checked; pass the auth it expects")
			}
		})

		send := func(ctx SpecContext, id string, a attack, allowed ...int) {
			if a.needsIssuer && env.Issuer == nil {
				Skip("needs tokens issued by hookproof (--demo); forged variants of your issuer's tokens are checked instead")
			}
			if a.needsKeys && env.Issuer == nil {
				if _, err := env.issuerKeys(ctx); err != nil {
					Skip("needs the issuer's public keys: pass --oauth2-jwks-url (" + err.Error() + ")")
				}
			}
			d := env.forged(id)
			Expect(a.forge(ctx, &d)).To(Succeed(), "preparing %s", a.name)
			// A receiver may answer an oversized header and drop the
			// socket: that must not break the connection the next check uses.
			d.Isolated = a.closeOK
			at := env.Sender.Send(ctx, d)
			refused.add(d.EventID)
			recordAttempt(d, at, either(allowed), a.name)
			if a.closeOK && at.Status == 0 && at.ErrorClass == harness.ErrReset {
				live := env.delivery("", id)
				la := env.sendValid(ctx, live)
				recordOutcome(live, la, "2xx", "a valid event after the connection was closed on "+a.name)
				Expect(la.Acked).To(BeTrue(), "the receiver closed the connection on %s and then did not acknowledge a valid event: %s", a.name, la)
				return
			}
			Expect(at.Status).To(BeElementOf(allowed), "answered %s to a request with %s; expected %s", riskos.AnswerOf(at), a.name, either(allowed))
		}
		table := func(id, verb string, attacks []attack, allowed ...int) {
			for _, a := range attacks {
				It(fmt.Sprintf("%s %s with %s", verb, a.name, either(allowed)), Checks(id), func(ctx SpecContext) {
					send(ctx, id, a, allowed...)
				}, SpecTimeout(env.Config.Timeouts.Spec))
			}
		}

		// AUTH-01: a request without credentials MUST be rejected with 401 or 403.
		table("AUTH-01", "rejects", []attack{noCredentials}, 401, 403)
		// AUTH-02: wrong credentials MUST be rejected with 401 or 403.
		table("AUTH-02", "rejects", wrongCredentials(env), 401, 403)
		// AUTH-03: credentials in the wrong place or scheme MUST be rejected with 401 or 403.
		table("AUTH-03", "rejects", misplacedCredentials(env), 401, 403)
		// AUTH-04: malformed credentials MUST be rejected with 400, 401 or 403, never 5xx.
		table("AUTH-04", "rejects", malformedCredentials(), 400, 401, 403, 431)
		// AUTH-05: (OAuth2) forged or invalid access tokens MUST be rejected with 401 or 403.
		if typ == harness.AuthOAuth2 {
			table("AUTH-05", "rejects", forgedTokens(env), 401, 403)
		} else {
			It("rejects forged OAuth2 access tokens", Checks("AUTH-05"), func() {
				Skip(fmt.Sprintf("applies to OAuth2 receivers; this run uses --auth %s", typ))
			})
		}

		// AUTH-06: a rejected request MUST NOT be processed.
		It("does not process any rejected request", Checks("AUTH-06"), func(ctx SpecContext) {
			needProbe(env)
			ids := refused.all()
			if len(ids) == 0 { // a filtered run: make rejected deliveries of our own
				for _, a := range []attack{wrongCredentials(env)[0], noCredentials} {
					d := env.forged("AUTH-06")
					Expect(a.forge(ctx, &d)).To(Succeed())
					env.Sender.Send(ctx, d)
					ids = append(ids, d.EventID)
				}
			}
			expectNoneProcessed(ctx, env, ids)
		}, SpecTimeout(env.Config.Timeouts.Spec))

		// AUTH-07: (OAuth2) a token from the client-credentials grant MUST be accepted, also after a refresh.
		It("accepts a client-credentials token and keeps accepting after it is refreshed", Checks("AUTH-07"), func(ctx SpecContext) {
			oa, ok := env.Authorizer.(*harness.OAuth2Authorizer)
			if !ok {
				Skip(fmt.Sprintf("applies to OAuth2 receivers; this run uses --auth %s", typ))
			}
			d := env.delivery("", "AUTH-07")
			first := env.sendValid(ctx, d)
			recordOutcome(d, first, "2xx", "delivery with a token from the client-credentials grant")
			Expect(first.Acked).To(BeTrue(), "delivery with a fresh token: %s", first)
			before := oa.Fetches()
			oa.Invalidate()
			d2 := env.delivery("", "AUTH-07")
			second := env.sendValid(ctx, d2)
			recordOutcome(d2, second, "2xx", "delivery after a forced token refresh")
			Expect(oa.Fetches()).To(BeNumerically(">", before), "the token was not refetched")
			Expect(second.Acked).To(BeTrue(), "delivery with the refreshed token: %s", second)
		}, SpecTimeout(env.Config.Timeouts.Spec))
	})
}

// credential returns the secret part the configured auth sends: the token
// (bearer, OAuth2) or the password (basic).
func credential(ctx context.Context, env *Env) (string, error) {
	switch env.Config.Auth.Type {
	case harness.AuthBearer:
		return env.Config.Auth.BearerToken.Reveal(), nil
	case harness.AuthBasic:
		return env.Config.Auth.BasicPassword.Reveal(), nil
	case harness.AuthOAuth2:
		oa, ok := env.Authorizer.(*harness.OAuth2Authorizer)
		if !ok {
			return "", errors.New("OAuth2 authorizer missing")
		}
		return oa.Token(ctx)
	}
	return "", fmt.Errorf("no credential for --auth %s", env.Config.Auth.Type)
}

func setAuth(d *riskos.Delivery, value string) {
	d.Authorize = func(r *http.Request) { r.Header.Set("Authorization", value) }
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func fixed(name, value string) attack {
	return attack{name: name, forge: func(_ context.Context, d *riskos.Delivery) error { setAuth(d, value); return nil }}
}

func fromCredential(env *Env, name string, f func(cred string, d *riskos.Delivery)) attack {
	return attack{name: name, forge: func(ctx context.Context, d *riskos.Delivery) error {
		cred, err := credential(ctx, env)
		if err != nil {
			return err
		}
		f(cred, d)
		return nil
	}}
}

func wrongCredentials(env *Env) []attack {
	a := env.Config.Auth
	switch a.Type {
	case harness.AuthBasic:
		return []attack{
			fixed("a wrong Basic password", basic(a.BasicUser, "wrong-"+uuid.NewString())),
			fromCredential(env, "a wrong Basic user", func(p string, d *riskos.Delivery) { setAuth(d, basic("not-"+a.BasicUser, p)) }),
			fromCredential(env, "a Basic password with an extra character", func(p string, d *riskos.Delivery) { setAuth(d, basic(a.BasicUser, p+"x")) }),
		}
	default: // bearer and OAuth2 tokens
		attacks := []attack{
			fixed("a wrong Bearer token", "Bearer "+uuid.NewString()),
			fromCredential(env, "a prefix of the valid token", func(t string, d *riskos.Delivery) { setAuth(d, "Bearer "+t[:len(t)-1]) }),
			fromCredential(env, "the valid token with a suffix", func(t string, d *riskos.Delivery) { setAuth(d, "Bearer "+t+"0") }),
		}
		if a.Type == harness.AuthOAuth2 {
			attacks = append(attacks, attack{name: "a genuine token issued to another client", needsIssuer: true,
				forge: func(_ context.Context, d *riskos.Delivery) error {
					return mintInto(env, oauth.TokenValid, "another-client-"+uuid.NewString()[:8], d)
				}})
		}
		return attacks
	}
}

func misplacedCredentials(env *Env) []attack {
	a := env.Config.Auth
	inQuery := func(param string) func(string, *riskos.Delivery) {
		return func(c string, d *riskos.Delivery) {
			d.NoAuth = true
			d.URL = env.Config.Target + sep(env.Config.Target) + url.QueryEscape(param) + "=" + url.QueryEscape(c)
		}
	}
	inHeader := func(name string) func(string, *riskos.Delivery) {
		return func(c string, d *riskos.Delivery) { d.NoAuth = true; d.Header = http.Header{name: {c}} }
	}
	if a.Type == harness.AuthBasic {
		return []attack{
			fromCredential(env, "the Basic password sent as a Bearer token", func(p string, d *riskos.Delivery) { setAuth(d, "Bearer "+p) }),
			fromCredential(env, "Basic credentials under the Bearer scheme", func(p string, d *riskos.Delivery) {
				setAuth(d, "Bearer "+base64.StdEncoding.EncodeToString([]byte(a.BasicUser+":"+p)))
			}),
			fromCredential(env, "the password in the query string", inQuery("password")),
			fromCredential(env, "the password in a custom header", inHeader("X-Password")),
		}
	}
	return []attack{
		fromCredential(env, "the token as a Basic password", func(t string, d *riskos.Delivery) { setAuth(d, basic("hookproof", t)) }),
		fromCredential(env, "the token under the Token scheme", func(t string, d *riskos.Delivery) { setAuth(d, "Token "+t) }),
		fromCredential(env, "the token in the query string", inQuery("access_token")),
		fromCredential(env, "the token in a custom header", inHeader("X-Auth-Token")),
	}
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

func malformedCredentials() []attack {
	return []attack{
		fixed("the Bearer scheme without a token", "Bearer"),
		fixed("the Bearer scheme with an empty token", "Bearer "),
		fixed("Basic credentials that are not base64", "Basic !!!not*base64!!!"),
		fixed("Basic credentials without a colon", "Basic "+base64.StdEncoding.EncodeToString([]byte("no-colon-here"))),
		fixed("an empty Basic pair", "Basic Og=="),
		func() attack {
			a := fixed("a 64 KiB Authorization header", "Bearer "+strings.Repeat("A", 64<<10))
			a.closeOK = true
			return a
		}(),
	}
}

func forgedTokens(env *Env) []attack {
	attacks := []attack{
		fixed("a random opaque token", "Bearer "+uuid.NewString()),
		fixed("a random JWT-shaped token", "Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJob29rcHJvb2YifQ.c2lnbmF0dXJl"),
		fromCredential(env, "the issued token with its signature altered", func(t string, d *riskos.Delivery) { setAuth(d, "Bearer "+tamper(t)) }),
		fromCredential(env, "the issued token's claims re-signed with alg none", func(t string, d *riskos.Delivery) { setAuth(d, "Bearer "+algNone(t)) }),
	}
	for _, k := range oauth.TokenKinds() {
		a := attack{name: "a token " + k.Description, needsIssuer: true,
			forge: func(_ context.Context, d *riskos.Delivery) error {
				return mintInto(env, k.Kind, env.Config.Auth.OAuth2.ClientID, d)
			}}
		// These two need no private key: with an issuer hookproof does not
		// run, they are forged from the real token and the public keys.
		if forge := publicKeyForgery(k.Kind); forge != nil {
			a.needsIssuer, a.needsKeys = false, true
			a.forge = func(ctx context.Context, d *riskos.Delivery) error {
				if env.Issuer != nil {
					return mintInto(env, k.Kind, env.Config.Auth.OAuth2.ClientID, d)
				}
				return forgeFromKeys(ctx, env, forge, d)
			}
		}
		attacks = append(attacks, a)
	}
	return attacks
}

func mintInto(env *Env, kind oauth.TokenKind, client string, d *riskos.Delivery) error {
	tok, err := env.Issuer.Mint(kind, client)
	if err != nil {
		return err
	}
	setAuth(d, "Bearer "+tok)
	return nil
}

// tamper flips one character in the middle of a JWT's signature (or of an
// opaque token), keeping it well-formed base64url.
func tamper(tok string) string {
	b := []byte(tok)
	i := strings.LastIndexByte(tok, '.') + 1 + (len(tok)-strings.LastIndexByte(tok, '.'))/2
	if i >= len(b) || i <= 0 {
		i = len(b) / 2
	}
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// algNone re-encodes a JWT's claims under {"alg":"none"} with an empty
// signature: the classic unsigned-token forgery.
func algNone(tok string) string {
	parts := strings.Split(tok, ".")
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	if len(parts) != 3 {
		return header + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"hookproof"}`)) + "."
	}
	return header + "." + parts[1] + "."
}
