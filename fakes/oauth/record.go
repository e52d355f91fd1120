package oauth

import (
	"slices"
	"time"
)

// maxRecorded bounds the token-request log; a fake must not grow without
// limit under a load test.
const maxRecorded = 1000

// TokenRequest records one request to the token endpoint, for evidence and
// assertions. It never holds the client secret.
type TokenRequest struct {
	At     time.Time
	Method string // HTTP method
	// ClientID is the client the request claimed to be, authenticated or not.
	ClientID string
	// AuthMethod is client_secret_basic, client_secret_post or empty.
	AuthMethod string
	GrantType  string
	Scope      string // granted scope, on success
	Status     int
	Error      string // RFC 6749 error code; empty on success
}

// TokenRequests returns a copy of the recorded token requests, oldest
// first (at most the last 1000).
func (i *Server) TokenRequests() []TokenRequest {
	i.recMu.Lock()
	defer i.recMu.Unlock()
	return slices.Clone(i.requests)
}

func (i *Server) record(r TokenRequest) {
	i.recMu.Lock()
	defer i.recMu.Unlock()
	if len(i.requests) >= maxRecorded {
		i.requests = slices.Delete(i.requests, 0, len(i.requests)-maxRecorded+1)
	}
	i.requests = append(i.requests, r)
}
