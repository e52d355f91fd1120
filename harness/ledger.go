package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
)

// ErrorClass names why an attempt got no HTTP answer, so reports and
// metrics can count failures without parsing error strings.
type ErrorClass string

// Error classes. The empty class means an HTTP answer was received.
const (
	ErrNone       ErrorClass = ""
	ErrTimeout    ErrorClass = "timeout"
	ErrRefused    ErrorClass = "connection_refused"
	ErrReset      ErrorClass = "connection_reset"
	ErrTLS        ErrorClass = "tls"
	ErrDNS        ErrorClass = "dns"
	ErrLostAck    ErrorClass = "lost_ack" // the sender abandoned the attempt on purpose
	ErrCanceled   ErrorClass = "canceled"
	ErrRedirect   ErrorClass = "redirect"
	ErrBodyLimit  ErrorClass = "response_too_large"
	ErrOtherClass ErrorClass = "other"
)

// ErrLostAckAbandoned marks an attempt the sender abandoned after writing
// the request and before reading the response, to simulate a lost ack.
var ErrLostAckAbandoned = errors.New("harness: attempt abandoned before the response (lost ack)")

// ClassifyError maps a transport error to its class.
func ClassifyError(err error) ErrorClass {
	if err == nil {
		return ErrNone
	}
	var (
		netErr  net.Error
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
		opErr   *net.OpError
	)
	switch {
	case errors.Is(err, ErrLostAckAbandoned):
		return ErrLostAck
	case errors.Is(err, context.Canceled):
		return ErrCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return ErrTimeout
	case errors.As(err, &dnsErr):
		return ErrDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return ErrReset
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alert):
		return ErrTLS
	case errors.As(err, &opErr) && (opErr.Op == "remote error" || opErr.Op == "local error"):
		// crypto/tls reports an alert (e.g. TLS 1.3 certificate_required
		// when no client certificate was sent) as a net.OpError around an
		// unexported type, not as tls.AlertError.
		return ErrTLS
	case errors.As(err, &netErr) && netErr.Timeout():
		return ErrTimeout
	}
	return ErrOtherClass
}

// Attempt is one delivery attempt, as the ledger records it.
type Attempt struct {
	EventID   string `json:"event_id"`
	EventType string `json:"event_type,omitempty"`
	// Attempt is 1 for the initial delivery, k+1 for retry k.
	Attempt int       `json:"attempt"`
	Start   time.Time `json:"start"`
	// Status is the HTTP status, 0 when no answer was received.
	Status     int           `json:"status"`
	Latency    time.Duration `json:"latency_ns"`
	ErrorClass ErrorClass    `json:"error_class,omitempty"`
	Error      string        `json:"error,omitempty"`
	BytesSent  int64         `json:"bytes_sent"`
	BytesRecv  int64         `json:"bytes_received"`
	// RetryAfter is the Retry-After header of the answer, if any.
	RetryAfter string `json:"retry_after,omitempty"`
	// Location is the Location header of a 3xx answer (never followed).
	Location string `json:"location,omitempty"`
	// Wait is the scaled wait slept before this attempt; RealWait the wait
	// RiskOS itself would have slept.
	Wait     time.Duration `json:"wait_ns,omitempty"`
	RealWait time.Duration `json:"real_wait_ns,omitempty"`
	// Label names the check or scenario that sent it.
	Label string `json:"label,omitempty"`
	// Answer is the start of a non-2xx answer's body (at most
	// AnswerExcerptBytes), which often says why a receiver refused an event.
	// It may echo what was sent: reports scrub it like every other field.
	Answer string `json:"answer,omitempty"`
}

// AnswerExcerptBytes bounds Attempt.Answer.
const AnswerExcerptBytes = 256

// Acked reports whether the attempt was acknowledged with a 2xx.
func (a Attempt) Acked() bool { return a.Status >= 200 && a.Status < 300 }

// Ledger records every delivery attempt of a run. It is safe for concurrent use.
type Ledger struct {
	mu       sync.Mutex
	attempts []Attempt
}

// Record appends one attempt.
func (l *Ledger) Record(a Attempt) {
	l.mu.Lock()
	l.attempts = append(l.attempts, a)
	l.mu.Unlock()
}

// Attempts returns a copy of every attempt, in record order.
func (l *Ledger) Attempts() []Attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.attempts)
}

// ForEvent returns the attempts for one event_id, in record order.
func (l *Ledger) ForEvent(id string) []Attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Attempt
	for _, a := range l.attempts {
		if a.EventID == id {
			out = append(out, a)
		}
	}
	return out
}

// Len returns how many attempts are recorded.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.attempts)
}
