package riskos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/hookproof/hookproof/harness"
)

// NoContentType as Delivery.ContentType sends no Content-Type header at all.
const NoContentType = "-"

// Delivery is one event as the Sender puts it on the wire. The zero values
// of the optional fields give exactly what RiskOS sends; the others let a
// check depart from it (forged credentials, wrong method, hostile body).
type Delivery struct {
	// EventID and EventType label the attempts in the ledger; they are not
	// read from Body, which may be deliberately broken.
	EventID, EventType string
	Body               []byte
	// Method defaults to POST.
	Method string
	// ContentType defaults to application/json; NoContentType sends none.
	ContentType string
	// Header holds extra headers, applied after the static headers of the
	// config, replacing any of the same name. A "Host" entry sets the
	// request's Host.
	Header http.Header
	// NoAuth sends the delivery without credentials.
	NoAuth bool
	// Authorize, if set, replaces the configured auth (forged, malformed or
	// misplaced credentials). It runs after every other header is set.
	Authorize func(*http.Request)
	// URL overrides cfg.Target, e.g. to carry a token in the query string.
	URL string
	// Label names the check or scenario, copied to the ledger.
	Label string
	// Isolated sends every attempt on a connection of its own, closed after
	// the answer, so a receiver that answers and then drops the socket
	// cannot break the connection a later delivery reuses.
	Isolated bool
}

// DeliveryOf returns the plain RiskOS delivery of ev.
func DeliveryOf(ev harness.Event) Delivery {
	return Delivery{EventID: ev.ID, EventType: ev.Type, Body: ev.Body}
}

// newRequest builds the request of one attempt: the body, headers and
// credentials, in the order RiskOS applies them. sent counts the body bytes
// the transport consumes.
func (s *Sender) newRequest(ctx context.Context, d Delivery, sent *atomic.Int64) (*http.Request, error) {
	target := d.URL
	if target == "" {
		target = s.cfg.Target
	}
	if target == "" {
		return nil, errors.New("target: no URL configured")
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL is not repeated: it may carry credentials.
		return nil, errors.New("target: not an absolute http(s) URL")
	}
	method := d.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, fmt.Errorf("method %q: %w", method, err)
	}
	setBody(req, d.Body, sent)

	switch d.ContentType {
	case "":
		req.Header.Set("Content-Type", "application/json")
	case NoContentType:
	default:
		req.Header.Set("Content-Type", d.ContentType)
	}
	req.Header.Set("User-Agent", harness.UserAgent())
	for _, h := range s.cfg.Headers {
		req.Header.Add(h.Name, h.Value)
	}
	for name, values := range d.Header {
		if http.CanonicalHeaderKey(name) == "Host" {
			if len(values) > 0 {
				req.Host = values[0]
			}
			continue
		}
		req.Header[http.CanonicalHeaderKey(name)] = append([]string(nil), values...)
	}

	switch {
	case d.Authorize != nil:
		d.Authorize(req)
	case d.NoAuth:
	default:
		if err := s.auth.Authorize(ctx, req); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	return req, nil
}

// setBody gives req a body whose consumption is counted. GetBody is set so
// the transport may rewind a request it could not write at all (a stale
// keep-alive connection); it never re-sends a written POST on its own,
// because deliveries carry no Idempotency-Key header.
func setBody(req *http.Request, body []byte, sent *atomic.Int64) {
	if len(body) == 0 {
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		req.ContentLength = 0
		return
	}
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) {
		sent.Store(0)
		return io.NopCloser(&countingReader{r: bytes.NewReader(body), n: sent}), nil
	}
	req.Body, _ = req.GetBody()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
