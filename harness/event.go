package harness

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Event is one generated RiskOS webhook event: its envelope fields and the
// exact JSON body to POST. ID, Type and At repeat what the body says, so that
// callers can label, index and log an event without parsing the body.
type Event struct {
	// ID is the body's event_id.
	ID string
	// Type is the body's event_type.
	Type string
	// At is the body's event_at, to the precision the body gives it.
	At time.Time
	// Body is the JSON object sent as the request body.
	Body []byte
}

// The appenders below write JSON fragments without encoding/json: the load
// path generates hundreds of thousands of bodies per second and reflection
// would dominate its profile.

const hexDigits = "0123456789abcdef"

// appendUUIDv4 writes hi|lo as a quoted RFC 9562 version 4 UUID, forcing the
// version and variant bits so the result is a well-formed v4 whatever the
// random bits were.
func appendUUIDv4(dst []byte, hi, lo uint64) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	dst = append(dst, '"')
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return append(dst, '"')
}

var pow10 = [10]int32{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// truncNanos drops the nanosecond digits a timestamp with the given number
// of fractional digits cannot show, so that Event.At equals the parsed
// event_at exactly.
func truncNanos(nsec int32, digits int) int32 {
	p := pow10[9-digits]
	return nsec / p * p
}

// appendTimestamp writes a quoted RFC 3339 UTC timestamp with exactly digits
// (0..9) fractional digits, trailing zeros kept: RiskOS sends ".120Z" as
// readily as ".12Z", and receivers must accept both.
func appendTimestamp(dst []byte, sec int64, nsec int32, digits int) []byte {
	t := time.Unix(sec, 0).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append(dst, '"')
	dst = appendDigits(dst, y, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(mo), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, d, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, h, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, mi, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, s, 2)
	if digits > 0 {
		dst = append(dst, '.')
		dst = appendDigits(dst, int(nsec/pow10[9-digits]), digits)
	}
	return append(dst, 'Z', '"')
}

// appendDigits writes the non-negative v zero-padded to width digits.
func appendDigits(dst []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for ; width > 0 || v > 0; width-- {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[i:]...)
}

// appendJSONString writes s as a quoted JSON string. It escapes what RFC 8259
// requires (quote, backslash, control characters), replaces invalid UTF-8
// with U+FFFD as encoding/json does, and escapes U+2028 and U+2029 so that
// the body is also safe to embed in JavaScript.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0x0f])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0x0f])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// parseJSON decodes exactly one JSON document into the generic form the
// schema validator walks (map[string]any, []any, string, json.Number, bool,
// nil). Its callers (capture, replay, tests) validate a few events at a
// time, so the standard decoder's cost does not matter. Errors give the byte
// offset of the first byte that cannot be valid JSON.
func parseJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			// Offset counts the bytes read, the offending one included.
			return nil, malformedJSON(se.Offset-1, err.Error())
		case errors.Is(err, io.EOF) && len(bytes.TrimLeft(b, jsonSpace)) == 0:
			return nil, malformedJSON(int64(len(b)), "empty body")
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, malformedJSON(int64(len(b)), "unexpected end of input")
		default:
			return nil, malformedJSON(dec.InputOffset(), err.Error())
		}
	}
	end := dec.InputOffset()
	if rest := bytes.TrimLeft(b[end:], jsonSpace); len(rest) > 0 {
		return nil, malformedJSON(int64(len(b)-len(rest)), "data after the top-level value")
	}
	return v, nil
}

const jsonSpace = " \t\r\n"

func malformedJSON(offset int64, what string) error {
	return fmt.Errorf("malformed JSON at byte offset %d: %s", offset, what)
}
