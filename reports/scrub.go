package reports

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"

	"github.com/hookproof/hookproof/harness"
)

// MinSecretLen is the shortest secret Scrub replaces (harness.MinSecretLen).
const MinSecretLen = harness.MinSecretLen

// Scrub replaces, in every string of r (reasons, evidence, headers, URLs,
// notes, map keys, and the config snapshot), each secret with
// harness.Redacted, together with its standard and URL-safe base64
// encodings and its URL-escaped forms; a secret given as "user:password"
// is therefore caught inside a Basic header too. Secrets shorter than
// MinSecretLen are ignored. JWT-shaped strings are redacted whatever the
// list holds, and URLs in Target and evidence requests go through harness.RedactURL.
//
// Scrub is the last step before rendering: it is idempotent, and renderers
// do not scrub again, so a Report built without it can leak.
func Scrub(r *Report, secrets []string) {
	ScrubWith(r, harness.NewRedactor(secrets...))
}

// ScrubWith is Scrub with the run's Redactor, which knows every secret and
// derived form the run learned (each OAuth2 token fetched, each
// Authorization value built), not only the configured ones.
func ScrubWith(r *Report, red *harness.Redactor) {
	if r == nil {
		return
	}
	s := &scrubber{red: red}
	r.Target = harness.RedactURL(r.Target)
	for i := range r.Requirements {
		for j := range r.Requirements[i].Evidence {
			if req := r.Requirements[i].Evidence[j].Request; req != nil {
				req.URL = harness.RedactURL(req.URL)
			}
		}
	}
	if r.Config != nil {
		if b, err := json.Marshal(r.Config); err == nil {
			if clean, err := s.json(b); err == nil {
				r.Config = json.RawMessage(clean)
			} else {
				r.Config = nil
			}
		} else {
			// A config that cannot be marshalled cannot be checked for
			// secrets either: leave it out rather than risk a leak.
			r.Config = nil
		}
	}
	cfg := r.Config
	r.Config = nil
	s.walk(reflect.ValueOf(r).Elem())
	r.Config = cfg
}

type scrubber struct {
	red *harness.Redactor
}

func (s *scrubber) string(v string) string { return s.red.Scrub(v) }

// walk scrubs every string reachable from v in place. Map keys are
// scrubbed too (a header name or event type could carry a secret).
func (s *scrubber) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(s.string(v.String()))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			e := v.Elem()
			if v.Kind() == reflect.Interface {
				// Values inside an interface are not addressable: scrub a
				// copy and put it back.
				c := reflect.New(e.Type()).Elem()
				c.Set(e)
				s.walk(c)
				if v.CanSet() {
					v.Set(c)
				}
				return
			}
			s.walk(e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				s.walk(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // raw bytes are not text the report renders
		}
		for i := range v.Len() {
			s.walk(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(iter.Key())
			s.walk(k)
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(iter.Value())
			s.walk(e)
			out.SetMapIndex(k, e)
		}
		if v.CanSet() {
			v.Set(out)
		}
	}
}

// json rewrites a JSON document token by token with every string (keys
// included) scrubbed, keeping key order, so the config snapshot reads in
// the order its struct declares.
func (s *scrubber) json(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var out bytes.Buffer
	// needComma[i] says whether the container at depth i already holds a
	// member; isObj[i] whether it is an object; afterKey[i] whether the
	// last token written in that object was a key, so a value follows.
	var needComma, isObj, afterKey []bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		d := len(needComma) - 1
		closing := tok == json.Delim('}') || tok == json.Delim(']')
		if d >= 0 && !closing {
			switch {
			case isObj[d] && afterKey[d]:
				out.WriteByte(':')
				afterKey[d] = false
			default:
				if needComma[d] {
					out.WriteByte(',')
				}
				needComma[d] = true
				afterKey[d] = isObj[d]
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			out.WriteRune(rune(t))
			switch t {
			case '{', '[':
				needComma = append(needComma, false)
				isObj = append(isObj, t == '{')
				afterKey = append(afterKey, false)
			default:
				needComma, isObj, afterKey = needComma[:d], isObj[:d], afterKey[:d]
			}
		case string:
			// Encode without HTML escaping so the snapshot reads as the
			// rest of report.json does (WriteJSON does not escape either).
			var sb bytes.Buffer
			enc := json.NewEncoder(&sb)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(s.string(t)); err != nil {
				return nil, err
			}
			out.Write(bytes.TrimSuffix(sb.Bytes(), []byte("\n")))
		case json.Number:
			out.WriteString(t.String())
		case bool:
			out.WriteString(map[bool]string{true: "true", false: "false"}[t])
		case nil:
			out.WriteString("null")
		}
	}
}
