package jopaycheckout

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/httpsyntax"
	"github.com/paykit-go/paykit/internal/transport"
)

// DefaultBaseURL is JoPay Checkout's production API.
const DefaultBaseURL = "https://jopay.me/api/checkout/v1"

// Provider is the provider name used in errors and logs ("jopaycheckout: 400 missing_success_url").
const Provider = "jopaycheckout"

// Client calls the JoPay Checkout API. It is safe for concurrent use.
type Client struct {
	t          *transport.Client
	mode       Mode
	idemHeader string // "" unless WithIdempotencyHeader: Checkout documents no idempotency
}

// Option configures NewClient. Options are validated when the client is built; a bad value
// makes NewClient fail instead of misbehaving later.
type Option func(*options) error

type options struct {
	transport.Settings
	idemHeader string
}

// shared converts one of the client options every provider shares (internal/transport) into
// an Option.
func shared(so transport.Option) Option {
	return func(o *options) error { return so.Apply(&o.Settings) }
}

// The options below are shared by every paykit provider client, with the same validation and
// defaults; the README's "Client options" section describes them once.

// WithBaseURL sets the API root including /api/checkout/v1, as JoPay documents it (default
// DefaultBaseURL), for a fake server (jopaycheckouttest) or a proxy.
func WithBaseURL(baseURL string) Option { return shared(transport.WithBaseURL(baseURL)) }

// WithHTTPClient sets the *http.Client used for requests (shared option; see the README).
func WithHTTPClient(c *http.Client) Option { return shared(transport.WithHTTPClient(c)) }

// WithMaxRetries sets how many times a retryable call is retried (shared option; see the
// README and the package documentation for which calls are retryable).
func WithMaxRetries(n int) Option { return shared(transport.WithMaxRetries(n)) }

// WithRetryWait sets the backoff bounds between retries (shared option; see the README).
func WithRetryWait(min, max time.Duration) Option { return shared(transport.WithRetryWait(min, max)) }

// WithMaxRetryAfter sets the longest Retry-After waited for (shared option; see the README).
func WithMaxRetryAfter(d time.Duration) Option { return shared(transport.WithMaxRetryAfter(d)) }

// WithMaxResponseBytes caps response bodies (shared option; see the README).
func WithMaxResponseBytes(n int64) Option { return shared(transport.WithMaxResponseBytes(n)) }

// WithLogger logs attempts and retries, never a credential (shared option; see the README).
func WithLogger(l *slog.Logger) Option { return shared(transport.WithLogger(l)) }

// WithUserAgent overrides the User-Agent header (shared option; see the README).
func WithUserAgent(ua string) Option { return shared(transport.WithUserAgent(ua)) }

// WithRateLimiter paces the client's requests with l, waited on before every attempt, retries
// included (shared option; see the README). JoPay Checkout publishes no rate limits, so the
// client has no limiter by default; a wait that would outlast the context's deadline fails at
// once with an error wrapping paykit.ErrRateLimited. nil turns limiting off.
func WithRateLimiter(l paykit.RateLimiter) Option { return shared(transport.WithRateLimiter(l)) }

// WithObserver reports every call and attempt to o, for tracing and metrics (shared option;
// see the README and the paykitotel package).
func WithObserver(o paykit.Observer) Option { return shared(transport.WithObserver(o)) }

// WithIdempotencyHeader makes CreateSession send CreateSessionParams.IdempotencyKey (generated
// when empty) in the named header, and retry the create like any keyed write.
//
// JoPay Checkout does not document an idempotency header, so this is off by default: use it
// only once JoPay has confirmed that the header (for example "Idempotency-Key") is honoured.
// A server that ignores the header would make a retried create a second session.
//
// With this option, paykit.WithIdempotencyKey is accepted by CreateSession and by Do, and sent
// in the same header.
func WithIdempotencyHeader(name string) Option {
	return func(o *options) error {
		if !httpsyntax.IsToken(name) {
			return transport.NamedOption("WithIdempotencyHeader", errors.New("idempotency header name must be a non-empty HTTP header name"))
		}
		o.idemHeader = name
		return nil
	}
}

// Mode tells development (test) keys from production (live) keys.
type Mode string

// Key modes.
const (
	// ModeTest is an sk_test_… key, for development.
	ModeTest Mode = "test"
	// ModeLive is an sk_live_… key, for production.
	ModeLive Mode = "live"
	// ModeUnknown is a key with neither prefix. It is still sent as given: JoPay may issue other
	// key formats.
	ModeUnknown Mode = "unknown"
)

// Key prefixes. The live prefix is documented; the test prefix is inferred from the docs'
// "test keys" wording.
const (
	TestKeyPrefix = "sk_test_"
	LiveKeyPrefix = "sk_live_"
)

// KeyMode reports the mode of apiKey from its prefix, without contacting JoPay. Keys with
// another prefix are ModeUnknown.
func KeyMode(apiKey string) Mode {
	switch {
	case strings.HasPrefix(apiKey, TestKeyPrefix):
		return ModeTest
	case strings.HasPrefix(apiKey, LiveKeyPrefix):
		return ModeLive
	}
	return ModeUnknown
}

// NewClient returns a client that authenticates with apiKey ("Authorization: Bearer <key>"),
// sending to DefaultBaseURL unless WithBaseURL says otherwise. Keys normally start with sk_test_
// or sk_live_ (see KeyMode), but other prefixes are accepted. It fails for an empty key, a key
// with whitespace or control characters, or an invalid option; errors never contain the key.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("jopaycheckout: empty API key")
	}
	for i := 0; i < len(apiKey); i++ {
		if c := apiKey[i]; c <= ' ' || c == 0x7f {
			return nil, errors.New("jopaycheckout: API key contains whitespace or control characters")
		}
	}
	o := options{Settings: transport.DefaultSettings(DefaultBaseURL)}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, transport.ConstructorError(Provider, err)
		}
	}
	t, err := transport.New(transport.Config{
		Provider: Provider, Settings: o.Settings, Auth: transport.Bearer(apiKey),
		// The Checkout API root includes /api/checkout/v1.
		BaseURLRule: transport.BaseURLRule{VersionPath: "/api/checkout/v1", Want: DefaultBaseURL},
	})
	if err != nil {
		return nil, err
	}
	return &Client{t: t, mode: KeyMode(apiKey), idemHeader: o.idemHeader}, nil
}

// Mode reports whether the client's key is a test or a live key.
func (c *Client) Mode() Mode { return c.mode }

// BaseURL returns the API base URL the client sends to, without a trailing slash.
func (c *Client) BaseURL() string { return c.t.BaseURL() }
