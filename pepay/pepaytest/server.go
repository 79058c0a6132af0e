package pepaytest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/paykit-go/paykit/internal/fakeserver"
	"github.com/paykit-go/paykit/pepay"
)

// DefaultAPIKey is the merchant key (x-api-key) the server accepts and NewClient uses, unless
// WithAPIKey sets another.
const DefaultAPIKey = "pk_test_pepaytest_0123456789abcdef"

// DefaultDashboardToken is the dashboard JWT the fake accepts (Authorization: Bearer) unless
// WithDashboardToken sets another. It is opaque to the fake: any string works.
const DefaultDashboardToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwZXBheXRlc3QifQ.ZGFzaGJvYXJk"

// DefaultCommerceKey is the commerce key (x-commerce-api-key) the fake accepts unless
// WithCommerceKey sets another.
const DefaultCommerceKey = "ck_test_pepaytest_0123456789abcdef"

// DefaultReplayWindow is how many of the latest events a stream resume (since=) can replay.
const DefaultReplayWindow = 1000

// Server is an in-process fake of Pepay's merchant API, payor API and merchant WebSocket. It
// keeps invoices and an event log in memory, enforces the documented rules (x-api-key,
// Idempotency-Key UUIDs with replay and 409 on conflicting reuse, body limits with
// VALIDATION_ERROR envelopes, cursor pagination, environment filters), delivers signed webhooks
// with retries, streams events with since-replay and resync, and injects faults. It listens on
// 127.0.0.1 only. All methods are safe for concurrent use.
type Server struct {
	// URL is the server's root, "http://127.0.0.1:<port>"; hosted pages live at
	// URL + "/pay/<invoice id>".
	URL string
	// BaseURL is the API base URL to give pepay.WithBaseURL. Pepay's paths start at the host
	// (/api/v1/…, /ws/merchant/events), so it equals URL.
	BaseURL string
	// APIKey is the merchant key the server accepts.
	APIKey string
	// DashboardToken is the dashboard JWT the server accepts as "Authorization: Bearer": on the
	// invoice routes (instead of x-api-key) and, only it, on the account routes.
	DashboardToken string
	// CommerceKey is the commerce key the server accepts (x-commerce-api-key) on the commerce
	// stream and for minting commerce-scope ws tokens.
	CommerceKey string

	srv        *httptest.Server
	faults     fakeserver.Faults
	calls      fakeserver.CallLog
	now        func() time.Time
	env        pepay.Environment
	merchantID int64

	mu        sync.Mutex
	invoices  map[string]*invoice
	order     []*invoice // creation order, oldest first
	idem      map[string]idemEntry
	sessions  map[string]*invoice // session token → invoice
	events    []*eventRec         // chronological
	eventIdx  map[string]int
	changed   chan struct{} // closed and replaced on every append: wakes the streams
	seq       int64
	invSeq    int
	paySeq    int
	reqSeq    int
	tokens    map[string]wsTokenRec // ws_token → scope and expiry
	payorToks map[string]string     // payment session JWT (ws_connection.token) → invoice id
	orders    map[string]*order
	orderSeq  int
	mainnet   bool              // the account has mainnet access
	userEnv   pepay.Environment // the dashboard user's environment
	closed    bool
	stop      chan struct{}
	wg        sync.WaitGroup
	streamCfg streamConfig
	conns     map[*streamConn]struct{}
	hook      hookConfig
}

// Option configures NewServer.
type Option func(*Server)

// WithAPIKey makes the server accept key as x-api-key instead of DefaultAPIKey; NewClient uses
// it.
func WithAPIKey(key string) Option { return func(s *Server) { s.APIKey = key } }

// WithDashboardToken sets the dashboard JWT the server accepts (default DefaultDashboardToken).
func WithDashboardToken(jwt string) Option { return func(s *Server) { s.DashboardToken = jwt } }

// WithCommerceKey sets the commerce key the server accepts (default DefaultCommerceKey).
func WithCommerceKey(key string) Option { return func(s *Server) { s.CommerceKey = key } }

// WithMainnetAccess sets whether the fake account starts with mainnet access (default false).
func WithMainnetAccess(enabled bool) Option { return func(s *Server) { s.mainnet = enabled } }

// WithClock sets the server's clock, used for timestamps, event ids, expiry and token lifetime.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithEnvironment sets the environment of the fake account (default devnet).
func WithEnvironment(env pepay.Environment) Option { return func(s *Server) { s.env = env } }

// WithReplayWindow sets how many of the latest events a stream resume can replay (default
// DefaultReplayWindow). A since older than that, or unknown, gets a ws_control
// {"object":"ws_control","type":"resync_required"} frame and the stream goes live from there.
func WithReplayWindow(n int) Option { return func(s *Server) { s.streamCfg.replayWindow = n } }

// WithDeliveryAttempts sets how many times a webhook is attempted (0: the default 5) and the
// wait before attempt n+1 (nil: 10 ms·2^n).
func WithDeliveryAttempts(n int, backoff func(n int) time.Duration) Option {
	return func(s *Server) { s.hook.attempts, s.hook.backoff = n, backoff }
}

// WithoutCallLog stops the server from recording calls (see Calls), for benchmarks whose
// memory figures should not include the log.
func WithoutCallLog() Option { return func(s *Server) { s.calls.Disable() } }

// NewServer starts a fake Pepay on 127.0.0.1. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		APIKey:         DefaultAPIKey,
		DashboardToken: DefaultDashboardToken,
		CommerceKey:    DefaultCommerceKey,
		now:            time.Now,
		env:            pepay.EnvironmentDevnet,
		merchantID:     4242,
		invoices:       map[string]*invoice{},
		idem:           map[string]idemEntry{},
		sessions:       map[string]*invoice{},
		eventIdx:       map[string]int{},
		changed:        make(chan struct{}),
		tokens:         map[string]wsTokenRec{},
		payorToks:      map[string]string{},
		orders:         map[string]*order{},
		stop:           make(chan struct{}),
		conns:          map[*streamConn]struct{}{},
	}
	s.streamCfg.replayWindow = DefaultReplayWindow
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	s.userEnv = s.env
	s.faults.ErrorBody = func(status int) []byte {
		return errorBody(faultCode(status), "injected fault: "+http.StatusText(status))
	}
	s.hook.init(s)
	rest := http.NewServeMux()
	s.routes(rest)
	root := http.NewServeMux()
	root.HandleFunc("GET "+pepay.StreamPath, func(w http.ResponseWriter, r *http.Request) { s.serveStream(w, r, streamMerchant) })
	root.HandleFunc("GET "+pepay.CommerceStreamPath, func(w http.ResponseWriter, r *http.Request) { s.serveStream(w, r, streamCommerce) })
	root.HandleFunc("GET "+pepay.PayorStreamPath, func(w http.ResponseWriter, r *http.Request) { s.serveStream(w, r, streamPayor) })
	root.Handle("/", s.faults.Wrap(rest))
	s.srv = httptest.NewServer(s.calls.Wrap(root))
	s.URL = s.srv.URL
	s.BaseURL = s.srv.URL
	return s
}

// Close closes every stream, stops webhook delivery and shuts the server down.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.stop)
	for c := range s.conns {
		c.kill()
	}
	s.mu.Unlock()
	s.hook.close()
	s.srv.Close()
	s.wg.Wait()
}

// NewClient returns a pepay.NewClient for this server with its API key and fast retries, plus opts.
func (s *Server) NewClient(opts ...pepay.Option) (*pepay.Client, error) {
	base := []pepay.Option{pepay.WithBaseURL(s.BaseURL), pepay.WithRetryWait(time.Millisecond, 10*time.Millisecond)}
	return pepay.NewClient(s.APIKey, append(base, opts...)...)
}

// NewCommerceClient returns a pepay.NewCommerceClient for this server with its commerce key and
// fast retries, plus opts.
func (s *Server) NewCommerceClient(opts ...pepay.Option) (*pepay.CommerceClient, error) {
	base := []pepay.Option{pepay.WithBaseURL(s.BaseURL), pepay.WithRetryWait(time.Millisecond, 10*time.Millisecond)}
	return pepay.NewCommerceClient(s.CommerceKey, append(base, opts...)...)
}

// FailNext makes the next n REST requests fail with status (and Retry-After when retryAfter > 0),
// answered with Pepay's error envelope.
func (s *Server) FailNext(n, status int, retryAfter time.Duration) {
	s.faults.FailNext(n, status, retryAfter)
}

// DropNext makes the next n REST requests be read and then answered by closing the connection,
// without acting on them.
func (s *Server) DropNext(n int) { s.faults.DropNext(n) }

// LoseResponseNext makes the next n REST requests be processed in full (an invoice is created)
// and then answered by closing the connection: the client cannot know it succeeded. Only a
// keyed retry is safe after that, which is what it lets you test.
func (s *Server) LoseResponseNext(n int) { s.faults.LoseResponseNext(n) }

// SetLatency delays every REST request by d.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// Fault is one injected REST failure for AddFault: a status with an optional Retry-After, a
// dropped connection, or a lost response, optionally limited to matching requests.
type Fault struct {
	// Status is the HTTP status to answer with, in Pepay's error envelope (ignored when Drop or
	// LoseResponse is set). The request is not processed.
	Status int
	// RetryAfter, when positive, is sent as a Retry-After header, rounded up to whole seconds.
	RetryAfter time.Duration
	// Drop reads the whole request and then closes the connection without answering or
	// processing it: the client cannot know whether the server acted on it.
	Drop bool
	// LoseResponse processes the request (an invoice is created) and then closes the connection
	// instead of answering: only a keyed retry is safe after that.
	LoseResponse bool
	// Match limits the fault to the requests it returns true for (nil: any request).
	Match func(*http.Request) bool
}

// AddFault queues n copies of a REST fault; Fault.Match limits it to some requests.
func (s *Server) AddFault(n int, f Fault) { s.faults.Add(n, fakeserver.Fault(f)) }

// ResetFaults clears REST faults (lost responses included), the latency and stream faults.
func (s *Server) ResetFaults() {
	s.faults.Reset()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamCfg.dropEvery, s.streamCfg.refuseResumes, s.streamCfg.resend, s.streamCfg.silent = 0, 0, 0, false
	s.streamCfg.errors, s.streamCfg.refusals = nil, nil
}

// Call is one request the server received (REST or WebSocket upgrade), including ones failed
// by injected faults.
type Call struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path, e.g. "/api/v1/invoices".
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

// Calls returns the requests received so far (REST and WebSocket upgrades), oldest first,
// including those answered by an injected fault. The log keeps the latest 5 000 to 10 000
// calls.
func (s *Server) Calls() []Call {
	calls := s.calls.Calls()
	out := make([]Call, len(calls))
	for i, c := range calls {
		out[i] = Call(c)
	}
	return out
}

// CountCalls returns how many logged calls had method and path ("POST", "/api/v1/invoices").
func (s *Server) CountCalls(method, path string) int { return s.calls.Count(method, path) }

// ResetCalls empties the call log.
func (s *Server) ResetCalls() { s.calls.Reset() }

// errorBody renders Pepay's current error envelope.
func errorBody(code, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"success": false, "error": map[string]string{"code": code, "message": msg}})
	return b
}

func faultCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "RATE_LIMIT_EXCEEDED"
	case http.StatusUnauthorized:
		return "API_KEY_INVALID"
	case http.StatusNotFound:
		return "NOT_FOUND"
	}
	if status >= 500 {
		return "INTERNAL_SERVER_ERROR"
	}
	return "VALIDATION_ERROR"
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(code, msg))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "encode: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeWrapped answers {"success":true,"data":v}, the envelope of events, ws-token and payor
// responses.
func writeWrapped(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, map[string]any{"success": true, "data": v})
}

// merchant wraps a handler with x-api-key authentication.
func (s *Server) merchant(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if code, msg := s.checkKey(r.Header); code != "" {
			writeError(w, http.StatusUnauthorized, code, msg)
			return
		}
		h(w, r)
	}
}

// invoiceRoute wraps an invoice route: x-api-key or a dashboard JWT (Authorization: Bearer).
func (s *Server) invoiceRoute(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			if code, msg := s.checkBearer(r.Header); code != "" {
				writeError(w, http.StatusUnauthorized, code, msg)
				return
			}
			h(w, r)
			return
		}
		s.merchant(h)(w, r)
	}
}

// dashboard wraps an account route: only the dashboard JWT is accepted; an API key alone is
// the wrong auth mode (403).
func (s *Server) dashboard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" && r.Header.Get("x-api-key") != "" {
			writeError(w, http.StatusForbidden, "AUTH_MODE_MISMATCH", "account routes need a dashboard token, not an API key")
			return
		}
		if code, msg := s.checkBearer(r.Header); code != "" {
			writeError(w, http.StatusUnauthorized, code, msg)
			return
		}
		h(w, r)
	}
}

func (s *Server) checkBearer(h http.Header) (code, msg string) {
	tok, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	switch {
	case h.Get("Authorization") == "":
		return "UNAUTHORIZED", "Authorization: Bearer <token> is required"
	case !ok || tok == "" || s.DashboardToken == "" || tok != s.DashboardToken:
		return "TOKEN_INVALID", "Invalid or expired token"
	}
	return "", ""
}

func (s *Server) checkKey(h http.Header) (code, msg string) {
	key := h.Get("x-api-key")
	switch {
	case key == "":
		return "API_KEY_REQUIRED", "x-api-key header is required"
	case key != s.APIKey:
		return "API_KEY_INVALID", "Invalid API key"
	}
	return "", ""
}

func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/invoices", s.invoiceRoute(s.createInvoice))
	mux.HandleFunc("GET /api/v1/invoices", s.invoiceRoute(s.listInvoices))
	mux.HandleFunc("GET /api/v1/invoices/totals", s.invoiceRoute(s.totals))
	mux.HandleFunc("GET /api/v1/invoices/{invoiceId}", s.invoiceRoute(s.getInvoice))
	// One pattern for both two-segment routes: the mux cannot rank customer/{id} against {id}/status.
	mux.HandleFunc("GET /api/v1/invoices/{first}/{second}", s.invoiceRoute(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.PathValue("first") == "customer":
			r.SetPathValue("customerId", r.PathValue("second"))
			s.listInvoices(w, r)
		case r.PathValue("second") == "status":
			r.SetPathValue("invoiceId", r.PathValue("first"))
			s.getInvoiceStatus(w, r)
		default:
			writeError(w, http.StatusNotFound, "NOT_FOUND", "no route "+r.URL.Path)
		}
	}))
	mux.HandleFunc("GET /api/v1/events", s.merchant(s.listEvents))
	mux.HandleFunc("GET /api/v1/events/{eventId}", s.merchant(s.getEvent))
	mux.HandleFunc("POST /api/v1/ws/token", s.mintToken) // merchant or commerce key, checked inside
	mux.HandleFunc("GET /api/v1/user/mainnet-access/status", s.dashboard(s.mainnetStatus))
	mux.HandleFunc("PUT /api/v1/user/environment", s.dashboard(s.switchEnvironment))
	mux.HandleFunc("GET /api/v1/invoice/{invoiceId}/verify", s.payor(s.verifyInvoice))
	mux.HandleFunc("POST /api/v1/invoice/{invoiceId}/verify", s.payor(s.verifyInvoice))
	mux.HandleFunc("GET /api/v1/payments/session-details", s.payor(s.sessionDetails))
	mux.HandleFunc("GET /api/v1/payments/available-tokens", s.payor(s.availableTokens))
	mux.HandleFunc("POST /api/v1/payments/payment-addresses", s.payor(s.paymentAddress))
	mux.HandleFunc("GET /api/v1/payments/payment-status", s.payor(s.paymentStatus))
	mux.HandleFunc("POST /api/v1/payments/customer-email", s.payor(s.customerEmail))
	mux.HandleFunc("GET /pay/{invoiceId}", s.hostedPage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no route "+r.Method+" "+r.URL.Path)
	})
}

// errClosed is returned by lifecycle helpers after Close.
var errClosed = errors.New("pepaytest: server closed")
