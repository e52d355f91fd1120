package harness

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// MinSecretLen is the shortest secret a Redactor replaces. Replacing a one-
// or two-character "secret" everywhere would garble every line of output
// while hiding nothing; such values are not secrets worth the name.
const MinSecretLen = 4

// jwtPattern matches JWT-shaped strings (header.payload.signature, the
// first two base64url JSON objects), which are bearer credentials wherever
// they appear, even when no one told the Redactor about them.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)

// Redactor is a run's one registry of secrets. It learns each secret as it
// comes into being (a configured password, a built Authorization value,
// every OAuth2 access token fetched) and replaces it, and every form it can
// take on the wire or in an echo, with Redacted in whatever passes through:
// console writers, error messages and reports. It is safe for concurrent
// use; a nil *Redactor scrubs nothing but JWTs.
type Redactor struct {
	mu       sync.RWMutex
	seen     map[string]bool // forms learned
	forms    []string
	replacer *strings.Replacer // nil: rebuild from forms
}

// NewRedactor returns a Redactor that knows secrets already.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{seen: map[string]bool{}}
	for _, s := range secrets {
		r.Learn(s)
	}
	return r
}

// Learn adds secret and its derived forms: base64 in both alphabets, with
// and without padding; URL query and path escaping (either hex case); JSON
// string escaping with and without HTML-safe and ASCII-only escapes; and
// HTML/XML escaping. Secrets shorter than MinSecretLen are ignored.
func (r *Redactor) Learn(secret string) {
	if r == nil || len(secret) < MinSecretLen {
		return
	}
	forms := SecretForms(secret)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range forms {
		if len(f) >= MinSecretLen && !r.seen[f] {
			r.seen[f] = true
			r.forms = append(r.forms, f)
			r.replacer = nil
		}
	}
}

// LearnBasic learns a Basic credential: the password alone and
// base64(user:password) as net/http and x/oauth2 (which query-escapes both
// halves first) build it.
func (r *Redactor) LearnBasic(user, password string) {
	if r == nil || len(password) < MinSecretLen {
		return
	}
	r.Learn(password)
	r.Learn(user + ":" + password)
	r.Learn(url.QueryEscape(user) + ":" + url.QueryEscape(password))
}

// LearnAuthorization learns an Authorization header value: the credential
// after its scheme word, and the whole value.
func (r *Redactor) LearnAuthorization(value string) {
	if r == nil {
		return
	}
	if scheme, cred, ok := strings.Cut(strings.TrimSpace(value), " "); ok && isSchemeWord(scheme) {
		r.Learn(strings.TrimSpace(cred))
		if strings.EqualFold(scheme, "basic") {
			if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
				if _, pw, ok := strings.Cut(string(dec), ":"); ok {
					r.Learn(pw)
				}
			}
		}
		return
	}
	r.Learn(value)
}

// Secrets returns the forms learned so far, longest first.
func (r *Redactor) Secrets() []string {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := append([]string(nil), r.forms...)
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func (r *Redactor) current() *strings.Replacer {
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep != nil {
		return rep
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.replacer == nil {
		forms := append([]string(nil), r.forms...)
		// Longest first, so a secret that contains another is replaced
		// whole instead of leaving its remainder behind.
		sort.SliceStable(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
		pairs := make([]string, 0, 2*len(forms))
		for _, f := range forms {
			pairs = append(pairs, f, Redacted)
		}
		r.replacer = strings.NewReplacer(pairs...)
	}
	return r.replacer
}

// Scrub returns s with every learned form, and every JWT-shaped string,
// replaced by Redacted.
func (r *Redactor) Scrub(s string) string {
	if r != nil {
		s = r.current().Replace(s)
	}
	if strings.Contains(s, "eyJ") {
		s = jwtPattern.ReplaceAllString(s, Redacted)
	}
	return s
}

// ScrubError returns err with a scrubbed message; it still unwraps to err,
// so errors.Is and errors.As see through it. A nil error stays nil, and an
// error whose text holds no secret is returned as it is.
func (r *Redactor) ScrubError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := r.Scrub(msg)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// SecretForms returns s and the encodings a secret commonly takes when it
// is sent or echoed back, s first.
func SecretForms(s string) []string {
	b := []byte(s)
	forms := []string{s,
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
	}
	for _, esc := range []string{
		url.QueryEscape(s), url.PathEscape(s), (&url.URL{Path: s}).EscapedPath(),
		strings.ReplaceAll(url.QueryEscape(s), "+", "%20"),
		(&url.URL{Fragment: s}).EscapedFragment(),
	} {
		forms = append(forms, esc, lowerHex(esc))
	}
	forms = append(forms, jsonForms(s)...)
	forms = append(forms, html.EscapeString(s),
		strings.ReplaceAll(html.EscapeString(s), "+", "&#43;"), // html/template escapes '+' too
		xmlEscape(s))
	return forms
}

// jsonForms are s inside a JSON string, as encoders write it: Go's with and
// without HTML-safe escapes, and ASCII-only ones (Python's default).
func jsonForms(s string) []string {
	var out []string
	for _, htmlSafe := range []bool{true, false} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(htmlSafe)
		if enc.Encode(s) == nil {
			out = append(out, strings.TrimSuffix(strings.TrimSuffix(buf.String(), "\n"), `"`)[1:])
		}
	}
	var a strings.Builder
	for _, c := range out[len(out)-1] {
		if c < utf8.RuneSelf {
			a.WriteRune(c)
			continue
		}
		if c > 0xFFFF {
			r1, r2 := utf16Pair(c)
			fmt.Fprintf(&a, `\u%04x\u%04x`, r1, r2)
			continue
		}
		fmt.Fprintf(&a, `\u%04x`, c)
	}
	ascii := a.String()
	out = append(out, ascii, strings.ReplaceAll(ascii, `/`, `\/`), upperU(ascii))
	return out
}

func utf16Pair(c rune) (rune, rune) {
	c -= 0x10000
	return 0xD800 + (c>>10)&0x3FF, 0xDC00 + c&0x3FF
}

// upperU upper-cases the hex digits of \uXXXX escapes.
func upperU(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+6 <= len(s) && s[i+1] == 'u' {
			b.WriteString(`\u` + strings.ToUpper(s[i+2:i+6]))
			i += 5
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// lowerHex lower-cases the hex digits of %XX escapes.
func lowerHex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+3 <= len(s) {
			b.WriteString("%" + strings.ToLower(s[i+1:i+3]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Writer returns w with every line scrubbed before it reaches w. Output is
// held back until a newline or carriage return (so a secret split across two writes is still
// caught) or until Flush; call Flush when the writer's user is done.
func (r *Redactor) Writer(w io.Writer) *ScrubWriter {
	return &ScrubWriter{r: r, w: w}
}

// ScrubWriter is Redactor.Writer's writer; it is safe for concurrent use.
type ScrubWriter struct {
	r   *Redactor
	w   io.Writer
	mu  sync.Mutex
	buf []byte
}

// maxHeldLine bounds what a ScrubWriter holds back waiting for a newline:
// beyond it the line is scrubbed and written in pieces, keeping enough of
// the tail back that a secret across the cut is still seen whole.
const maxHeldLine = 64 << 10

// Write implements io.Writer.
func (s *ScrubWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	// A carriage return ends a line too: live progress lines redraw with it.
	if i := bytes.LastIndexAny(s.buf, "\n\r"); i >= 0 {
		if err := s.emit(s.buf[:i+1]); err != nil {
			return 0, err
		}
		s.buf = append(s.buf[:0], s.buf[i+1:]...)
	}
	if len(s.buf) > maxHeldLine {
		keep := min(len(s.buf), 4<<10)
		cut := len(s.buf) - keep
		for cut > 0 && !utf8.RuneStart(s.buf[cut]) {
			cut--
		}
		if err := s.emit(s.buf[:cut]); err != nil {
			return 0, err
		}
		s.buf = append(s.buf[:0], s.buf[cut:]...)
	}
	return len(p), nil
}

func (s *ScrubWriter) emit(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := io.WriteString(s.w, s.r.Scrub(string(b)))
	return err
}

// Flush writes what is held back.
func (s *ScrubWriter) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.emit(s.buf)
	s.buf = s.buf[:0]
	return err
}

// Fd lets colour detection see the terminal behind the writer.
func (s *ScrubWriter) Fd() uintptr {
	if f, ok := s.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

// Unwrap returns the writer s writes to.
func (s *ScrubWriter) Unwrap() io.Writer { return s.w }
