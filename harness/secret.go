package harness

import (
	"encoding/json"
	"log/slog"
)

// Redacted is what a Secret prints as, wherever it is printed.
const Redacted = "[REDACTED]"

// Secret holds a password, token or client secret. It prints, logs and
// marshals as Redacted so that no accidental fmt, slog or json call can leak
// it; only Reveal returns the value, and only code that puts it on the wire
// should call it.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString implements fmt.GoStringer so %#v does not leak either.
func (s Secret) GoString() string { return `harness.Secret("` + s.String() + `")` }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText implements encoding.TextMarshaler (used by YAML and slog's text handler).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
