package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// startListen runs `hookproof listen --listen 127.0.0.1:0` in-process until
// ctx ends, and returns the address it printed (and its first line), its
// stdout, and its result.
func startListen(ctx context.Context) (base, first string, stdout *bytes.Buffer, done chan error) {
	pr, pw := io.Pipe()
	stdout = &bytes.Buffer{}
	done = make(chan error, 1)
	go func() {
		err := run(ctx, []string{"listen", "--listen", "127.0.0.1:0"}, stdout, pw)
		pw.Close()
		done <- err
	}()
	sc := bufio.NewScanner(pr)
	if sc.Scan() {
		first = sc.Text()
		if m := regexp.MustCompile(`capturing on (\S+) `).FindStringSubmatch(first); m != nil {
			base = m[1]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return base, first, stdout, done
}

// `hookproof listen --listen 127.0.0.1:0` prints the address it bound, and
// a delivery there is captured and printed.
func TestListenPrintsTheBoundAddress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, first, stdout, done := startListen(ctx)
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Fatalf("printed %q; want the bound address", first)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/hook", strings.NewReader(`{"event_id":"e-1"}`))
	captureOne(t, req, cancel, done, stdout)
}

// captureOne sends req to a running listen, stops it, and returns what it
// printed, which must show the capture.
func captureOne(t *testing.T, req *http.Request, stop func(), done <-chan error, stdout *bytes.Buffer) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	if !strings.Contains(out, "POST /hook") {
		t.Fatalf("capture not printed:\n%s", out)
	}
	return out
}

// listen prints no credential it can recognise: not a token in the query,
// not a JWT in the body, not the Authorization header.
func TestListenPrintsNoCredential(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJob29rcHJvb2YifQ.c2lnbmF0dXJlLXNlY3JldA"
	const query = "qs-Token-4471-distinct"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, stdout, done := startListen(ctx)
	req, _ := http.NewRequest(http.MethodPost, base+"/hook?access_token="+query, strings.NewReader(`{"event_id":"e-1","note":"`+jwt+`"}`))
	req.Header.Set("Authorization", "Bearer "+jwt)
	out := captureOne(t, req, cancel, done, stdout)
	for _, s := range []string{jwt, query, "c2lnbmF0dXJlLXNlY3JldA"} {
		if strings.Contains(out, s) {
			t.Errorf("listen printed %q:\n%s", s, out)
		}
	}
}
