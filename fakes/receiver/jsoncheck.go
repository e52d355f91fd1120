package receiver

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Limits of the JSON scan. RiskOS envelopes nest about ten levels deep, so
// 128 leaves room for any legitimate data while stopping the stack-depth
// attacks of golang/go#31789 long before encoding/json's own 10 000.
const (
	maxDepth    = 128
	hugeString  = 64 << 10 // bytes in one string
	hugeArray   = 10000    // elements in one array
	maxKeyBytes = 4 << 10  // longer keys are decoded only for the hostile verdict
)

// scanResult is the verdict of checkJSON on a syntactically valid body.
type scanResult struct {
	// hostile names the first feature no legitimate sender produces:
	// nesting past maxDepth, invalid UTF-8, a lone surrogate escape, a
	// duplicate object key. The compliant receiver rejects it with 400.
	hostile string
	// huge names a string or array past the huge thresholds: legitimate
	// JSON that a careless receiver chokes on, so it is accepted when
	// compliant and only the hostile-JSON fault trips on it.
	huge string
}

// errMalformed wraps every syntax error from checkJSON.
var errMalformed = errors.New("malformed JSON")

// checkJSON validates b as one JSON value (RFC 8259, optional leading BOM)
// without recursion, so no input can exhaust the stack, and classifies what
// a lenient decoder would silently accept. A syntax error takes precedence
// over hostility, so that malformed bodies get the same 400 in every mode.
func checkJSON(b []byte) (scanResult, error) {
	s := scanner{b: b}
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		s.i = 3
	}
	if err := s.run(); err != nil {
		return scanResult{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return s.res, nil
}

type frame struct {
	obj  bool
	n    int                 // elements or members so far
	keys map[string]struct{} // nil beyond maxDepth (already hostile)
}

type scanner struct {
	b     []byte
	i     int
	stack []frame // at most maxDepth frames
	// deep holds containers past maxDepth one byte each ('{' or '['), so a
	// body of nothing but '[' costs one byte of memory per input byte.
	deep []byte
	res  scanResult
}

func (s *scanner) depth() int { return len(s.stack) + len(s.deep) }

func (s *scanner) push(obj bool) {
	if len(s.stack) >= maxDepth {
		s.hostile("nesting deeper than %d", maxDepth)
		c := byte('[')
		if obj {
			c = '{'
		}
		s.deep = append(s.deep, c)
		return
	}
	f := frame{obj: obj}
	if obj {
		f.keys = map[string]struct{}{}
	}
	s.stack = append(s.stack, f)
}

func (s *scanner) pop() {
	if len(s.deep) > 0 {
		s.deep = s.deep[:len(s.deep)-1]
		return
	}
	s.stack = s.stack[:len(s.stack)-1]
}

// top returns whether the innermost container is an object, and its frame
// (nil past maxDepth).
func (s *scanner) top() (bool, *frame) {
	if len(s.deep) > 0 {
		return s.deep[len(s.deep)-1] == '{', nil
	}
	f := &s.stack[len(s.stack)-1]
	return f.obj, f
}

func (s *scanner) hostile(format string, a ...any) {
	if s.res.hostile == "" {
		s.res.hostile = fmt.Sprintf(format, a...)
	}
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// run is a pushdown automaton: after every value it pops back to the
// innermost open container to decide what may follow.
func (s *scanner) run() error {
	for {
		// Expect a value.
		s.ws()
		if s.i >= len(s.b) {
			return errors.New("unexpected end of input")
		}
		switch c := s.b[s.i]; c {
		case '{', '[':
			s.i++
			obj := c == '{'
			s.push(obj)
			s.ws()
			if s.i < len(s.b) && (obj && s.b[s.i] == '}' || !obj && s.b[s.i] == ']') {
				s.i++
				s.pop()
				break
			}
			if obj {
				if err := s.key(); err != nil {
					return err
				}
			}
			continue
		case '"':
			if err := s.str(); err != nil {
				return err
			}
		case 't':
			if err := s.lit("true"); err != nil {
				return err
			}
		case 'f':
			if err := s.lit("false"); err != nil {
				return err
			}
		case 'n':
			if err := s.lit("null"); err != nil {
				return err
			}
		default:
			if err := s.num(); err != nil {
				return err
			}
		}
		// A value ended: close containers until one takes another element.
		for {
			s.ws()
			if s.depth() == 0 {
				if s.i != len(s.b) {
					return fmt.Errorf("trailing data at offset %d", s.i)
				}
				return nil
			}
			obj, f := s.top()
			if f != nil {
				f.n++
				if !obj && f.n == hugeArray+1 && s.res.huge == "" {
					s.res.huge = fmt.Sprintf("array longer than %d elements", hugeArray)
				}
			}
			if s.i >= len(s.b) {
				return errors.New("unexpected end of input")
			}
			closer := byte(']')
			if obj {
				closer = '}'
			}
			switch s.b[s.i] {
			case ',':
				s.i++
				if obj {
					s.ws()
					if err := s.key(); err != nil {
						return err
					}
				}
			case closer:
				s.i++
				s.pop()
				continue
			default:
				return fmt.Errorf("unexpected %q at offset %d", s.b[s.i], s.i)
			}
			break
		}
	}
}

// key reads `"name" :` in the innermost object and records the name.
func (s *scanner) key() error {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return fmt.Errorf("object key expected at offset %d", s.i)
	}
	start := s.i
	if err := s.str(); err != nil {
		return err
	}
	_, top := s.top()
	if top != nil && s.i-start <= maxKeyBytes {
		var name string
		// The raw key is valid JSON by now; Unmarshal resolves escapes so
		// "a" and "\u0061" collide as they would for any decoder.
		if err := json.Unmarshal(s.b[start:s.i], &name); err == nil {
			if _, dup := top.keys[name]; dup {
				s.hostile("duplicate key %q", truncate(name, 40))
			}
			top.keys[name] = struct{}{}
		}
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return fmt.Errorf("':' expected at offset %d", s.i)
	}
	s.i++
	return nil
}

// str reads a string starting at the opening quote.
func (s *scanner) str() error {
	start := s.i
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if n := s.i - start; n > hugeString && s.res.huge == "" {
				s.res.huge = fmt.Sprintf("string longer than %d bytes", hugeString)
			}
			return nil
		case c < 0x20:
			return fmt.Errorf("control character in string at offset %d", s.i)
		case c == '\\':
			if err := s.escape(); err != nil {
				return err
			}
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size <= 1 {
				s.hostile("invalid UTF-8 at offset %d", s.i)
				size = 1
			}
			s.i += size
		}
	}
	return errors.New("unterminated string")
}

func (s *scanner) escape() error {
	if s.i+1 >= len(s.b) {
		return errors.New("unterminated escape")
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i += 2
		return nil
	case 'u':
	default:
		return fmt.Errorf("invalid escape at offset %d", s.i)
	}
	u, ok := s.hex4(s.i + 2)
	if !ok {
		return fmt.Errorf("invalid \\u escape at offset %d", s.i)
	}
	at := s.i
	s.i += 6
	switch {
	case u >= 0xDC00 && u <= 0xDFFF:
		s.hostile("lone surrogate escape at offset %d", at)
	case u >= 0xD800 && u <= 0xDBFF:
		if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
			if lo, ok := s.hex4(s.i + 2); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				s.i += 6
				return nil
			}
		}
		s.hostile("lone surrogate escape at offset %d", at)
	}
	return nil
}

func (s *scanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (s *scanner) lit(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return fmt.Errorf("invalid literal at offset %d", s.i)
	}
	s.i += len(word)
	return nil
}

// num reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) num() error {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return fmt.Errorf("invalid value at offset %d", start)
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return fmt.Errorf("invalid number at offset %d", start)
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return fmt.Errorf("invalid number at offset %d", start)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
