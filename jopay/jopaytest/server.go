// Package jopaytest is an in-process fake of the JoPay Partner API v1 for tests and examples,
// in the spirit of net/http/httptest.
//
// The fake is stateful and enforces the documented rules: Bearer auth with sandbox/production
// isolation, scopes, the create-request validation codes in JoPay's {"ok":false,"error":…}
// envelope, idempotent replay (same key and body → the original request; same key, other body
// → 409 idempotency_conflict), expiry (pos 1 hour, invoice 7 days, expiry_minutes) on an
// injectable clock, cancel, and GET /requests with filters, since/until, limit and has_more
// (optionally next_cursor, optionally exclusive since). Lifecycle helpers (AttachProof,
// VerifyProof, Pay, Expire) change state and deliver correctly signed webhooks to the URL set
// with SetWebhook, retrying 5xx/429 the way JoPay does. Each helper returns once the delivery
// finished, with its record (a *Delivery; every one is kept in Deliveries). Fault injection:
// FailNext, DropNext, LoseResponseNext, SetLatency, AddFault. Every call is logged (Calls,
// CountCalls, ResetCalls).
//
//	srv := jopaytest.NewServer()
//	defer srv.Close()
//	client, _ := srv.NewClient() // DefaultAPIKey, srv.BaseURL, short retry waits, no rate limit
package jopaytest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/paykit-go/paykit/internal/fakeserver"
	"github.com/paykit-go/paykit/jopay"
)

// Credentials and ids every fake server starts with.
const (
	// DefaultAPIKey is the sandbox key with every scope that the server accepts and NewClient
	// uses, unless WithAPIKey sets another.
	DefaultAPIKey = "jo_test_fake_5f0c8a3e9b1d4c7a"
	// LiveAPIKey is a production key with every scope; it sees production data only.
	LiveAPIKey = "jo_live_fake_2b6e1f9d0a4c8e3b"
	// DefaultMerchantID is an onboarded merchant present in both modes.
	DefaultMerchantID = "b4d5c6e7-1f20-4a3b-8c4d-5e6f70819203"
	// PartnerID is the partner all keys belong to; webhooks carry it.
	PartnerID = "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f"
	// WebhookSecret is a 64-hex-character secret, as JoPay shows them, for SetWebhook.
	WebhookSecret = "7d1e4f0a9c2b8d5e3f6a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e"
)

// Scopes of Partner API keys, for WithAdditionalAPIKey.
const (
	// ScopeRequestsRead allows GET /requests and GET /requests/{id}.
	ScopeRequestsRead = "requests:read"
	// ScopeRequestsWrite allows POST /requests/create and POST /requests/{id}/cancel.
	ScopeRequestsWrite = "requests:write"
	// ScopeMerchantsRead allows GET /merchants and GET /merchants/{id}.
	ScopeMerchantsRead = "merchants:read"
	// ScopeMerchantsWrite allows POST /merchants.
	ScopeMerchantsWrite = "merchants:write"
)

// Server is a running fake Partner API on 127.0.0.1. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's root, "http://127.0.0.1:<port>"; pay pages live at URL + "/pay/<id>".
	URL string
	// BaseURL is the API base URL, URL + "/api/v1": pass it to jopay.WithBaseURL.
	BaseURL string

	hs     *httptest.Server
	faults fakeserver.Faults
	calls  fakeserver.CallLog
	apiKey string

	mu          sync.Mutex
	keys        map[string]*apiKey
	spaces      map[jopay.Mode]*space
	clock       func() time.Time
	offset      time.Duration
	currency    string
	usdcPerUnit int64
	nextCursor  bool
	exclusive   bool
	precision   time.Duration
	generated   *generated
	webhookURL  string
	secret      string
	deliverer   fakeserver.Deliverer
	deliveries  []*Delivery
	seq         int64
}

type apiKey struct {
	mode    jopay.Mode
	scopes  map[string]bool // nil: unrestricted
	revoked bool
}

// Option configures NewServer.
type Option func(*Server)

// WithAPIKey makes the server accept key, with every scope, instead of DefaultAPIKey; NewClient
// uses it. Its mode follows its prefix (jo_live_ → production data; anything else → sandbox
// data). LiveAPIKey is accepted either way.
func WithAPIKey(key string) Option {
	return func(s *Server) { s.apiKey = key }
}

// WithAdditionalAPIKey makes the server accept key as well, restricted to scopes (none: every
// scope). Its mode follows its prefix, as with WithAPIKey. Use it to test insufficient_scope
// answers (NewClientFor builds a client with it).
func WithAdditionalAPIKey(key string, scopes ...string) Option {
	return func(s *Server) { s.addKey(key, scopes) }
}

// WithClock sets the clock for created_at, expiry and event timestamps (default time.Now).
// Advance moves it forward.
func WithClock(now func() time.Time) Option {
	return func(s *Server) {
		if now != nil {
			s.clock = now
		}
	}
}

// WithCurrency sets the partner's currency (default "USD"): fiat_currency_code must match it.
func WithCurrency(code string) Option {
	return func(s *Server) { s.currency = strings.ToUpper(code) }
}

// WithNextCursor makes GET /requests send an opaque next_cursor (and honour cursor) instead of
// leaving clients to advance since themselves. See also SetNextCursor.
func WithNextCursor(on bool) Option {
	return func(s *Server) { s.nextCursor = on }
}

// WithExclusiveSince makes the since filter exclusive (created_at > since); the default is
// inclusive (>=). JoPay does not document which it is. See also SetExclusiveSince.
func WithExclusiveSince(on bool) Option {
	return func(s *Server) { s.exclusive = on }
}

// WithSincePrecision truncates the since and until parameters to d (time.Millisecond mimics a
// server that parses timestamps with JavaScript's Date). The default keeps full precision.
func WithSincePrecision(d time.Duration) Option {
	return func(s *Server) { s.precision = d }
}

// WithDeliveryAttempts sets how many times a webhook is attempted before giving up (0: the
// default 5) and the wait before attempt n+1 (nil: 10ms·2^n).
func WithDeliveryAttempts(n int, backoff func(n int) time.Duration) Option {
	return func(s *Server) {
		s.deliverer.MaxAttempts = n
		s.deliverer.Backoff = backoff
	}
}

// WithoutCallLog stops the server from recording calls (see Calls), for benchmarks whose
// memory figures should not include the log.
func WithoutCallLog() Option {
	return func(s *Server) { s.calls.Disable() }
}

// NewServer starts a fake Partner API on a loopback port. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		keys:        map[string]*apiKey{},
		spaces:      map[jopay.Mode]*space{jopay.ModeTest: newSpace(), jopay.ModeLive: newSpace()},
		clock:       time.Now,
		currency:    "USD",
		usdcPerUnit: 10_000, // one cent is 0.01 USDC = 10 000 micro-USDC
		deliverer:   fakeserver.Deliverer{Retry: fakeserver.RetryServerErrors},
		apiKey:      DefaultAPIKey,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	for _, key := range []string{s.apiKey, LiveAPIKey} {
		if _, ok := s.keys[key]; !ok {
			s.addKey(key, nil)
		}
	}
	s.faults.ErrorBody = func(status int) []byte { return envelope(codeForStatus(status), nil) }
	for _, sp := range s.spaces {
		sp.addMerchant(&merchant{ID: DefaultMerchantID, DisplayName: "Fake Coffee", BusinessName: "Fake Coffee Ltd",
			Country: "US", DisplayCurrency: s.currency, AccountType: "business", OnboardingStatus: "complete",
			CreatedAt: msTime(s.clock())})
	}
	s.hs = httptest.NewServer(s.calls.Wrap(s.faults.Wrap(s.routes())))
	s.URL = s.hs.URL
	s.BaseURL = s.hs.URL + "/api/v1"
	return s
}

// Close shuts the server down and waits for its requests to finish.
func (s *Server) Close() { s.hs.Close() }

// NewClient returns a jopay client for the server's key (DefaultAPIKey unless WithAPIKey set
// another) pointed at the fake, with short retry waits so retry tests run fast, and without
// the client's default rate limit of 60 requests per minute (the fake enforces none; pass
// jopay.WithRateLimiter to test with a limiter). Further options are applied after those.
func (s *Server) NewClient(opts ...jopay.Option) (*jopay.Client, error) {
	return s.NewClientFor(s.apiKey, opts...)
}

// NewClientFor is NewClient with another API key.
func (s *Server) NewClientFor(apiKey string, opts ...jopay.Option) (*jopay.Client, error) {
	base := []jopay.Option{jopay.WithBaseURL(s.BaseURL), jopay.WithRetryWait(time.Millisecond, 20*time.Millisecond), jopay.WithRateLimiter(nil)}
	return jopay.NewClient(apiKey, append(base, opts...)...)
}

// HTTPClient returns an *http.Client that reaches the server (and nothing else special).
func (s *Server) HTTPClient() *http.Client { return s.hs.Client() }

func (s *Server) addKey(key string, scopes []string) {
	k := &apiKey{mode: jopay.ModeTest}
	if jopay.KeyMode(key) == jopay.ModeLive {
		k.mode = jopay.ModeLive
	}
	if len(scopes) > 0 {
		k.scopes = map[string]bool{}
		for _, sc := range scopes {
			k.scopes[sc] = true
		}
	}
	s.keys[key] = k
}

// RevokeKey makes key fail with 401 unauthorized from now on (revocation is immediate).
func (s *Server) RevokeKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[key]; ok {
		k.revoked = true
	}
}

// Now returns the fake's current time (the clock plus any Advance).
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

func (s *Server) now() time.Time { return s.clock().Add(s.offset) }

// Advance moves the fake's clock forward by d: requests past their expires_at become expired.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// SetNextCursor switches next_cursor pagination on or off (see WithNextCursor).
func (s *Server) SetNextCursor(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextCursor = on
}

// SetExclusiveSince switches the since filter between exclusive and inclusive.
func (s *Server) SetExclusiveSince(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exclusive = on
}

// Fault is one injected failure for AddFault: a status with an optional Retry-After, a dropped
// connection, or a lost response, optionally limited to matching requests.
type Fault struct {
	// Status is the HTTP status to answer with, in JoPay's error envelope (ignored when Drop or
	// LoseResponse is set). The request is not processed.
	Status int
	// RetryAfter, when positive, is sent as a Retry-After header, rounded up to whole seconds.
	RetryAfter time.Duration
	// Drop reads the whole request and then closes the connection without answering or
	// processing it: the client cannot know whether the server acted on it.
	Drop bool
	// LoseResponse processes the request (a create really creates) and then closes the
	// connection instead of answering: the case an idempotency key exists for.
	LoseResponse bool
	// Match limits the fault to the requests it returns true for (nil: any request).
	Match func(*http.Request) bool
}

// FailNext makes the next n API calls fail with status in JoPay's envelope (and a Retry-After
// of retryAfter, rounded up to whole seconds, when positive). Nothing is processed.
func (s *Server) FailNext(n, status int, retryAfter time.Duration) {
	s.faults.FailNext(n, status, retryAfter)
}

// DropNext makes the next n calls be read in full and then closes the connection without
// processing them or answering.
func (s *Server) DropNext(n int) { s.faults.DropNext(n) }

// LoseResponseNext makes the next n calls be processed (a create creates the request) and then
// answered by closing the connection: the client cannot know the outcome, the case idempotency
// keys exist for.
func (s *Server) LoseResponseNext(n int) { s.faults.LoseResponseNext(n) }

// AddFault queues n copies of f.
func (s *Server) AddFault(n int, f Fault) { s.faults.Add(n, fakeserver.Fault(f)) }

// SetLatency delays every call by d.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// ResetFaults removes queued faults and latency.
func (s *Server) ResetFaults() {
	s.faults.Reset()
}

// Call is one HTTP request the server received, including ones failed by injected faults.
type Call struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path, e.g. "/api/v1/requests".
	Path string
	// Query is the parsed query string.
	Query url.Values
	// RawQuery is the query string as sent, without the '?', in its original order.
	RawQuery string
	// Header is a copy of the request headers, credentials included.
	Header http.Header
	// Body is the request body (up to 1 MiB).
	Body []byte
}

// Calls returns the requests received so far, oldest first. The log keeps the latest 5 000 to
// 10 000 calls.
func (s *Server) Calls() []Call {
	calls := s.calls.Calls()
	out := make([]Call, len(calls))
	for i, c := range calls {
		out[i] = Call(c)
	}
	return out
}

// CountCalls returns how many logged calls had method and path ("GET", "/api/v1/requests").
func (s *Server) CountCalls(method, path string) int { return s.calls.Count(method, path) }

// ResetCalls empties the call log.
func (s *Server) ResetCalls() { s.calls.Reset() }

// envelope renders {"ok":false,"error":code} plus helper fields.
func envelope(code string, extra map[string]string) []byte {
	m := map[string]any{"ok": false, "error": code}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

func codeForStatus(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status == http.StatusUnauthorized:
		return "unauthorized"
	case status == http.StatusForbidden:
		return "insufficient_scope"
	case status == http.StatusNotFound:
		return "not_found"
	case status >= 500:
		return "internal_error"
	}
	return "bad_request"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code string, extra map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(envelope(code, extra))
}

// msTime truncates t to milliseconds in UTC, the precision JoPay's timestamps carry.
func msTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// formatTime writes RFC 3339 with milliseconds, as JoPay does.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// ctxKey carries the caller's key info from auth to the handlers.
type ctxKey struct{}

func keyFrom(ctx context.Context) *apiKey {
	k, _ := ctx.Value(ctxKey{}).(*apiKey)
	return k
}
