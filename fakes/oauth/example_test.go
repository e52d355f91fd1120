package oauth_test

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/hookproof/hookproof/fakes/oauth"
	"github.com/hookproof/hookproof/harness"
)

// An issuer and a verifier: a client fetches a token with the
// client-credentials grant, the verifier accepts it and refuses a forgery.
func Example() {
	iss, err := oauth.NewServer(oauth.ServerOptions{
		Clients: map[string]harness.Secret{"riskos": "example-secret"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer iss.Close()

	cfg := clientcredentials.Config{ClientID: "riskos", ClientSecret: "example-secret", TokenURL: iss.TokenURL()}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}

	v := oauth.NewVerifier(oauth.VerifierOptions{Issuer: iss.URL, AllowedClients: []string{"riskos"}})
	claims, err := v.Verify(context.Background(), tok.AccessToken)
	fmt.Println(claims.ClientID, err)

	forged, _ := iss.Mint(oauth.TokenAlgNone, "riskos")
	_, err = v.Verify(context.Background(), forged)
	fmt.Println(errors.Is(err, oauth.ErrTokenAlgorithm))
	// Output:
	// riskos <nil>
	// true
}
