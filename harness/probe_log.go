package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// EventIDPlaceholder stands for the event_id in --effects-match patterns and
// --effects-command arguments.
const EventIDPlaceholder = "{event_id}"

// eventIDChars is what an event_id a probe substitutes or matches may hold:
// enough for UUIDs and the usual prefixed ids (evt_…, ns:id), nothing a
// shell, a SQL string or a regular expression gives meaning to. An id never
// ends in a dot, so "processed ID." in a log line still yields ID, and never
// starts with '-' or ':', so it cannot pass for a command's option.
const eventIDChars = `[A-Za-z0-9_](?:[A-Za-z0-9._:-]{0,198}[A-Za-z0-9_:-])?`

var validEventID = regexp.MustCompile(`^` + eventIDChars + `$`)

// CheckProbeEventID reports whether id is safe to substitute into a probe's
// command or to look up in a log: 1..200 of A-Z a-z 0-9 . _ : -, starting
// with a letter, digit or '_' and not ending in a dot. hookproof's own event_ids (UUIDs) always are; a hostile id is
// refused before it reaches any command.
func CheckProbeEventID(id string) error {
	if !validEventID.MatchString(id) {
		return fmt.Errorf("%w: event_id %q has characters a probe does not substitute (allowed: 1-200 of A-Z a-z 0-9 . _ : -, starting with a letter, digit or '_', not ending in '.')", ErrProbe, excerpt(id))
	}
	return nil
}

// LogProbe counts the lines of the receiver's own log that mark an event as
// processed. It follows the files as they grow, across rotation by rename
// (the old file is read to its end, then the new one from its start) and by
// truncation (reading restarts at the top); counts seen before a rotation
// are kept. Lines written after the last read and lost in a copytruncate
// rotation cannot be seen: prefer rename rotation, or no rotation, while
// certifying.
//
// The pattern must match the line written when the event's business
// handling ran, not the one written when a request arrived: a receipt line
// is also written for requests the receiver refuses, and would count
// duplicates that were rightly not processed.
type LogProbe struct {
	Paths   []string
	Pattern string

	match  lineMatcher
	mu     sync.Mutex
	files  []*followed
	counts map[string]int
}

// followed is one log file being read incrementally.
type followed struct {
	path string
	f    *os.File
	off  int64
	tail []byte // the last line read, when it has no newline yet
}

// NewLogProbe compiles pattern (see ParseLogPattern) over the files paths.
// A file that does not exist yet counts as empty until it appears.
func NewLogProbe(paths []string, pattern string) (*LogProbe, error) {
	if len(paths) == 0 || slices.Contains(paths, "") {
		return nil, fmt.Errorf("%w: effects.log (--effects-log): no log file", ErrProbe)
	}
	m, err := ParseLogPattern(pattern)
	if err != nil {
		return nil, err
	}
	p := &LogProbe{Paths: paths, Pattern: pattern, match: m, counts: map[string]int{}}
	for _, path := range paths {
		p.files = append(p.files, &followed{path: path})
	}
	return p, nil
}

// Describe implements Probe. It names the pattern, so that a failure it
// causes (a pattern matching receipt rather than processing) is visible.
func (p *LogProbe) Describe() string {
	return fmt.Sprintf("log lines matching %q in %s", p.Pattern, strings.Join(p.Paths, ", "))
}

// Count implements Probe.
func (p *LogProbe) Count(ctx context.Context, eventID string) (int, error) {
	if err := CheckProbeEventID(eventID); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, fl := range p.files {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := p.follow(fl); err != nil {
			return 0, err
		}
	}
	return p.counts[eventID], nil
}

// Close releases the open files.
func (p *LogProbe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, fl := range p.files {
		if fl.f != nil {
			_ = fl.f.Close()
			fl.f = nil
		}
	}
	return nil
}

// follow reads what fl's file gained since the last call.
func (p *LogProbe) follow(fl *followed) error {
	for {
		cur, err := os.Stat(fl.path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %w", ErrProbe, err)
		}
		if fl.f == nil {
			if cur == nil {
				return nil // not written yet
			}
			f, err := os.Open(fl.path)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil
				}
				return fmt.Errorf("%w: %w", ErrProbe, err)
			}
			fl.f, fl.off, fl.tail = f, 0, nil
		}
		open, err := fl.f.Stat()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrProbe, err)
		}
		if open.Size() < fl.off { // truncated in place
			fl.off, fl.tail = 0, nil
		}
		if err := p.readNew(fl); err != nil {
			return err
		}
		if cur == nil || os.SameFile(cur, open) {
			return nil
		}
		// Renamed away and replaced: the old file is read to its end, and
		// the loop opens the new one.
		p.flushTail(fl)
		_ = fl.f.Close()
		fl.f = nil
	}
}

// maxLogLine bounds a line kept while waiting for its newline.
const maxLogLine = 1 << 20

func (p *LogProbe) readNew(fl *followed) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := fl.f.ReadAt(buf, fl.off)
		if n > 0 {
			fl.off += int64(n)
			data := buf[:n]
			for {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					if len(fl.tail)+len(data) <= maxLogLine {
						fl.tail = append(fl.tail, data...)
					}
					break
				}
				line := data[:i]
				if len(fl.tail) > 0 {
					line = append(fl.tail, line...)
					fl.tail = nil
				}
				p.scan(line)
				data = data[i+1:]
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: reading %s: %w", ErrProbe, fl.path, err)
		}
	}
}

// flushTail counts a last line that will get no newline: its file was
// rotated away.
func (p *LogProbe) flushTail(fl *followed) {
	if len(fl.tail) > 0 {
		p.scan(fl.tail)
		fl.tail = nil
	}
}

func (p *LogProbe) scan(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if id, ok := p.match(line); ok {
		p.counts[id]++
	}
}

// lineMatcher returns the event_id a line marks as processed.
type lineMatcher func(line []byte) (eventID string, ok bool)

// ParseLogPattern compiles an --effects-match pattern. Three forms:
//
//	processed event_id={event_id}          literal text, found anywhere in the line
//	re:^\S+ INFO processed .*id={event_id}  an RE2 regular expression
//	json:msg=processed,event_id={event_id}  a JSON log line whose fields have these values
//
// {event_id} must appear exactly once; it matches an event_id (see
// CheckProbeEventID). In the json form the line is parsed from its first
// '{' (so a timestamp prefix is allowed), each key=value must hold (a key
// may be a dotted path into nested objects; values compare as text, and a
// value may embed {event_id}, as in key=evt:{event_id}); commas inside a
// value are written \,.
func ParseLogPattern(pattern string) (lineMatcher, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: effects.match (--effects-match): "+format, append([]any{ErrProbe}, a...)...)
	}
	switch {
	case strings.TrimSpace(pattern) == "":
		return nil, bad("empty pattern")
	case strings.HasPrefix(pattern, "json:"):
		return parseJSONPattern(strings.TrimPrefix(pattern, "json:"), bad)
	case strings.HasPrefix(pattern, "re:"):
		src := strings.TrimPrefix(pattern, "re:")
		if strings.Count(src, EventIDPlaceholder) != 1 {
			return nil, bad("the pattern must hold %s exactly once", EventIDPlaceholder)
		}
		re, err := regexp.Compile(strings.Replace(src, EventIDPlaceholder, `(?P<hookproof_event_id>`+eventIDChars+`)`, 1))
		if err != nil {
			return nil, bad("not a regular expression: %v", err)
		}
		return regexMatcher(re, re.SubexpIndex("hookproof_event_id")), nil
	default:
		if strings.Count(pattern, EventIDPlaceholder) != 1 {
			return nil, bad("the pattern must hold %s exactly once (write re:… for a regular expression, json:… for JSON lines)", EventIDPlaceholder)
		}
		before, after, _ := strings.Cut(pattern, EventIDPlaceholder)
		// An id is a whole token: no id character may come right before it
		// (when no literal text does) or right after it (when it ends the
		// pattern), so "id=ab" never counts for "id=abc".
		src := regexp.QuoteMeta(before) + `(` + eventIDChars + `)`
		if before == "" {
			src = `(?:^|[^A-Za-z0-9._:-])` + src
		}
		if after == "" {
			src += `(?:[^A-Za-z0-9_:-]|$)`
		} else {
			src += regexp.QuoteMeta(after)
		}
		return regexMatcher(regexp.MustCompile(src), 1), nil
	}
}

func regexMatcher(re *regexp.Regexp, group int) lineMatcher {
	return func(line []byte) (string, bool) {
		m := re.FindSubmatch(line)
		if m == nil || group >= len(m) || len(m[group]) == 0 {
			return "", false
		}
		return string(m[group]), true
	}
}

type jsonField struct {
	path []string
	// want is the exact text, or, for the field holding {event_id}, the
	// expression that extracts the id.
	want string
	id   *regexp.Regexp
}

func parseJSONPattern(spec string, bad func(string, ...any) error) (lineMatcher, error) {
	var fields []jsonField
	ids := 0
	for _, part := range splitUnescaped(spec, ',') {
		key, value, ok := strings.Cut(part, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, bad("json: %q is not key=value", part)
		}
		f := jsonField{path: strings.Split(key, "."), want: value}
		switch strings.Count(value, EventIDPlaceholder) {
		case 0:
		case 1:
			ids++
			before, after, _ := strings.Cut(value, EventIDPlaceholder)
			f.id = regexp.MustCompile(`^` + regexp.QuoteMeta(before) + `(` + eventIDChars + `)` + regexp.QuoteMeta(after) + `$`)
		default:
			return nil, bad("json: %s holds %s more than once", key, EventIDPlaceholder)
		}
		fields = append(fields, f)
	}
	if ids != 1 {
		return nil, bad("json: exactly one field must hold %s, e.g. json:msg=processed,event_id=%s", EventIDPlaceholder, EventIDPlaceholder)
	}
	return func(line []byte) (string, bool) {
		i := bytes.IndexByte(line, '{')
		if i < 0 {
			return "", false
		}
		dec := json.NewDecoder(bytes.NewReader(line[i:]))
		dec.UseNumber()
		var obj map[string]any
		if dec.Decode(&obj) != nil {
			return "", false
		}
		id := ""
		for _, f := range fields {
			v, ok := jsonText(obj, f.path)
			if !ok {
				return "", false
			}
			if f.id == nil {
				if v != f.want {
					return "", false
				}
				continue
			}
			m := f.id.FindStringSubmatch(v)
			if m == nil {
				return "", false
			}
			id = m[1]
		}
		return id, true
	}, nil
}

// jsonText is the value at path as text: strings as they are, numbers as
// written, true/false/null as in JSON; objects and arrays do not compare.
func jsonText(obj map[string]any, path []string) (string, bool) {
	var v any = obj
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[k]; !ok {
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return fmt.Sprint(x), true
	case nil:
		return "null", true
	}
	return "", false
}

// splitUnescaped splits s at sep, except where sep is written \sep.
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == sep:
			cur.WriteByte(sep)
			i++
		case s[i] == sep:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(parts, cur.String())
}
