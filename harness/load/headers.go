package load

import (
	"fmt"
	"net/http"
)

// headerSet is a run's delivery headers (content type, user agent, static
// headers, credentials) in both forms the engine sends them: the map, for
// vegeta's Target on the net/http path, and the wire lines the fast path
// copies into each request, so that it never iterates or copies a map per
// hit. It is immutable; an auth refresh swaps in a new one.
type headerSet struct {
	h    http.Header
	wire []byte
}

// newHeaderSet validates h and renders its wire form. A name or value that
// could split a header line is refused, naming the header (never its value:
// it may be a credential).
func newHeaderSet(h http.Header) (*headerSet, error) {
	hs := &headerSet{h: h}
	for k, vs := range h {
		if !validToken(k) {
			return nil, fmt.Errorf("header %q: invalid name", k)
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				return nil, fmt.Errorf("header %q: invalid value", k)
			}
			hs.wire = append(hs.wire, k...)
			hs.wire = append(hs.wire, ": "...)
			hs.wire = append(hs.wire, v...)
			hs.wire = append(hs.wire, "\r\n"...)
		}
	}
	return hs, nil
}
