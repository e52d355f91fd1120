package riskos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookproof/hookproof/harness"
)

// outcomeKind is what one attempt means for the retry loop; the ledger's
// Attempt alone cannot say it (a status and an error class may coexist).
type outcomeKind int

const (
	// answered: an HTTP status was received; the status decides.
	answered outcomeKind = iota
	// noAnswer: a transport error or timeout before any status.
	noAnswer
	// abandoned: the sender dropped the attempt on purpose (lost ack).
	abandoned
	// interrupted: the caller's context ended the attempt.
	interrupted
	// unsent: the request could not be built (URL, method or auth).
	unsent
)

// attemptSpec is the loop's view of one attempt.
type attemptSpec struct {
	n              int           // 1 for the first delivery, k+1 for retry k
	wait, realWait time.Duration // slept before this attempt
	lostAck        bool          // abandon after the request is written
	client         *http.Client  // overrides the Sender's client (bursts)
	barrier        func()        // called once the request is built, before it is sent
}

// Send makes exactly one attempt to deliver d, records it in the ledger and
// returns it. The attempt is bounded by cfg.Timeouts.Attempt (from the start
// of the request to the end of the response body) and by ctx. At most the
// configured number of response-body bytes are read; a 3xx is recorded with
// its Location and never followed. The attempt waits its turn under the
// Sender's pace (WithPace).
func (s *Sender) Send(ctx context.Context, d Delivery) harness.Attempt {
	_ = s.pace(ctx) // a context that ended while waiting shows in the attempt
	a, _ := s.attempt(ctx, d, attemptSpec{n: 1})
	return a
}

func (s *Sender) attempt(ctx context.Context, d Delivery, spec attemptSpec) (harness.Attempt, outcomeKind) {
	a := harness.Attempt{
		EventID:   d.EventID,
		EventType: d.EventType,
		Attempt:   spec.n,
		Wait:      spec.wait,
		RealWait:  spec.realWait,
		Label:     d.Label,
	}
	kind := s.do(ctx, d, spec, &a)
	if kind == noAnswer && ctx.Err() != nil {
		kind = interrupted
	}
	s.record(a)
	return a, kind
}

// do performs one attempt and fills in a.
func (s *Sender) do(ctx context.Context, d Delivery, spec attemptSpec, a *harness.Attempt) outcomeKind {
	// The cause context lets the lost ack cancel only this attempt; the
	// timeout context inside it bounds the whole attempt, body read included.
	causeCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	actx := causeCtx
	if t := s.cfg.Timeouts.Attempt; t > 0 {
		var stop context.CancelFunc
		actx, stop = context.WithTimeout(causeCtx, t)
		defer stop()
	}

	a.Start = time.Now()
	var sent atomic.Int64
	req, err := s.newRequest(actx, d, &sent)
	if spec.barrier != nil {
		spec.barrier()
	}
	if err != nil {
		a.ErrorClass = harness.ErrOtherClass
		a.Error = "build request: " + err.Error()
		if ctx.Err() != nil {
			a.ErrorClass = harness.ClassifyError(ctx.Err())
			return interrupted
		}
		return unsent
	}

	var dropped atomic.Bool
	if spec.lostAck {
		// The trace goes on the request only, not on actx: an OAuth2 token
		// fetch made while authorizing must not trigger the abandonment.
		//
		// The attempt is dropped when the answer starts to arrive, not when
		// the request is written: a lost ack is an answer the receiver sent
		// and RiskOS never read. Dropping earlier races the receiver (the
		// client's close can reset the connection before the server has read
		// the body), which made the check depend on timing.
		trace := &httptrace.ClientTrace{GotFirstResponseByte: func() {
			dropped.Store(true)
			cancel(harness.ErrLostAckAbandoned)
		}}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}

	start := time.Now()
	a.Start = start
	client := s.client
	switch {
	case spec.client != nil:
		client = spec.client
	case d.Isolated:
		client = s.isolated()
	}
	resp, err := client.Do(req)
	if dropped.Load() {
		// Whatever the transport returned, the response was not read: the
		// response may even have arrived before the cancellation took hold.
		if resp != nil {
			resp.Body.Close()
		}
		a.Latency = time.Since(start)
		a.BytesSent = sent.Load()
		a.ErrorClass = harness.ErrLostAck
		a.Error = harness.ErrLostAckAbandoned.Error()
		return abandoned
	}
	if err != nil {
		a.Latency = time.Since(start)
		a.BytesSent = sent.Load()
		a.ErrorClass = harness.ClassifyError(err)
		a.Error = errorText(err)
		return noAnswer
	}
	defer resp.Body.Close()

	a.Status = resp.StatusCode
	a.RetryAfter = resp.Header.Get("Retry-After")
	a.Location = resp.Header.Get("Location")
	// Read one byte past the limit to tell "exactly the limit" from "more";
	// the rest is never read, so the transport closes the connection instead
	// of draining an unbounded body.
	var head bytes.Buffer
	var sink io.Writer = io.Discard
	if resp.StatusCode >= 300 {
		sink = &prefixWriter{buf: &head, max: harness.AnswerExcerptBytes}
	}
	n, rerr := io.Copy(sink, io.LimitReader(resp.Body, s.maxResp+1))
	a.Answer = strings.ToValidUTF8(head.String(), "\uFFFD")
	a.Latency = time.Since(start)
	a.BytesSent = sent.Load()
	a.BytesRecv = n
	switch {
	case n > s.maxResp:
		a.ErrorClass = harness.ErrBodyLimit
		a.Error = fmt.Sprintf("response body longer than %d bytes: abandoned unread", s.maxResp)
	case rerr != nil:
		// The status stands (RiskOS decides on it), but the answer was not
		// read to its end, and the class says why.
		a.ErrorClass = harness.ClassifyError(rerr)
		a.Error = "read response body: " + errorText(rerr)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		a.ErrorClass = harness.ErrRedirect
		a.Error = fmt.Sprintf("answered %d: redirects are never followed", resp.StatusCode)
	}
	return answered
}

// prefixWriter keeps the first max bytes written to it and discards the rest.
type prefixWriter struct {
	buf *bytes.Buffer
	max int
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// errorText describes a transport error without the request URL, which may
// carry a token in its query string (the S-05 check sends one on purpose).
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
