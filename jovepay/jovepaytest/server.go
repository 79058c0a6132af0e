package jovepaytest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/fakeserver"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/webhook"
)

// Defaults of a new Server.
const (
	// DefaultAPIKey is the x-api-key the server accepts and NewClient uses, unless WithAPIKey
	// sets another.
	DefaultAPIKey = "jovepay-test-api-key"
	// DefaultEmail is the dashboard login email POST /auth accepts, unless WithCredentials sets
	// another.
	DefaultEmail = "merchant@example.com"
	// DefaultPassword is the dashboard password POST /auth accepts, unless WithCredentials sets
	// another.
	DefaultPassword = "test-password-123"
	// DefaultIPNSecret is the secret IPNs are signed with, unless WithIPNSecret sets another.
	DefaultIPNSecret = "jovepay-test-ipn-secret"
	// DefaultJWTLifetime is JovePay's documented token lifetime.
	DefaultJWTLifetime = 5 * time.Minute
)

// Server is an in-process fake of the JovePay API (NOWPayments-compatible) on 127.0.0.1. It is
// stateful: payments and invoices created through the API live until Close, and lifecycle
// helpers (Pay, PayAmount, SetStatus, Redeposit…) move them along and deliver signed IPNs. It is
// safe for concurrent use.
type Server struct {
	// URL is the server's root, "http://127.0.0.1:<port>"; hosted invoice pages live under it.
	URL string
	// BaseURL is the API base URL, URL + "/v1": pass it to jovepay.WithBaseURL.
	BaseURL string

	srv    *httptest.Server
	cfg    config
	faults fakeserver.Faults
	calls  fakeserver.CallLog
	jwtKey []byte

	mu         sync.Mutex
	payments   map[int64]*payment
	order      []int64 // payment ids in creation order
	invoices   map[int64]*invoice
	nextID     int64
	logins     int
	tokenGen   int
	deliveries []*Delivery
	form       webhook.SortedJSONForm
}

type config struct {
	apiKey, email, password, ipnSecret string
	jwtLifetime                        time.Duration
	now                                func() time.Time
	form                               webhook.SortedJSONForm
	sigHeader                          string
	deliveryAttempts                   int
	deliveryBackoff                    func(n int) time.Duration
	noCallLog                          bool
	coinsField                         string
	rates                              map[string]paykit.Decimal
	mins                               map[string]paykit.Decimal
}

// Option configures NewServer.
type Option func(*config)

// WithAPIKey makes the server accept key as x-api-key instead of DefaultAPIKey; NewClient uses
// it.
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithCredentials sets the dashboard login POST /auth accepts (default DefaultEmail and
// DefaultPassword).
func WithCredentials(email, password string) Option {
	return func(c *config) { c.email, c.password = email, password }
}

// WithIPNSecret sets the secret IPNs are signed with (default DefaultIPNSecret).
func WithIPNSecret(secret string) Option { return func(c *config) { c.ipnSecret = secret } }

// WithJWTLifetime sets how long issued JWTs live (default 5 minutes, as documented). Use a short
// lifetime with WithClock to test a client's renewal.
func WithJWTLifetime(d time.Duration) Option { return func(c *config) { c.jwtLifetime = d } }

// WithClock injects the clock used for JWT iat/exp checks and payment timestamps.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithSignatureForm selects which of JovePay's published reference programs' canonical forms
// IPNs are signed in: Node (webhook.FormNode, the default), PHP or Python. SetSignatureForm
// changes it later.
func WithSignatureForm(f webhook.SortedJSONForm) Option { return func(c *config) { c.form = f } }

// WithSignatureHeader sets the IPN signature header (default "x-jovepay-sig"; NOWPayments
// itself uses "x-nowpayments-sig").
func WithSignatureHeader(name string) Option { return func(c *config) { c.sigHeader = name } }

// WithDeliveryAttempts sets how many times an IPN is attempted (0: the default 4, the first and
// 3 "recurrent notifications" as in JovePay's docs' example) and the wait before attempt n+1
// (nil: 10 ms·2^n; the real service waits the dashboard's timeout, e.g. 1 minute).
func WithDeliveryAttempts(n int, backoff func(n int) time.Duration) Option {
	return func(c *config) { c.deliveryAttempts, c.deliveryBackoff = n, backoff }
}

// WithoutCallLog stops the server from recording calls (see Calls), for benchmarks whose
// memory figures should not include the log.
func WithoutCallLog() Option { return func(c *config) { c.noCallLog = true } }

// WithMerchantCoinsField names the array GET /merchant/coins answers with: "selectedCurrencies"
// (default, as live responses reportedly do) or "currencies" (as documented).
func WithMerchantCoinsField(name string) Option { return func(c *config) { c.coinsField = name } }

// WithRate sets a currency's price in USD (the fake converts through USD), adding the currency
// if it is new.
func WithRate(currency string, usd paykit.Decimal) Option {
	return func(c *config) { c.rates[currency] = usd }
}

// WithMinAmount sets the minimum payment, in the currency's own units, that /min-amount reports
// and POST /payment enforces (AMOUNT_MINIMAL_ERROR).
func WithMinAmount(currency string, min paykit.Decimal) Option {
	return func(c *config) { c.mins[currency] = min }
}

// NewServer starts a fake JovePay API on 127.0.0.1. Close it when done.
func NewServer(opts ...Option) *Server {
	cfg := config{
		apiKey: DefaultAPIKey, email: DefaultEmail, password: DefaultPassword, ipnSecret: DefaultIPNSecret,
		jwtLifetime: DefaultJWTLifetime, now: time.Now, form: webhook.FormNode, sigHeader: "x-jovepay-sig",
		coinsField: "selectedCurrencies",
		rates:      defaultRates(), mins: defaultMins(),
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.deliveryAttempts <= 0 {
		cfg.deliveryAttempts = 4
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s := &Server{
		cfg: cfg, jwtKey: key, form: cfg.form,
		payments: map[int64]*payment{}, invoices: map[int64]*invoice{},
		nextID: 5_000_000_000, // above 2^32: ids must survive as exact digits
	}
	s.faults.ErrorBody = faultBody
	if cfg.noCallLog {
		s.calls.Disable()
	}
	s.srv = httptest.NewServer(s.calls.Wrap(s.faults.Wrap(s.routes())))
	s.URL = s.srv.URL
	s.BaseURL = s.srv.URL + "/v1"
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// APIKey returns the x-api-key the fake accepts.
func (s *Server) APIKey() string { return s.cfg.apiKey }

// Credentials returns the email and password POST /auth accepts.
func (s *Server) Credentials() (email, password string) { return s.cfg.email, s.cfg.password }

// IPNSecret returns the secret IPNs are signed with.
func (s *Server) IPNSecret() string { return s.cfg.ipnSecret }

// NewClient returns a jovepay.Client for this server: its base URL, API key and credentials,
// with fast retries; opts are applied after those.
func (s *Server) NewClient(opts ...jovepay.Option) (*jovepay.Client, error) {
	base := []jovepay.Option{
		jovepay.WithBaseURL(s.BaseURL),
		jovepay.WithCredentials(s.cfg.email, s.cfg.password),
		jovepay.WithRetryWait(time.Millisecond, 5*time.Millisecond),
	}
	return jovepay.NewClient(s.cfg.apiKey, append(base, opts...)...)
}

func (s *Server) now() time.Time { return s.cfg.now() }

// Fault injection, delegated to fakeserver.Faults. Injected errors carry JovePay's envelope.

// FailNext makes the next n requests fail with status (and Retry-After when retryAfter > 0).
func (s *Server) FailNext(n, status int, retryAfter time.Duration) {
	s.faults.FailNext(n, status, retryAfter)
}

// DropNext makes the next n requests be read in full and answered by closing the connection,
// so the client cannot know whether the fake acted on them (it does not).
func (s *Server) DropNext(n int) { s.faults.DropNext(n) }

// LoseResponseNext makes the next n requests be processed in full — a payment really is
// created — and then answered by closing the connection: the ambiguous failure an unkeyed
// create must survive without creating twice. To lose only the answer of one endpoint, use
// AddFault(n, Fault{LoseResponse: true, Match: Match("POST", "/v1/payment")}).
func (s *Server) LoseResponseNext(n int) { s.faults.LoseResponseNext(n) }

// Fault is one injected failure for AddFault: a status with an optional Retry-After, a dropped
// connection, or a lost response, optionally limited to matching requests (see Match).
type Fault struct {
	// Status is the HTTP status to answer with, in JovePay's error envelope (ignored when Drop
	// or LoseResponse is set). The request is not processed.
	Status int
	// RetryAfter, when positive, is sent as a Retry-After header, rounded up to whole seconds.
	RetryAfter time.Duration
	// Drop reads the whole request and then closes the connection without answering or
	// processing it: the client cannot know whether the server acted on it.
	Drop bool
	// LoseResponse processes the request (a payment really is created) and then closes the
	// connection instead of answering: the ambiguous failure an unkeyed create must survive.
	LoseResponse bool
	// Match limits the fault to the requests it returns true for (nil: any request).
	Match func(*http.Request) bool
}

// AddFault queues n copies of a fault (use Fault.Match to target one endpoint).
func (s *Server) AddFault(n int, f Fault) { s.faults.Add(n, fakeserver.Fault(f)) }

// SetLatency delays every request by d.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// ResetFaults removes queued faults and latency.
func (s *Server) ResetFaults() { s.faults.Reset() }

// Call is one request the server received, including ones failed by injected faults and
// dropped ones.
type Call struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path, including the /v1 prefix.
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

// Calls returns every request received so far, oldest first. The log keeps the latest 5 000 to
// 10 000 calls.
func (s *Server) Calls() []Call {
	calls := s.calls.Calls()
	out := make([]Call, len(calls))
	for i, c := range calls {
		out[i] = Call(c)
	}
	return out
}

// CountCalls returns how many logged calls had method and path ("POST", "/v1/payment").
func (s *Server) CountCalls(method, path string) int { return s.calls.Count(method, path) }

// ResetCalls empties the call log.
func (s *Server) ResetCalls() { s.calls.Reset() }

// Match returns a request matcher for Fault.Match (see AddFault): method and URL path
// ("POST", "/v1/payment").
func Match(method, path string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == method && r.URL.Path == path }
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) *apiError

// auth levels of the routes.
const (
	public = iota // /status, /auth
	apiKey        // x-api-key
	jwt           // x-api-key and Bearer JWT
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, level int, h handlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := s.authorize(r, level); err != nil {
				writeError(w, err)
				return
			}
			if err := h(w, r); err != nil {
				writeError(w, err)
			}
		})
	}
	handle("GET /v1/status", public, s.handleStatus)
	handle("POST /v1/auth", public, s.handleAuth)
	handle("GET /v1/currencies", apiKey, s.handleCurrencies)
	handle("GET /v1/full-currencies", apiKey, s.handleFullCurrencies)
	handle("GET /v1/merchant/coins", apiKey, s.handleMerchantCoins)
	handle("GET /v1/min-amount", apiKey, s.handleMinAmount)
	handle("GET /v1/estimate", apiKey, s.handleEstimate)
	handle("POST /v1/payment", apiKey, s.handleCreatePayment)
	handle("GET /v1/payment/{id}", apiKey, s.handleGetPayment)
	handle("GET /v1/payment/{$}", jwt, s.handleListPayments)
	handle("GET /v1/payment", jwt, s.handleListPayments)
	handle("POST /v1/payment/{id}/update-merchant-estimate", apiKey, s.handleUpdateEstimate)
	handle("POST /v1/invoice", apiKey, s.handleCreateInvoice)
	handle("POST /v1/invoice-payment", apiKey, s.handleCreateInvoicePayment)
	mux.HandleFunc("GET /payment/{$}", s.handleInvoicePage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, notFound("no route "+r.Method+" "+r.URL.Path))
	})
	return mux
}

func (s *Server) authorize(r *http.Request, level int) *apiError {
	if level == public {
		return nil
	}
	if r.Header.Get("x-api-key") != s.cfg.apiKey {
		return &apiError{http.StatusForbidden, "INVALID_API_KEY", "Invalid api key"}
	}
	if level == jwt {
		return s.checkToken(r)
	}
	return nil
}

func (s *Server) handleStatus(w http.ResponseWriter, _ *http.Request) *apiError {
	writeJSON(w, http.StatusOK, map[string]string{"message": "OK"})
	return nil
}

func (s *Server) handleAuth(w http.ResponseWriter, r *http.Request) *apiError {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if in.Email == "" || in.Password == "" {
		return badRequest("email and password are required")
	}
	if in.Email != s.cfg.email || in.Password != s.cfg.password {
		return &apiError{http.StatusForbidden, "ACCESS_DENIED", "Invalid email or password"}
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": s.issueToken(s.now())})
	return nil
}

// decodeBody decodes a JSON object body, refusing anything else.
func decodeBody(r *http.Request, v any) *apiError {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return badRequest(fmt.Sprintf("body must be a JSON object: %v", err))
	}
	return nil
}

// SetSignatureForm changes the reference form IPNs are signed in from now on.
func (s *Server) SetSignatureForm(f webhook.SortedJSONForm) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.form = f
}

// Deliveries returns every IPN delivery made so far (each with its attempts), oldest first.
func (s *Server) Deliveries() []*Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Delivery(nil), s.deliveries...)
}
