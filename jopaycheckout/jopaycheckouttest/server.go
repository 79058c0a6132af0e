package jopaycheckouttest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/paykit-go/paykit/internal/fakeserver"
	"github.com/paykit-go/paykit/jopaycheckout"
)

// DefaultAPIKey is the key the server accepts and NewClient uses, unless WithAPIKey sets
// another.
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

// Attempt is one attempt of a webhook Delivery.
type Attempt struct {
	// At is when the attempt was made, on the server's clock; its signature is made for it.
	At time.Time
	// Status is the HTTP status the receiver answered, or 0 when no answer arrived.
	Status int
	// Err is the transport error when no answer arrived, nil otherwise.
	Err error
}

// Delivery records one webhook event sent to the registered URL, with every attempt. JoPay
// Checkout does not document which answers it retries; the fake retries every non-2xx answer
// and transport error until WithDeliveryAttempts' limit.
type Delivery struct {
	// Event is the event type, e.g. jopaycheckout.EventSessionCompleted.
	Event jopaycheckout.EventType
	// SessionID is the checkout session the event is about.
	SessionID string
	// URL is where the webhook was posted.
	URL string
	// Body is the payload, identical in every attempt.
	Body []byte
	// Header holds the headers of the last attempt, X-JoPay-Signature included.
	Header http.Header
	// Attempts lists every attempt, oldest first.
	Attempts []Attempt
	// Delivered is true when an attempt was answered 2xx.
	Delivered bool
	// Abandoned is true when the receiver answered a status that is not retried. The fake
	// retries every non-2xx answer, so it stays false.
	Abandoned bool
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

// Server is a running fake JoPay Checkout. It is safe for concurrent use.
type Server struct {
	// URL is the server's root, "http://127.0.0.1:<port>"; the hosted checkout pages are under
	// URL+"/checkout/".
	URL string
	// BaseURL is the API base URL, URL + APIPath: pass it to jopaycheckout.WithBaseURL.
	BaseURL string

	srv    *httptest.Server
	faults fakeserver.Faults
	calls  fakeserver.CallLog
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
}

type config struct {
	apiKey     string
	keys       map[string]bool
	noCallLog  bool
	version    Version
	now        func() time.Time
	idemHeader string
	deliverer  fakeserver.Deliverer
}

// Option configures NewServer.
type Option func(*config)

// WithAPIKey makes the server accept key instead of DefaultAPIKey; NewClient uses it.
func WithAPIKey(key string) Option {
	return func(c *config) { c.apiKey = key }
}

// WithAdditionalAPIKey makes the server accept key as well.
func WithAdditionalAPIKey(key string) Option {
	return func(c *config) { c.keys[key] = true }
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

// WithoutCallLog stops the server from recording calls (see Calls), for benchmarks whose
// memory figures should not include the log.
func WithoutCallLog() Option {
	return func(c *config) { c.noCallLog = true }
}

// NewServer starts a fake on a loopback port. Close it when done.
func NewServer(opts ...Option) *Server {
	cfg := config{apiKey: DefaultAPIKey, keys: map[string]bool{}, version: VersionB, now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	cfg.keys[cfg.apiKey] = true
	// JoPay Checkout does not document which answers it retries: the fake retries every non-2xx.
	cfg.deliverer.Retry = fakeserver.RetryNon2xx
	cfg.deliverer.Now = cfg.now
	s := &Server{
		cfg:      cfg,
		sessions: make(map[string]*session),
		version:  cfg.version,
		idem:     make(map[string]idemEntry),
	}
	s.faults.ErrorBody = func(status int) []byte { return errorBody(codeForStatus(status), http.StatusText(status)) }
	if cfg.noCallLog {
		s.calls.Disable()
	}
	mux := http.NewServeMux()
	mux.Handle(APIPath+"/", s.calls.Wrap(s.faults.Wrap(http.HandlerFunc(s.serveAPI))))
	mux.HandleFunc("/checkout/", s.serveHostedPage)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	s.BaseURL = s.srv.URL + APIPath
	return s
}

// Close shuts the server down, waiting for requests in progress.
func (s *Server) Close() { s.srv.Close() }

// NewClient returns a jopaycheckout client for this server: base URL set, authenticated with
// the server's key (DefaultAPIKey unless WithAPIKey set another), retry waits of a few
// milliseconds. opts are applied after those and may override them.
func (s *Server) NewClient(opts ...jopaycheckout.Option) (*jopaycheckout.Client, error) {
	base := []jopaycheckout.Option{
		jopaycheckout.WithBaseURL(s.BaseURL),
		jopaycheckout.WithRetryWait(time.Millisecond, 5*time.Millisecond),
	}
	return jopaycheckout.NewClient(s.cfg.apiKey, append(base, opts...)...)
}

// Call is one API request the server received, including ones failed by injected faults. The
// hosted checkout pages are not logged.
type Call struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path, e.g. "/api/checkout/v1/sessions".
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

// Calls returns every API request received so far, oldest first. Count them to check retries:
// Go's http.Transport may itself resend an idempotent request on a reused connection, so a
// client-side count can be lower than what the server saw. The log keeps the latest 5 000 to
// 10 000 calls.
func (s *Server) Calls() []Call {
	calls := s.calls.Calls()
	out := make([]Call, len(calls))
	for i, c := range calls {
		out[i] = Call(c)
	}
	return out
}

// CountCalls returns how many logged calls had method and path ("POST",
// "/api/checkout/v1/sessions").
func (s *Server) CountCalls(method, path string) int { return s.calls.Count(method, path) }

// ResetCalls empties the call log.
func (s *Server) ResetCalls() { s.calls.Reset() }

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
func (s *Server) AddFault(n int, f Fault) { s.faults.Add(n, fakeserver.Fault(f)) }

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
