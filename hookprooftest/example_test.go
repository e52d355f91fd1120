package hookprooftest_test

import (
	"context"
	"testing"

	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/hookprooftest"
)

// A receiver's own test certifies its handler: one subtest per requirement
// (TestReceiver/ACK-01, TestReceiver/IDEM-02, …). hookproof's reference
// receiver stands in for yours here; Effects reads how many times the
// handler processed an event, which is how duplicates are told apart.
func ExampleCertify() {
	var t *testing.T // the *testing.T of func TestReceiver(t *testing.T)

	rx, err := receiver.New(receiver.Options{
		Auth: harness.AuthConfig{Type: harness.AuthBearer, BearerToken: "s3cret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	hookprooftest.Certify(t, rx,
		hookprooftest.Path(receiver.DefaultPath),
		hookprooftest.BearerToken("s3cret"),
		hookprooftest.Effects(func(_ context.Context, eventID string) (int, error) {
			return rx.Count(eventID), nil
		}),
	)
}

// With OAuth2, hookproof runs the authorisation server: the handler
// verifies tokens against its JWKS, and the certification also sends
// expired, wrong-audience and foreign-key tokens it must refuse.
func ExampleCertify_oauth2() {
	var t *testing.T

	iss := hookprooftest.NewIssuer(t)
	rx, err := receiver.New(receiver.Options{
		Auth:     harness.AuthConfig{Type: harness.AuthOAuth2},
		Verifier: receiver.TokenVerifierFunc(iss.Verify),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	hookprooftest.Certify(t, rx, hookprooftest.Path(receiver.DefaultPath), hookprooftest.OAuth2(iss),
		hookprooftest.LabelFilter("area:auth"))
}

// A receiver already running (a container started by the test, a staging
// deployment) is certified by URL; ReportDir keeps the four reports for CI.
func ExampleCertifyURL() {
	var t *testing.T

	hookprooftest.CertifyURL(t, "https://127.0.0.1:8443/webhooks/riskos",
		hookprooftest.CACert("testdata/ca.pem"),
		hookprooftest.Basic("riskos", "s3cret"),
		hookprooftest.Profile("full"),
		hookprooftest.RequiredRate(100),
		hookprooftest.ReportDir("hookproof-report"),
		hookprooftest.Strict(),
	)
}
