// Package oauth provides an OAuth2 authorisation server for tests and demos,
// and the access-token verifier the reference receiver uses.
//
// The Server (the token issuer) is a real HTTP server with an httptest-style
// life cycle: it serves the client-credentials grant at TokenURL, its public keys
// at JWKSURL, and signs RS256 JWT access tokens (RFC 9068 shape). It can also
// mint deliberately bad tokens (expired, wrong audience, forged signatures,
// alg none, algorithm confusion...) so that conformance scenarios can show a
// receiver refuses each of them.
//
// The Verifier checks such tokens the way a careful receiver should: keys
// come from the JWKS (cached, refetched on an unknown kid but rate-limited),
// only RS256 is accepted, and signature, exp/nbf, iss, aud and the client
// are all checked. Every rejection wraps one of the ErrToken sentinels so the
// caller can log why without parsing strings.
package oauth
