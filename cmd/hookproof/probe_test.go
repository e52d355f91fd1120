package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/harness"
)

// A receiver whose effects endpoint wants the webhook's own credentials:
// without --effects-auth the probe cannot answer, and certify says so up
// front (exit 2) instead of failing the idempotency checks on the receiver.
func TestEffectsProbeIsCheckedBeforeTheRun(t *testing.T) {
	const token = "probe-tok-1234"
	rx, err := receiver.New(receiver.Options{Auth: harness.AuthConfig{Type: harness.AuthBearer, BearerToken: token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rx.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == receiver.EffectsPath && r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		rx.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	args := []string{"certify", "--target", srv.URL + receiver.DefaultPath, "--effects-url", srv.URL + receiver.EffectsPath,
		"--auth", "bearer", "--bearer-token", token, "--label-filter", "req:IDEM-02", "--color", "never"}

	_, errOut, code := cli(t, args...)
	if code != exitUsage || !strings.Contains(errOut, "effects probe does not answer") || !strings.Contains(errOut, "401") {
		t.Errorf("without --effects-auth: exit %d; want 2 naming the probe and its 401\n%s", code, errOut)
	}
	if strings.Contains(errOut, token) {
		t.Error("the token was printed")
	}
	out, errOut, code := cli(t, append(args, "--effects-auth")...)
	if code != exitOK {
		t.Errorf("with --effects-auth: exit %d; want 0\n%s%s", code, out, errOut)
	}
}

// A probe that counts an event_id never sent cannot tell duplicates apart.
func TestEffectsProbeThatCountsAnythingIsRefused(t *testing.T) {
	rx, err := receiver.New(receiver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rx.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken-effects" {
			w.Write([]byte(`{"count":1}`))
			return
		}
		rx.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	_, errOut, code := cli(t, "certify", "--target", srv.URL+receiver.DefaultPath, "--effects-url", srv.URL+"/broken-effects", "--label-filter", "req:IDEM-02")
	if code != exitUsage || !strings.Contains(errOut, "never sent") {
		t.Errorf("exit %d; want 2 saying the probe counts an event never sent\n%s", code, errOut)
	}
}
