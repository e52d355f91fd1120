package harness

import (
	"net/http"
	"testing"
)

func TestRedactHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer tok-123")
	h.Set("X-Api-Key", "k-456")
	h.Set("X-Webhook-Token", "t-789")
	h.Set("Content-Type", "application/json")
	h.Set("Cookie", "session=abc")
	got := RedactHeaders(h)
	want := map[string]string{
		"Authorization":   "Bearer [REDACTED]",
		"X-Api-Key":       "[REDACTED]",
		"X-Webhook-Token": "[REDACTED]",
		"Content-Type":    "application/json",
		"Cookie":          "[REDACTED]",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("RedactHeaders()[%s] = %q; want %q", k, got[k], v)
		}
	}
	if v := RedactHeaderValue("Authorization", "opaque"); v != Redacted {
		t.Errorf("scheme-less Authorization = %q; want %q", v, Redacted)
	}
}
