package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
)

// Probe reads how many times a receiver's business handling ran for an
// event_id. Status codes alone cannot show that a duplicate was processed
// once; a probe can. Implementations are safe for concurrent use.
type Probe interface {
	Count(ctx context.Context, eventID string) (int, error)
	// Describe names the probe for reports, without secrets.
	Describe() string
}

// ErrProbe wraps every probe failure, so specs can tell "the receiver
// processed twice" from "the probe could not be read".
var ErrProbe = errors.New("harness: effects probe")

// maxProbeBody bounds a probe answer; a count is a few bytes.
const maxProbeBody = 64 << 10

// HTTPProbe asks GET URL?event_id=ID and expects
// 200 {"event_id":"ID","count":N}, N being how many times the receiver
// processed that event (the effects probe contract of --effects-url).
type HTTPProbe struct {
	URL    string
	Client *http.Client
	// Authorizer, when set, authenticates probe requests like deliveries.
	Authorizer Authorizer
}

// Describe implements Probe.
func (p *HTTPProbe) Describe() string { return "effects URL " + RedactURL(p.URL) }

// Count implements Probe.
func (p *HTTPProbe) Count(ctx context.Context, eventID string) (int, error) {
	u, err := url.Parse(p.URL)
	if err != nil {
		return 0, fmt.Errorf("%w: effects URL: %v", ErrProbe, err)
	}
	q := u.Query()
	q.Set("event_id", eventID)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrProbe, err)
	}
	req.Header.Set("User-Agent", UserAgent())
	if p.Authorizer != nil {
		if err := p.Authorizer.Authorize(ctx, req); err != nil {
			return 0, fmt.Errorf("%w: authorizing: %w", ErrProbe, err)
		}
	}
	client := p.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: GET %s: %w", ErrProbe, RedactURL(p.URL), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	if err != nil {
		return 0, fmt.Errorf("%w: reading answer: %w", ErrProbe, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%w: GET %s answered %d: %s", ErrProbe, RedactURL(p.URL), resp.StatusCode, excerpt(string(body)))
	}
	return ParseEffects(body, eventID)
}

// ParseEffects parses an effects answer, checking it is about eventID.
func ParseEffects(body []byte, eventID string) (int, error) {
	var ans struct {
		EventID *string `json:"event_id"`
		Count   *int    `json:"count"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ans); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return 0, fmt.Errorf("%w: answer is not JSON at byte offset %d: %v", ErrProbe, se.Offset, err)
		}
		return 0, fmt.Errorf("%w: answer is not {\"event_id\",\"count\"}: %v", ErrProbe, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("%w: answer has data after the JSON object (byte offset %d)", ErrProbe, dec.InputOffset())
	}
	switch {
	case ans.Count == nil:
		return 0, fmt.Errorf("%w: answer has no \"count\"", ErrProbe)
	case *ans.Count < 0:
		return 0, fmt.Errorf("%w: answer has a negative count %d", ErrProbe, *ans.Count)
	case ans.EventID != nil && *ans.EventID != eventID:
		return 0, fmt.Errorf("%w: asked about %s, answer is about %q", ErrProbe, eventID, *ans.EventID)
	}
	return *ans.Count, nil
}

// FileProbe counts lines equal to the event_id in a file the receiver
// appends one processed event_id per line to.
type FileProbe struct{ Path string }

// Describe implements Probe.
func (p *FileProbe) Describe() string { return "effects file " + p.Path }

// Count implements Probe. It rereads the file each time: the receiver owns
// it and appends concurrently, and a count must reflect the latest state.
func (p *FileProbe) Count(ctx context.Context, eventID string) (int, error) {
	f, err := os.Open(p.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil // nothing processed yet
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrProbe, err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if string(bytes.TrimSpace(sc.Bytes())) == eventID {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%w: reading %s: %w", ErrProbe, p.Path, err)
	}
	return n, nil
}
