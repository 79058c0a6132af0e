package jovepay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Base URLs.
const (
	// DefaultBaseURL is JovePay's production API, the host of its documented sample calls.
	DefaultBaseURL = "https://api.jovepay.io/v1"
	// SandboxBaseURL follows the NOWPayments sandbox pattern (api-sandbox.nowpayments.io).
	// JovePay does not document a sandbox host; paykit assumes this one (pass another with
	// WithBaseURL). Sandbox accounts and keys are separate from production ones.
	SandboxBaseURL = "https://api-sandbox.jovepay.io/v1"
)

// Provider is the provider name used in errors and logs ("jovepay: 400 INVALID_REQUEST_PARAMS: …").
const Provider = "jovepay"

// Client calls the JovePay API. It is safe for concurrent use; create one per API key and reuse
// it (it pools connections and caches the JWT).
type Client struct {
	t      *transport.Client
	apiKey transport.Auth // x-api-key on every call except /status
	jwt    transport.Auth // x-api-key + cached Bearer JWT; nil without WithCredentials
	cache  *transport.TokenCache
	now    func() time.Time
	// maxRetryAfter caps a Retry-After between WaitForPayment's polls (WithMaxRetryAfter).
	maxRetryAfter time.Duration
}

// Option configures a Client. Options are validated by NewClient, which reports the first
// invalid one.
type Option func(*options) error

type options struct {
	transport.Settings
	email, password string
	hasCredentials  bool
	now             func() time.Time
	refreshSkew     time.Duration
}

// shared converts one of the client options every provider shares (internal/transport) into
// an Option.
func shared(so transport.Option) Option {
	return func(o *options) error { return so.Apply(&o.Settings) }
}

// The options below are shared by every paykit provider client, with the same validation and
// defaults; the README's "Client options" section describes them once.

// WithBaseURL sets the API root including /v1, as JovePay documents it: the sandbox
// (SandboxBaseURL), NOWPayments itself ("https://api.nowpayments.io/v1") or a fake server.
func WithBaseURL(u string) Option { return shared(transport.WithBaseURL(u)) }

// WithSandbox is WithBaseURL(SandboxBaseURL).
func WithSandbox() Option { return WithBaseURL(SandboxBaseURL) }

// WithHTTPClient sets the *http.Client used for requests (shared option; see the README).
func WithHTTPClient(c *http.Client) Option { return shared(transport.WithHTTPClient(c)) }

// WithMaxRetries sets how many times a retryable call is retried (shared option; see the
// README). CreatePayment, CreateInvoice and CreateInvoicePayment are never retried once the
// request may have reached JovePay, whatever this says.
func WithMaxRetries(n int) Option { return shared(transport.WithMaxRetries(n)) }

// WithRetryWait sets the backoff bounds between retries (shared option; see the README).
func WithRetryWait(min, max time.Duration) Option { return shared(transport.WithRetryWait(min, max)) }

// WithMaxRetryAfter sets the longest Retry-After waited for (shared option; see the README).
func WithMaxRetryAfter(d time.Duration) Option { return shared(transport.WithMaxRetryAfter(d)) }

// WithMaxResponseBytes caps response bodies (shared option; see the README).
func WithMaxResponseBytes(n int64) Option { return shared(transport.WithMaxResponseBytes(n)) }

// WithUserAgent overrides the User-Agent header (shared option; see the README).
func WithUserAgent(ua string) Option { return shared(transport.WithUserAgent(ua)) }

// WithLogger logs attempts, retries and re-logins, never a credential, the password or a token
// (shared option; see the README).
func WithLogger(l *slog.Logger) Option { return shared(transport.WithLogger(l)) }

// WithRateLimiter makes every request wait on l before each attempt, retries included (shared
// option; see the README). JovePay publishes no request-rate limits, so a client has no limiter
// unless this sets one; a *rate.Limiter of golang.org/x/time/rate fits. nil means none.
func WithRateLimiter(l paykit.RateLimiter) Option { return shared(transport.WithRateLimiter(l)) }

// WithObserver tells o about every call and attempt, for tracing and metrics (shared option;
// see the README and the paykitotel package).
func WithObserver(o paykit.Observer) Option { return shared(transport.WithObserver(o)) }

// WithCredentials enables the endpoints that need a JWT (ListPayments, FindPaymentByOrderID,
// CreatePaymentOnce): the client logs in with POST /auth using the dashboard email and password
// (case-sensitive), caches the token until shortly before its exp, and logs in again once when
// JovePay answers 401. The password and tokens are scrubbed from every error and log line.
func WithCredentials(email, password string) Option {
	return func(o *options) error {
		if strings.TrimSpace(email) == "" {
			return transport.NamedOption("WithCredentials", &paykit.ValidationError{Field: "email", Reason: "must not be empty"})
		}
		if password == "" {
			return transport.NamedOption("WithCredentials", &paykit.ValidationError{Field: "password", Reason: "must not be empty"})
		}
		o.email, o.password, o.hasCredentials = email, password, true
		return nil
	}
}

// WithClock sets the clock used to decide when the cached JWT must be renewed (tests, replays).
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return transport.NamedOption("WithClock", errors.New("nil clock"))
		}
		o.now = now
		return nil
	}
}

// WithTokenRefreshSkew sets how long before its exp the JWT is replaced (default 30 s). For a
// token that lives less than twice the skew, the client renews at half its lifetime instead.
func WithTokenRefreshSkew(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return transport.NamedOption("WithTokenRefreshSkew", fmt.Errorf("token refresh skew must be positive, got %v", d))
		}
		o.refreshSkew = d
		return nil
	}
}

// NewClient returns a client for the API key (sent as x-api-key). Without WithCredentials the
// JWT endpoints fail with ErrCredentialsRequired before anything is sent.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("jovepay: empty API key")
	}
	if strings.ContainsAny(apiKey, " \t\r\n") {
		return nil, errors.New("jovepay: API key contains whitespace")
	}
	o := options{
		Settings:    transport.DefaultSettings(DefaultBaseURL),
		now:         time.Now,
		refreshSkew: transport.DefaultRefreshSkew,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, transport.ConstructorError(Provider, err)
		}
	}
	key := transport.Header("x-api-key", apiKey)
	var secrets []string
	if o.hasCredentials {
		secrets = []string{o.password}
	}
	t, err := transport.New(transport.Config{
		Provider: Provider, Settings: o.Settings, Auth: key, Secrets: secrets,
		// The API root includes /v1.
		BaseURLRule: transport.BaseURLRule{VersionPath: "/v1", Want: DefaultBaseURL},
	})
	if err != nil {
		return nil, err
	}
	c := &Client{t: t, apiKey: key, now: o.now, maxRetryAfter: o.MaxRetryAfter}
	if o.hasCredentials {
		l := &login{t: t, email: o.email, password: o.password, now: o.now, skew: o.refreshSkew}
		c.cache = transport.NewTokenCache(l.fetch, o.refreshSkew, o.now)
		c.jwt = transport.Chain(key, transport.BearerToken(c.cache))
	}
	return c, nil
}

// BaseURL returns the API base URL the client calls, without a trailing slash.
func (c *Client) BaseURL() string { return c.t.BaseURL() }

// HasCredentials reports whether the client can call the JWT endpoints (WithCredentials).
func (c *Client) HasCredentials() bool { return c.jwt != nil }

// jwtAuth returns the per-request Auth of a JWT endpoint, or ErrCredentialsRequired.
func (c *Client) jwtAuth(op string) (transport.Auth, error) {
	if c.jwt == nil {
		return nil, fmt.Errorf("jovepay: %s needs a JWT: create the client WithCredentials(email, password): %w", op, ErrCredentialsRequired)
	}
	return c.jwt, nil
}
