package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Verifier defaults.
const (
	// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
	DefaultLeeway = 30 * time.Second
	// DefaultMinRefetchInterval is the shortest time between two JWKS
	// fetches, however many unknown kids arrive.
	DefaultMinRefetchInterval = 10 * time.Second
	// DefaultKeyCacheTTL is how long fetched keys are trusted before the
	// JWKS is fetched again, so keys the issuer withdrew stop verifying.
	DefaultKeyCacheTTL = 10 * time.Minute
	// defaultFetchTimeout bounds a JWKS fetch when no Client is given.
	defaultFetchTimeout = 10 * time.Second
	// maxTokenBytes bounds what Verify will parse; real access tokens are
	// around a kilobyte.
	maxTokenBytes = 16 << 10
)

// acceptedAlgs is the one algorithm the verifier accepts. The issuer signs
// RS256 only, and accepting nothing else rules out alg none and the
// HS256-with-the-public-key confusion by construction.
var acceptedAlgs = []jose.SignatureAlgorithm{jose.RS256}

// TokenVerifier checks a bearer access token and returns its claims. The
// reference receiver depends on this interface, not on *Verifier, so tests
// can stand it in.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*Claims, error)
}

// VerifierOptions configures a Verifier.
type VerifierOptions struct {
	// JWKSURL is where the issuer publishes its keys; default Issuer+JWKSPath.
	JWKSURL string
	// Issuer is the required iss claim. It must be set.
	Issuer string
	// Audience must appear in aud; default DefaultAudience.
	Audience string
	// AllowedClients restricts client_id (or sub when client_id is absent);
	// empty allows any client of the issuer.
	AllowedClients []string
	// Client fetches the JWKS; default a client with a 10 s timeout.
	Client *http.Client
	// Now is the verifier's clock; default time.Now.
	Now func() time.Time
	// Leeway is the tolerated clock skew; 0 means DefaultLeeway, negative
	// means none.
	Leeway time.Duration
	// MinRefetchInterval rate-limits JWKS fetches; 0 means
	// DefaultMinRefetchInterval.
	MinRefetchInterval time.Duration
	// KeyCacheTTL is how long fetched keys are used before a refetch; 0
	// means DefaultKeyCacheTTL.
	KeyCacheTTL time.Duration
}

// Verifier checks RS256 JWT access tokens against an issuer's JWKS. It is
// safe for concurrent use; create one per issuer and share it, so the key
// cache is shared too.
type Verifier struct {
	opts      VerifierOptions
	configErr error
	keys      *keyCache
}

var _ TokenVerifier = (*Verifier)(nil)

// NewVerifier returns a Verifier. It does not fetch anything yet: the JWKS
// is fetched on the first Verify. Invalid options do not fail here (the
// constructor's signature is fixed); every Verify then returns an error
// wrapping ErrVerifierConfig, and Err reports it up front.
func NewVerifier(opts VerifierOptions) *Verifier {
	opts.AllowedClients = slices.Clone(opts.AllowedClients)
	opts.Issuer = strings.TrimSuffix(opts.Issuer, "/")
	if opts.JWKSURL == "" && opts.Issuer != "" {
		opts.JWKSURL = opts.Issuer + JWKSPath
	}
	if opts.Audience == "" {
		opts.Audience = DefaultAudience
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: defaultFetchTimeout}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	switch {
	case opts.Leeway == 0:
		opts.Leeway = DefaultLeeway
	case opts.Leeway < 0:
		opts.Leeway = 0
	}
	if opts.MinRefetchInterval <= 0 {
		opts.MinRefetchInterval = DefaultMinRefetchInterval
	}
	if opts.KeyCacheTTL <= 0 {
		opts.KeyCacheTTL = DefaultKeyCacheTTL
	}
	v := &Verifier{opts: opts}
	if opts.Issuer == "" {
		v.configErr = fmt.Errorf("%w: VerifierOptions.Issuer is required", ErrVerifierConfig)
	}
	v.keys = newKeyCache(opts.JWKSURL, opts.Client, opts.Now, opts.MinRefetchInterval, opts.KeyCacheTTL)
	return v
}

// Err reports a configuration problem that makes every Verify fail, so a
// command can refuse to start instead.
func (v *Verifier) Err() error { return v.configErr }

// Verify checks token and returns its claims. A refusal wraps one ErrToken
// sentinel; ErrJWKSUnavailable means the keys could not be fetched (not the
// token's fault). Error messages never contain the token.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if v.configErr != nil {
		return nil, v.configErr
	}
	if token == "" {
		return nil, fmt.Errorf("%w: empty token", ErrTokenMalformed)
	}
	if len(token) > maxTokenBytes {
		return nil, fmt.Errorf("%w: token exceeds %d bytes", ErrTokenMalformed, maxTokenBytes)
	}
	if strings.Count(token, ".") != 2 {
		return nil, fmt.Errorf("%w: not a compact JWS (header.payload.signature)", ErrTokenMalformed)
	}
	tok, err := jwt.ParseSigned(token, acceptedAlgs)
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &alg) {
			return nil, fmt.Errorf("%w: %s (accepted: RS256)", ErrTokenAlgorithm, quoteShort(string(alg.Got)))
		}
		return nil, fmt.Errorf("%w: %w", ErrTokenMalformed, err)
	}
	if len(tok.Headers) != 1 {
		return nil, fmt.Errorf("%w: want exactly one signature", ErrTokenMalformed)
	}
	kid := tok.Headers[0].KeyID
	if kid == "" {
		// Every key we trust has a kid; without one we would have to try
		// them all, which helps nobody but a forger.
		return nil, fmt.Errorf("%w: header has no kid", ErrTokenMalformed)
	}
	key, err := v.keys.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	var wc wireClaims
	if err := tok.Claims(key, &wc); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return nil, fmt.Errorf("%w: does not verify with key %s", ErrTokenSignature, quoteShort(kid))
		}
		return nil, fmt.Errorf("%w: claims: %w", ErrTokenMalformed, err)
	}
	if err := v.checkClaims(&wc); err != nil {
		return nil, err
	}
	return wc.claims(), nil
}

// checkClaims validates the verified claims. The time checks are written
// out rather than delegated to jwt.Claims.Validate so that each failure maps
// to its own sentinel and a missing exp is refused.
func (v *Verifier) checkClaims(c *wireClaims) error {
	if c.Expiry == nil {
		return fmt.Errorf("%w: exp claim is required", ErrTokenMalformed)
	}
	if c.Issuer != v.opts.Issuer {
		return fmt.Errorf("%w: got %s, want %q", ErrTokenIssuer, quoteShort(c.Issuer), v.opts.Issuer)
	}
	if !c.Audience.Contains(v.opts.Audience) {
		return fmt.Errorf("%w: %q not in aud", ErrTokenAudience, v.opts.Audience)
	}
	now, leeway := v.opts.Now(), v.opts.Leeway
	if exp := c.Expiry.Time(); !now.Before(exp.Add(leeway)) {
		return fmt.Errorf("%w: exp %s is before %s (leeway %s)", ErrTokenExpired,
			exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway)
	}
	if c.NotBefore != nil && now.Add(leeway).Before(c.NotBefore.Time()) {
		return fmt.Errorf("%w: nbf %s is after %s (leeway %s)", ErrTokenNotYetValid,
			c.NotBefore.Time().UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway)
	}
	if c.IssuedAt != nil && now.Add(leeway).Before(c.IssuedAt.Time()) {
		return fmt.Errorf("%w: iat %s is in the future", ErrTokenNotYetValid,
			c.IssuedAt.Time().UTC().Format(time.RFC3339))
	}
	client := c.ClientID
	if client == "" {
		client = c.Subject
	}
	if client == "" {
		return fmt.Errorf("%w: no client_id or sub claim", ErrTokenMalformed)
	}
	if len(v.opts.AllowedClients) > 0 && !slices.Contains(v.opts.AllowedClients, client) {
		return fmt.Errorf("%w: client %s", ErrTokenClient, quoteShort(client))
	}
	return nil
}

// splitCompact splits a compact JWS into its three parts.
func splitCompact(tok string) (header, payload, sig string, err error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("%w: not a compact JWS", ErrTokenMalformed)
	}
	return parts[0], parts[1], parts[2], nil
}
