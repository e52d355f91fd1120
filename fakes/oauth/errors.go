package oauth

import "errors"

// Reasons a Verifier refuses a token. Verify wraps exactly one of them (with
// detail) so callers can branch with errors.Is and log the reason; none of
// them ever carries the token itself.
var (
	// ErrTokenMalformed: not a compact JWS, bad base64 or JSON, missing
	// required claims or header fields.
	ErrTokenMalformed = errors.New("oauth: malformed token")
	// ErrTokenAlgorithm: the header names an algorithm the verifier does not
	// accept (alg none, HS256 confusion, ...).
	ErrTokenAlgorithm = errors.New("oauth: token algorithm not accepted")
	// ErrTokenSignature: the signature does not verify, or no published key
	// has the token's kid.
	ErrTokenSignature = errors.New("oauth: token signature invalid")
	// ErrTokenExpired: exp is in the past, beyond the leeway.
	ErrTokenExpired = errors.New("oauth: token expired")
	// ErrTokenNotYetValid: nbf or iat is in the future, beyond the leeway.
	ErrTokenNotYetValid = errors.New("oauth: token not yet valid")
	// ErrTokenIssuer: iss is not the configured issuer.
	ErrTokenIssuer = errors.New("oauth: token issuer mismatch")
	// ErrTokenAudience: aud does not contain the configured audience.
	ErrTokenAudience = errors.New("oauth: token audience mismatch")
	// ErrTokenClient: the token was issued to a client that is not allowed.
	ErrTokenClient = errors.New("oauth: token client not allowed")
	// ErrJWKSUnavailable: the verifier could not obtain the issuer's keys, so
	// it cannot judge the token. Unlike the others this is not the sender's
	// fault: a receiver should answer it with a retryable 503, not 401.
	ErrJWKSUnavailable = errors.New("oauth: issuer keys unavailable")
	// ErrVerifierConfig: the VerifierOptions are incomplete or invalid.
	ErrVerifierConfig = errors.New("oauth: verifier misconfigured")
)
