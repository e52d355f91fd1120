package harness

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// sensitiveHeaders are redacted whatever their value looks like.
var sensitiveHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key"}

// sensitiveWords mark a header name, or a URL query parameter, as carrying
// a credential.
var sensitiveWords = []string{"token", "secret", "key", "password", "passwd", "auth", "signature", "session"}

// IsSensitiveName reports whether a header or query parameter name marks a
// credential.
func IsSensitiveName(name string) bool {
	if slices.Contains(sensitiveHeaders, http.CanonicalHeaderKey(name)) {
		return true
	}
	lower := strings.ToLower(name)
	for _, w := range sensitiveWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// RedactHeaders flattens h for evidence, redacting the value of every
// credential-bearing header (Authorization, Proxy-Authorization, Cookie,
// Set-Cookie, X-Api-Key, and any name containing token, secret, key,
// password, auth, signature or session). The auth scheme word is kept
// ("Bearer [REDACTED]"), so a reader can still see which scheme was sent;
// an empty value stays empty, since its emptiness is the evidence (AUTH-04).
func RedactHeaders(h http.Header) map[string]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string]string, len(h))
	for name, vals := range h {
		if !IsSensitiveName(name) {
			out[name] = strings.Join(vals, ", ")
			continue
		}
		red := make([]string, len(vals))
		for i, v := range vals {
			red[i] = redactValue(name, v)
		}
		out[name] = strings.Join(red, ", ")
	}
	return out
}

func redactValue(name, v string) string {
	if strings.TrimSpace(v) == "" {
		return v
	}
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "Proxy-Authorization":
		trimmed := strings.TrimSpace(v)
		if scheme, _, ok := strings.Cut(trimmed, " "); ok && isSchemeWord(scheme) {
			return scheme + " " + Redacted
		}
		// A bare scheme with no credential ("Bearer ") carries nothing
		// secret, and is the evidence AUTH-04 needs. Only well-known
		// scheme names qualify: any other lone word may be a credential.
		if slices.Contains(knownSchemes, strings.ToLower(trimmed)) {
			return v
		}
	}
	return Redacted
}

// knownSchemes are HTTP auth schemes a bare value may name.
var knownSchemes = []string{"basic", "bearer", "digest", "dpop", "negotiate", "ntlm", "token"}

// isSchemeWord reports whether s looks like an auth scheme (Basic, Bearer,
// Digest, DPoP...), not like a credential that happens to precede a space.
func isSchemeWord(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// RedactURL returns raw with its userinfo password and the values of
// credential-bearing query parameters (token, access_token, api_key,
// secret...) redacted, for printing. A string that does not parse as a URL
// is returned unchanged: Scrub still removes known secrets from it.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	changed := false
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Redacted)
		} else {
			// A lone userinfo is how tokens ride in URLs (https://TOKEN@host).
			u.User = url.User(Redacted)
		}
		changed = true
	}
	if u.RawQuery != "" {
		q := u.Query()
		for name, vals := range q {
			if IsSensitiveName(name) {
				for i := range vals {
					vals[i] = Redacted
				}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !changed {
		return raw
	}
	// Unescape the brackets so "[REDACTED]" reads as itself, as
	// url.URL.Redacted prints it.
	return strings.NewReplacer("%5BREDACTED%5D", Redacted).Replace(u.String())
}

// RedactHeaderValue returns value as RedactHeaders would print it under name.
func RedactHeaderValue(name, value string) string {
	if !IsSensitiveName(name) {
		return value
	}
	return redactValue(name, value)
}

// SortedHeaderNames returns the keys of a redacted header map in order, for
// stable output.
func SortedHeaderNames(h map[string]string) []string {
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
