package transport

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// TokenFunc logs in and returns a fresh token and the time it expires (zero when unknown).
type TokenFunc func(ctx context.Context) (token string, expires time.Time, err error)

// DefaultTokenLifetime is assumed for a token whose expiry is unknown (JovePay documents 5 min).
const DefaultTokenLifetime = 5 * time.Minute

// DefaultRefreshSkew is how long before expiry a cached token is replaced.
const DefaultRefreshSkew = 30 * time.Second

// TokenCache caches a login token, refreshes it shortly before it expires, and makes sure that
// however many goroutines need a token at once, only one login runs: the others wait for its
// result (or for their own context).
type TokenCache struct {
	fetch TokenFunc
	skew  time.Duration
	now   func() time.Time

	mu       sync.Mutex
	token    string
	expires  time.Time
	inflight *tokenCall
}

type tokenCall struct {
	done  chan struct{}
	token string
	err   error
}

// NewTokenCache returns a cache around fetch. skew <= 0 means DefaultRefreshSkew; now nil means
// time.Now.
func NewTokenCache(fetch TokenFunc, skew time.Duration, now func() time.Time) *TokenCache {
	if skew <= 0 {
		skew = DefaultRefreshSkew
	}
	if now == nil {
		now = time.Now
	}
	return &TokenCache{fetch: fetch, skew: skew, now: now}
}

// Token returns the cached token, or logs in when there is none or it expires within the skew.
func (c *TokenCache) Token(ctx context.Context) (string, error) {
	for {
		c.mu.Lock()
		if c.token != "" && c.now().Add(c.skew).Before(c.expires) {
			t := c.token
			c.mu.Unlock()
			return t, nil
		}
		call := c.inflight
		if call == nil {
			call = &tokenCall{done: make(chan struct{})}
			c.inflight = call
			c.mu.Unlock()
			c.login(ctx, call)
			return call.token, call.err
		}
		c.mu.Unlock()
		select {
		case <-call.done:
			if call.err == nil {
				return call.token, nil
			}
			// The leader's login failed; if it failed because the leader's own context ended,
			// try again under ours rather than inheriting a cancellation that is not ours.
			if errors.Is(call.err, context.Canceled) || errors.Is(call.err, context.DeadlineExceeded) {
				if ctx.Err() == nil {
					continue
				}
			}
			return "", call.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

func (c *TokenCache) login(ctx context.Context, call *tokenCall) {
	// Publish the result from a deferred function so that waiters are released (with an error)
	// even if fetch panics.
	var (
		tok string
		exp time.Time
		err = errors.New("login did not return")
	)
	defer func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		defer close(call.done)
		c.inflight = nil
		if err != nil {
			call.err = err
			return
		}
		if exp.IsZero() {
			exp = c.now().Add(DefaultTokenLifetime)
		}
		c.token, c.expires = tok, exp
		call.token = tok
	}()
	tok, exp, err = c.fetch(ctx)
	if err == nil && tok == "" {
		err = errors.New("login returned an empty token")
	}
}

// Invalidate forgets token if it is still the cached one (a 401 said it is no longer valid), so
// the next Token logs in again. A token already replaced by a newer login is left alone.
func (c *TokenCache) Invalidate(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token, c.expires = "", time.Time{}
	}
}

// current returns the cached token without logging in.
func (c *TokenCache) current() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

type bearerCache struct{ cache *TokenCache }

// BearerToken returns an Auth that sends "Authorization: Bearer <token>" from cache and, on a
// 401, invalidates that token so the transport's single re-auth retry logs in again.
func BearerToken(cache *TokenCache) Auth { return bearerCache{cache: cache} }

func (b bearerCache) Apply(ctx context.Context, req *http.Request) error {
	tok, err := b.cache.Token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

func (b bearerCache) Refresh(req *http.Request) bool {
	tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return false
	}
	b.cache.Invalidate(tok)
	return true
}

func (b bearerCache) Secrets() []string {
	if t := b.cache.current(); t != "" {
		return []string{t}
	}
	return nil
}
