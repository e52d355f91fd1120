package oauth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// maxJWKSBytes bounds the key set we read: a JWKS is a few KiB at most.
const maxJWKSBytes = 1 << 20

// errRefetchLimited means a refetch was due but the rate limit forbade it.
var errRefetchLimited = errors.New("JWKS refetch rate-limited")

// keyCache holds the issuer's RS256 keys by kid. It refetches when the keys
// are older than ttl or a kid is unknown, but never more often than every
// minInterval, so tokens with made-up kids cannot turn a receiver into a
// load generator against its issuer. At most one fetch runs at a time.
type keyCache struct {
	url         string
	client      *http.Client
	now         func() time.Time
	minInterval time.Duration
	ttl         time.Duration

	sem chan struct{} // one fetch at a time; a channel so waiters honour ctx

	mu          sync.RWMutex
	keys        map[string]*rsa.PublicKey
	fetchedAt   time.Time // last successful fetch
	attemptedAt time.Time // last attempt, successful or not
	attempted   bool
	generation  uint64 // bumped by every attempt
	lastErr     error
}

func newKeyCache(url string, client *http.Client, now func() time.Time, minInterval, ttl time.Duration) *keyCache {
	return &keyCache{url: url, client: client, now: now, minInterval: minInterval, ttl: ttl, sem: make(chan struct{}, 1)}
}

// key returns the public key for kid. Known but stale keys are still used
// when a refresh fails: an issuer outage should not reject tokens we could
// verify a minute ago.
func (c *keyCache) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	k, fresh, gen := c.lookup(kid)
	if k != nil && fresh {
		return k, nil
	}
	err := c.refresh(ctx, gen)
	if k, _, _ := c.lookup(kid); k != nil {
		return k, nil
	}
	c.mu.RLock()
	haveKeys := c.keys != nil
	lastErr := c.lastErr
	c.mu.RUnlock()
	switch {
	case errors.Is(err, errRefetchLimited) && !haveKeys:
		return nil, fmt.Errorf("%w: %w", ErrJWKSUnavailable, lastErr)
	case errors.Is(err, errRefetchLimited):
		return nil, fmt.Errorf("%w: no published key has kid %s (refetch rate-limited)", ErrTokenSignature, quoteShort(kid))
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("%w: %w", ErrJWKSUnavailable, ctx.Err())
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrJWKSUnavailable, err)
	default:
		return nil, fmt.Errorf("%w: no published key has kid %s", ErrTokenSignature, quoteShort(kid))
	}
}

// lookup returns the key for kid (nil if unknown), whether the set is
// fresh, and the generation it was read at.
func (c *keyCache) lookup(kid string) (*rsa.PublicKey, bool, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	fresh := c.keys != nil && c.now().Sub(c.fetchedAt) < c.ttl
	return c.keys[kid], fresh, c.generation
}

// refresh fetches the key set unless another caller attempted a fetch since
// generation seen (then its outcome stands) or the rate limit forbids it.
func (c *keyCache) refresh(ctx context.Context, seen uint64) error {
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.RLock()
	gen, attempted, attemptedAt, lastErr := c.generation, c.attempted, c.attemptedAt, c.lastErr
	c.mu.RUnlock()
	if gen != seen {
		return lastErr
	}
	if attempted && c.now().Sub(attemptedAt) < c.minInterval {
		return errRefetchLimited
	}
	keys, err := c.fetch(ctx)
	if err != nil && ctx.Err() != nil {
		// Our caller gave up; that says nothing about the issuer, so it
		// must not count against the rate limit for everyone else.
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	c.attempted = true
	c.attemptedAt = c.now()
	c.lastErr = err
	if err == nil {
		c.keys = keys
		c.fetchedAt = c.attemptedAt
	}
	return err
}

func (c *keyCache) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS: status %d", resp.StatusCode)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS exceeds %d bytes", maxJWKSBytes)
	}
	return parseJWKS(body)
}

// parseJWKS keeps the RSA signing keys that may verify RS256 and have a
// kid. Keys are decoded one by one so that one key of a type we do not know
// does not hide the others.
func parseJWKS(body []byte) (map[string]*rsa.PublicKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey)
	for _, r := range raw.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(r) != nil || k.KeyID == "" {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != string(jose.RS256) {
			continue
		}
		var pub *rsa.PublicKey
		switch key := k.Key.(type) {
		case *rsa.PublicKey:
			pub = key
		case *rsa.PrivateKey:
			pub = &key.PublicKey
		default:
			continue
		}
		if pub.N.BitLen() < rsaBits {
			continue
		}
		keys[k.KeyID] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS has no usable RS256 signing key")
	}
	return keys, nil
}

// quoteShort quotes attacker-supplied text for error messages, escaped and
// cut short so it cannot flood or forge log lines.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
