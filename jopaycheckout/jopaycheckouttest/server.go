package jopaycheckouttest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/paykit-go/paykit/internal/fakeserver"
	"github.com/paykit-go/paykit/jopaycheckout"
)

// DefaultAPIKey is the key the server accepts unless WithAPIKeys says otherwise.
const DefaultAPIKey = "sk_test_jopaycheckouttest"

// APIPath is the path prefix of the API on the fake, as on jopay.me.
const APIPath = "/api/checkout/v1"

// SessionTTL is how long an unpaid session stays open.
const SessionTTL = time.Hour

// Version selects which published version of the API page the server imitates in its answers.
// Both versions accept both body styles.
type Version int

// The two published versions of the Checkout API page.
const (
	// VersionA answers with "url" and status "open".
	VersionA Version = iota + 1
	// VersionB answers with "checkout_url" and status "pending" (the version with the webhook
	// section). The default.
	VersionB
)

// Attempt is one webhook delivery attempt: when, the status answered (0 on a transport error)
// and the error.
type Attempt = fakeserver.Attempt

// Delivery records one webhook event sent to the registered URL, with every attempt.
type Delivery struct {
	// Event is the event type; SessionID is the session it is about.
	Event     jopaycheckout.EventType
	SessionID string
	// URL, Body, Header (of the last attempt), Attempts, Delivered and Abandoned describe the
	// HTTP deliveries. Every non-2xx answer and transport error is retried [assumed].
	URL       string
	Body      []byte
	Header    http.Header
	Attempts  []Attempt
	Delivered bool
	Abandoned bool
}

// Fault is one injected failure for AddFault.
type Fault = fakeserver.Fault

// Server is a running fake JoPay Checkout. It is safe for concurrent use.
type Server struct {
	// URL is the server's root, "http://127.0.0.1:<port>"; the hosted checkout pages are under
	// URL+"/checkout/".
	URL string
	// BaseURL is the API base URL, URL + APIPath: pass it to jopaycheckout.WithBaseURL.
	BaseURL string

	srv    *httptest.Server
	faults fakeserver.Faults
	cfg    config

	mu         sync.Mutex
	sessions   map[string]*session
	order      []string // session ids in creation order
	seq        int
	version    Version
	hookURL    string
	hookSecret string
	deliveries []*Delivery
	idem       map[string]idemEntry
	requests   []Request
}

// Request is the record of one API request as it arrived, before any fault was applied.
type Request struct {
	Method string
	Path   string // e.g. "/api/checkout/v1/sessions"
	Header http.Header
}

type config struct {
	keys       map[string]bool
	version    Version
	now        func() time.Time
	idemHeader string
	deliverer  fakeserver.Deliverer
}

// Option configures NewServer.
type Option func(*config)

// WithAPIKeys sets the keys the server accepts (default DefaultAPIKey).
func WithAPIKeys(keys ...string) Option {
	return func(c *config) {
		c.keys = make(map[string]bool, len(keys))
		for _, k := range keys {
			c.keys[k] = true
		}
	}
}

// WithVersion sets the response style (default VersionB); SetVersion changes it later.
func WithVersion(v Version) Option {
	return func(c *config) { c.version = v }
}

// WithClock sets the clock used for created_at, expires_at, completed_at, expiry and webhook
// signing timestamps (default time.Now). Verify webhooks with the same clock
// (webhook.WithClock) when it is far from the real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithIdempotencyHeader makes the server honour an idempotency key in the named header on
// POST /sessions: the same key and body replays the original session, the same key with another
// body is 409 idempotency_conflict. JoPay does not document this; it exists to test clients built
// with jopaycheckout.WithIdempotencyHeader.
func WithIdempotencyHeader(name string) Option {
	return func(c *config) { c.idemHeader = name }
}

// WithDeliveryAttempts sets how many times a webhook is attempted (0: the default 5) and the
// wait before attempt n+1 (nil: 10 ms doubling).
func WithDeliveryAttempts(n int, backoff func(n int) time.Duration) Option {
	return func(c *config) {
		c.deliverer.MaxAttempts = n
		c.deliverer.Backoff = backoff
	}
}

// WithDeliveryClient sets the *http.Client used to deliver webhooks (default: 8 s timeout).
func WithDeliveryClient(hc *http.Client) Option {
	return func(c *config) { c.deliverer.Client = hc }
}

// NewServer starts a fake on a loopback port. Close it when done.
func NewServer(opts ...Option) *Server {
	cfg := config{keys: map[string]bool{DefaultAPIKey: true}, version: VersionB, now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	// Retry rule [assumed]: JoPay Checkout does not document it; PROVIDERS.md assumes every
	// non-2xx answer is retried.
	cfg.deliverer.Retry = fakeserver.RetryNon2xx
	cfg.deliverer.Now = cfg.now
	s := &Server{
		cfg:      cfg,
		sessions: make(map[string]*session),
		version:  cfg.version,
		idem:     make(map[string]idemEntry),
	}
	s.faults.ErrorBody = func(status int) []byte { return errorBody(codeForStatus(status), http.StatusText(status)) }
	mux := http.NewServeMux()
	mux.Handle(APIPath+"/", s.record(s.faults.Wrap(http.HandlerFunc(s.serveAPI))))
	mux.HandleFunc("/checkout/", s.serveHostedPage)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	s.BaseURL = s.srv.URL + APIPath
	return s
}

// Close shuts the server down, waiting for requests in progress.
func (s *Server) Close() { s.srv.Close() }

// NewClient returns a jopaycheckout client for this server: base URL set, authenticated with
// DefaultAPIKey (or, after WithAPIKeys without it, the alphabetically first accepted key), retry
// waits of a few milliseconds. opts are applied after those and may override them.
func (s *Server) NewClient(opts ...jopaycheckout.Option) (*jopaycheckout.Client, error) {
	base := []jopaycheckout.Option{
		jopaycheckout.WithBaseURL(s.BaseURL),
		jopaycheckout.WithRetryWait(time.Millisecond, 5*time.Millisecond),
	}
	return jopaycheckout.NewClient(s.anyKey(), append(base, opts...)...)
}

func (s *Server) anyKey() string {
	if s.cfg.keys[DefaultAPIKey] {
		return DefaultAPIKey
	}
	best := ""
	for k := range s.cfg.keys {
		if best == "" || k < best {
			best = k
		}
	}
	return best
}

// record logs every API request that reaches the server, including those a fault then fails.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()})
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// Requests returns every API request received so far, in order. Count them to check retries:
// Go's http.Transport may itself resend an idempotent request on a reused connection, so a
// client-side count can be lower than what the server saw.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// SetVersion switches the response style for later answers.
func (s *Server) SetVersion(v Version) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version = v
}

// FailNext makes the next n API calls fail with status (and Retry-After when retryAfter > 0),
// with a JoPay-style error body.
func (s *Server) FailNext(n, status int, retryAfter time.Duration) {
	s.faults.FailNext(n, status, retryAfter)
}

// DropNext makes the next n API calls be read and then answered by closing the connection,
// without acting on them.
func (s *Server) DropNext(n int) { s.faults.DropNext(n) }

// LoseResponseNext makes the next n API calls be handled (a create really creates) and then
// answered by closing the connection: the client cannot tell whether it worked.
func (s *Server) LoseResponseNext(n int) { s.faults.LoseResponseNext(n) }

// AddFault queues n copies of a fault; Fault.Match limits it to some requests.
func (s *Server) AddFault(n int, f Fault) { s.faults.Add(n, f) }

// SetLatency delays every API call by d (0 removes the delay). A caller that gives up early
// releases the server at once.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// ResetFaults removes all queued faults and the latency.
func (s *Server) ResetFaults() { s.faults.Reset() }

// errorBody renders JoPay's error envelope.
func errorBody(code, message string) []byte {
	b, _ := json.Marshal(struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}{code, message})
	return b
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "service_unavailable"
	}
	if status >= 500 {
		return "internal_error"
	}
	return strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(code, message))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_error", "encoding failed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
