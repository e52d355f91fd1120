package main

import (
	"context"
	"io"
	"log"
	"os"
	"testing"

	"github.com/hookproof/hookproof/hookprooftest"
)

// The receiver's own certification, from go test: every requirement of the
// catalogue is a subtest (go test -run 'TestCertify/IDEM' for the
// idempotency checks alone). hookprooftest serves the handler over HTTPS, so
// the transport checks pass too; the checks needing what this test does not
// give (a restart, OAuth2 tokens) are skipped with their reason.
func TestCertify(t *testing.T) {
	if testing.Short() {
		t.Skip("a certification run")
	}
	t.Setenv("AUTH", "bearer")
	t.Setenv("BEARER_TOKEN", "tok")
	// One log line per processed event would bury the subtests' output.
	log.SetOutput(io.Discard)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	s, err := openStore(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	go s.work(0)
	hookprooftest.Certify(t, webhook(s), hookprooftest.BearerToken("tok"),
		hookprooftest.Effects(func(_ context.Context, id string) (int, error) { return s.count(id), nil }))
}
