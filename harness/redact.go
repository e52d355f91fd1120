package harness

import (
	"net/http"
	"sort"
	"strings"
)

// sensitiveHeader reports whether a header may carry a credential.
func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, w := range []string{"token", "secret", "password", "api-key", "apikey", "auth"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// RedactHeaderValue returns value, redacted if the header may carry a
// credential. The auth scheme is kept ("Bearer [REDACTED]") because it is
// evidence (AUTH-03 checks the scheme), the credential is not.
func RedactHeaderValue(name, value string) string {
	if !sensitiveHeader(name) || value == "" {
		return value
	}
	if scheme, _, ok := strings.Cut(value, " "); ok && (strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Proxy-Authorization")) {
		return scheme + " " + Redacted
	}
	return Redacted
}

// RedactHeaders returns a flat, redacted copy of h with canonical names,
// multiple values joined by ", ".
func RedactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, vs := range h {
		red := make([]string, len(vs))
		for i, v := range vs {
			red[i] = RedactHeaderValue(name, v)
		}
		out[http.CanonicalHeaderKey(name)] = strings.Join(red, ", ")
	}
	return out
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
