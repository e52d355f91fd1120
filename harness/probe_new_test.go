package harness

import (
	"net/http"
	"testing"
)

func TestNewProbePicksTheConfiguredProbe(t *testing.T) {
	client := &http.Client{}
	var auth Authorizer = noAuth{}
	for _, tc := range []struct {
		name string
		e    EffectsConfig
		want string
	}{
		{"none", EffectsConfig{}, "<nil>"},
		{"url", EffectsConfig{URL: "http://127.0.0.1:9/effects", File: "/tmp/x"}, "effects URL http://127.0.0.1:9/effects"},
		{"file", EffectsConfig{File: "/tmp/effects.log"}, (&FileProbe{Path: "/tmp/effects.log"}).Describe()},
	} {
		p, closeFn, err := NewProbe(tc.e, client, auth)
		if err != nil || closeFn == nil {
			t.Fatalf("%s: NewProbe = %v, close %v; want a probe and a close func", tc.name, err, closeFn != nil)
		}
		got := "<nil>"
		if p != nil {
			got = p.Describe()
		}
		if got != tc.want {
			t.Errorf("%s: probe %q; want %q", tc.name, got, tc.want)
		}
		if err := closeFn(); err != nil {
			t.Errorf("%s: close = %v", tc.name, err)
		}
	}
	p, _, _ := NewProbe(EffectsConfig{URL: "http://127.0.0.1:9/e", Auth: true}, client, auth)
	if hp := p.(*HTTPProbe); hp.Authorizer == nil || hp.Client != client {
		t.Errorf("effects URL with auth: authorizer %v, client %v; want the delivery auth and client", hp.Authorizer, hp.Client == client)
	}
	p, _, _ = NewProbe(EffectsConfig{URL: "http://127.0.0.1:9/e"}, client, auth)
	if hp := p.(*HTTPProbe); hp.Authorizer != nil {
		t.Errorf("effects URL without auth carries an authorizer")
	}
}
