package receiver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"
)

// retryAfter is the Retry-After of a 503: one second is several queue
// drains at the default capacity.
const retryAfter = 1

// ackBody is the body of every 200.
type ackBody struct {
	Status  string `json:"status"` // accepted or duplicate
	EventID string `json:"event_id"`
}

// serveWebhook runs the checks in the order a careful receiver does:
// method (405 reveals nothing), then authentication before the body is
// read (unauthenticated input is never parsed), then Content-Type,
// size, syntax, envelope, and only then deduplication and queueing.
func (rx *Receiver) serveWebhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var ev Event
	answer := func(status int, v any, reason string) {
		writeJSON(w, status, v)
		level := slog.LevelInfo
		if status >= 400 {
			level = slog.LevelWarn
		}
		rx.log.Log(r.Context(), level, "delivery",
			"status", status, "event_id", ev.ID, "event_type", ev.Type, "event_at", ev.At,
			"reason", reason, "remote", r.RemoteAddr, "took", time.Since(start))
	}
	reject := func(status int, reason string) { answer(status, errorBody{Error: reason}, reason) }

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reject(http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if !rx.opts.has(FaultNoAuth) {
		if f := rx.auth.check(r.Context(), r); f != nil {
			if f.challenge != "" {
				w.Header().Set("WWW-Authenticate", f.challenge)
			}
			answer(f.status, errorBody{Error: http.StatusText(f.status)}, f.reason)
			return
		}
	}
	if !rx.opts.has(FaultAcceptAnyContentType) {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			reject(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
			return
		}
	}
	body, status, reason := rx.readBody(w, r)
	if status != 0 {
		reject(status, reason)
		return
	}
	scan, err := checkJSON(body)
	if err != nil {
		reject(http.StatusBadRequest, err.Error())
		return
	}
	if rx.opts.has(Fault5xxOnHostileJSON) && (scan.hostile != "" || scan.huge != "") {
		reject(http.StatusInternalServerError, "internal error")
		return
	}
	if scan.hostile != "" {
		reject(http.StatusBadRequest, "hostile JSON: "+scan.hostile)
		return
	}
	ev, reason = parseEnvelope(body)
	if reason != "" {
		reject(http.StatusBadRequest, reason)
		return
	}
	switch {
	case rx.opts.has(FaultRejectUnknownType) && !knownEventTypes[ev.Type]:
		reject(http.StatusBadRequest, "unknown event_type")
		return
	case rx.opts.has(FaultError500) && ev.Type == Error500EventType:
		reject(http.StatusInternalServerError, "internal error")
		return
	case rx.opts.has(FaultRedirect) && ev.Type == RedirectEventType:
		w.Header().Set("Location", rx.opts.Path+RedirectSuffix)
		answer(http.StatusTemporaryRedirect, errorBody{Error: "moved to " + rx.opts.Path + RedirectSuffix}, "redirected")
		return
	}
	rx.accept(w, ev, answer)
}

// readBody reads at most MaxBody bytes; status is 413 past the limit and
// 400 when the body cannot be read, 0 on success.
func (rx *Receiver) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	if rx.opts.has(FaultNoSizeLimit) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, http.StatusBadRequest, "unreadable body"
		}
		return b, 0, ""
	}
	// A declared length over the limit is refused before reading a byte.
	if r.ContentLength > rx.opts.MaxBody {
		return nil, http.StatusRequestEntityTooLarge, "body larger than " + strconv.FormatInt(rx.opts.MaxBody, 10) + " bytes"
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rx.opts.MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge, "body larger than " + strconv.FormatInt(rx.opts.MaxBody, 10) + " bytes"
	case err != nil:
		return nil, http.StatusBadRequest, "unreadable body"
	}
	return b, 0, ""
}

// accept deduplicates and queues a valid event, then acknowledges it.
//
// If the queue is full the claim on event_id is released before answering
// 503, so the sender's retry is processed rather than acked as a duplicate
// of an event that never ran; the claim is persisted only once queued.
func (rx *Receiver) accept(w http.ResponseWriter, ev Event, answer func(int, any, string)) {
	dup := func() {
		if rx.opts.has(FaultDup409) {
			answer(http.StatusConflict, errorBody{Error: "duplicate event_id"}, "duplicate")
			return
		}
		answer(http.StatusOK, ackBody{Status: "duplicate", EventID: ev.ID}, "duplicate")
	}
	switch {
	case rx.opts.has(FaultNoDedupe):
	case rx.opts.has(FaultRacyDedupe):
		if rx.seen.contains(ev.ID) {
			dup()
			return
		}
		time.Sleep(RacyWindow) // the deliberate check-then-act gap
		rx.seen.mark(ev.ID)
	default:
		if !rx.seen.claim(ev.ID) {
			dup()
			return
		}
	}
	if rx.opts.has(FaultSlowAck) {
		rx.process(context.Background(), ev)
		time.Sleep(rx.opts.AckBudget * 3 / 2)
		rx.persist(ev)
		answer(http.StatusOK, ackBody{Status: "accepted", EventID: ev.ID}, "")
		return
	}
	if !rx.enqueue(ev) {
		if !rx.opts.has(FaultNoDedupe) {
			rx.seen.release(ev.ID)
		}
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		answer(http.StatusServiceUnavailable, errorBody{Error: "busy, retry later"}, "queue full")
		return
	}
	rx.persist(ev)
	answer(http.StatusOK, ackBody{Status: "accepted", EventID: ev.ID}, "")
}

// persist records an accepted event_id in the state file. A failed write
// is logged, not answered: the event is queued and the in-memory mark
// already dedupes its retries; only restart survival is at risk.
func (rx *Receiver) persist(ev Event) {
	if err := rx.seen.persist(ev.ID); err != nil {
		rx.log.Error("writing state file", "event_id", ev.ID, "err", err)
	}
}
