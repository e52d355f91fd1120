package oauth

import (
	"context"
	"errors"
	"testing"
)

// FuzzVerify feeds arbitrary tokens to a verifier with a warm key cache:
// Verify must never panic, and must refuse anything it cannot verify with a
// token sentinel rather than a bare error.
func FuzzVerify(f *testing.F) {
	clock := newFakeClock()
	iss := newTestIssuer(f, clock, nil)
	v := newTestVerifier(iss, clock, nil)
	valid, err := iss.Mint(TokenValid, testClient)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), valid); err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	for _, k := range TokenKinds() {
		tok, err := iss.Mint(k.Kind, testClient)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Add("")
	f.Add("..")
	f.Add("eyJhbGciOiJub25lIn0..")
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := v.Verify(context.Background(), tok)
		if err == nil || tok == valid {
			return
		}
		sentinels := []error{ErrTokenMalformed, ErrTokenAlgorithm, ErrTokenSignature, ErrTokenExpired,
			ErrTokenNotYetValid, ErrTokenIssuer, ErrTokenAudience, ErrTokenClient, ErrJWKSUnavailable}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Errorf("Verify(%q) = %v; want a sentinel-wrapped error", tok, err)
	})
}
