package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxTokenRequestBytes bounds the form body: a client-credentials request is
// a few hundred bytes, and the issuer must not buffer whatever it is sent.
const maxTokenRequestBytes = 64 << 10

// basicRealm is the realm of the WWW-Authenticate challenge.
const basicRealm = `Basic realm="hookproof-oauth", charset="UTF-8"`

// tokenResponse is the RFC 6749 §5.1 success body.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// oauthError is the RFC 6749 §5.2 error body. Descriptions never quote a
// client secret or the Authorization header.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// clientAuth is how the client authenticated at the token endpoint.
type clientAuth int

const (
	authNone  clientAuth = iota
	authBasic            // client_secret_basic
	authPost             // client_secret_post
)

// tokenError is a refusal decided while handling a token request.
type tokenError struct {
	status      int
	code        string
	description string
	challenge   bool // add WWW-Authenticate: Basic
}

func (e *tokenError) Error() string { return e.code + ": " + e.description }

func invalidRequest(format string, args ...any) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: "invalid_request", description: fmt.Sprintf(format, args...)}
}

func (i *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	rec := TokenRequest{At: i.opts.Now(), Method: r.Method}
	defer func() { i.record(rec) }()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		rec.Status, rec.Error = http.StatusMethodNotAllowed, "invalid_request"
		writeOAuthError(w, &tokenError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "the token endpoint accepts POST only"})
		return
	}
	resp, err := i.handleToken(w, r, &rec)
	if err != nil {
		var te *tokenError
		if !errors.As(err, &te) {
			te = &tokenError{status: http.StatusInternalServerError, code: "server_error", description: "could not issue a token"}
		}
		rec.Status, rec.Error = te.status, te.code
		writeOAuthError(w, te)
		return
	}
	rec.Status, rec.Scope = http.StatusOK, resp.Scope
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// handleToken runs the client-credentials grant: parse, authenticate the
// client, then check grant type and scope. Authenticating before judging
// the grant tells an unauthenticated caller nothing about what we accept.
func (i *Server) handleToken(w http.ResponseWriter, r *http.Request, rec *TokenRequest) (*tokenResponse, error) {
	form, err := readForm(w, r)
	if err != nil {
		return nil, err
	}
	rec.GrantType = form.Get("grant_type")
	rec.ClientID, rec.AuthMethod = claimedClient(r, form)
	clientID, err := i.authenticateClient(r, form)
	if err != nil {
		return nil, err
	}
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return nil, invalidRequest("grant_type is required")
	default:
		return nil, &tokenError{status: http.StatusBadRequest, code: "unsupported_grant_type",
			description: fmt.Sprintf("grant_type %q is not supported; use client_credentials", gt)}
	}
	scope, err := i.grantScope(form.Get("scope"))
	if err != nil {
		return nil, err
	}
	token, err := i.issue(clientID, scope)
	if err != nil {
		return nil, err
	}
	i.issued.Add(1)
	return &tokenResponse{
		AccessToken: token,
		TokenType:   "Bearer",
		ExpiresIn:   int64(i.opts.TTL.Seconds()),
		Scope:       scope,
	}, nil
}

// readForm reads the form body only: RFC 6749 §2.3.1 forbids credentials in
// the query string, so the query is ignored rather than merged.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("Content-Type must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, invalidRequest("request body exceeds %d bytes", maxTokenRequestBytes)
		}
		return nil, invalidRequest("could not read the request body")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, invalidRequest("request body is not valid form encoding")
	}
	// RFC 6749 §3.2: parameters must not be repeated.
	for _, p := range []string{"grant_type", "scope", "client_id", "client_secret"} {
		if len(form[p]) > 1 {
			return nil, invalidRequest("parameter %s is repeated", p)
		}
	}
	return form, nil
}

// claimedClient reports who the request says it is and how it
// authenticates, for the record only: nothing here is verified.
func claimedClient(r *http.Request, form url.Values) (clientID, method string) {
	if user, _, ok := r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(user); err == nil {
			user = id
		}
		return user, "client_secret_basic"
	}
	if _, ok := form["client_secret"]; ok {
		return form.Get("client_id"), "client_secret_post"
	}
	return form.Get("client_id"), ""
}

// authenticateClient accepts client_secret_basic or client_secret_post, not
// both at once (RFC 6749 §2.3), and returns the authenticated client_id.
func (i *Server) authenticateClient(r *http.Request, form url.Values) (string, error) {
	fail := func(method clientAuth, desc string) error {
		// §5.2: a client that tried the Authorization header gets 401 with
		// a challenge; we also challenge clients that sent nothing at all.
		return &tokenError{status: http.StatusUnauthorized, code: "invalid_client",
			description: desc, challenge: method != authPost}
	}
	_, hasPostSecret := form["client_secret"]
	if r.Header.Get("Authorization") != "" {
		if hasPostSecret {
			return "", invalidRequest("use one client authentication method, not both the Authorization header and client_secret")
		}
		user, pass, ok := r.BasicAuth()
		if !ok {
			return "", fail(authBasic, "the Authorization header is not valid Basic credentials")
		}
		// §2.3.1: Basic credentials are form-urlencoded before base64.
		id, errID := url.QueryUnescape(user)
		secret, errSecret := url.QueryUnescape(pass)
		if errID != nil || errSecret != nil {
			return "", fail(authBasic, "Basic credentials are not form-urlencoded")
		}
		if formID := form.Get("client_id"); formID != "" && formID != id {
			return "", invalidRequest("client_id in the body does not match the Authorization header")
		}
		if i.checkSecret(id, secret) {
			return id, nil
		}
		// Clients such as curl -u send the raw secret; accept that too when
		// escaping changed it, so a '+' in a secret does not lock them out.
		if (id != user || secret != pass) && i.checkSecret(user, pass) {
			return user, nil
		}
		return "", fail(authBasic, "client authentication failed")
	}
	id := form.Get("client_id")
	if !hasPostSecret {
		return "", fail(authNone, "client authentication is required (Basic header or client_id and client_secret in the body)")
	}
	if id == "" {
		return "", fail(authPost, "client_id is required with client_secret")
	}
	if !i.checkSecret(id, form.Get("client_secret")) {
		return "", fail(authPost, "client authentication failed")
	}
	return id, nil
}

// checkSecret compares SHA-256 digests in constant time, so neither the
// secret's content nor its length, nor whether the client exists, shows in
// the timing.
func (i *Server) checkSecret(clientID, secret string) bool {
	want, known := i.opts.Clients[clientID]
	wantSum := sha256.Sum256([]byte(want.Reveal()))
	gotSum := sha256.Sum256([]byte(secret))
	match := subtle.ConstantTimeCompare(wantSum[:], gotSum[:]) == 1
	return known && match
}

// grantScope decides the granted scope: the requested scopes when all are
// allowed, or every allowed scope when none was requested.
func (i *Server) grantScope(requested string) (string, error) {
	var granted []string
	for _, s := range strings.Fields(requested) {
		if len(i.opts.Scopes) > 0 && !slices.Contains(i.opts.Scopes, s) {
			return "", &tokenError{status: http.StatusBadRequest, code: "invalid_scope",
				description: fmt.Sprintf("scope %q is not allowed", s)}
		}
		if !slices.Contains(granted, s) {
			granted = append(granted, s)
		}
	}
	if len(granted) == 0 {
		granted = i.opts.Scopes
	}
	return strings.Join(granted, " "), nil
}

func writeOAuthError(w http.ResponseWriter, e *tokenError) {
	if e.challenge {
		w.Header().Set("WWW-Authenticate", basicRealm)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, e.status, oauthError{Error: e.code, Description: e.description})
}
