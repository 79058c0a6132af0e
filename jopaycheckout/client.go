package jopaycheckout

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

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

// WithBaseURL points the client at another endpoint (a fake server, a proxy): an absolute http or
// https URL without query or fragment. A path prefix is kept. Default DefaultBaseURL.
func WithBaseURL(baseURL string) Option {
	return func(o *options) error { return o.SetBaseURL(baseURL) }
}

// WithHTTPClient sets the *http.Client used to send requests (its Transport, Timeout and
// CheckRedirect are used as they are). Default: a pooled client with no overall timeout; bound
// calls with their context.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error { return o.SetHTTPClient(c) }
}

// WithMaxRetries sets how many times a retryable call is retried (0–10, default 3). See the
// package documentation for which calls are retryable.
func WithMaxRetries(n int) Option {
	return func(o *options) error { return o.SetMaxRetries(n) }
}

// WithRetryWait sets the backoff between retries: about min before the first, doubling up to
// max, with jitter (default 500 ms to 8 s). A Retry-After header takes precedence.
func WithRetryWait(min, max time.Duration) Option {
	return func(o *options) error { return o.SetRetryWait(min, max) }
}

// WithMaxRetryAfter sets the longest Retry-After the client waits for before retrying (default
// 60 s); longer requests return the error at once.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(o *options) error { return o.SetMaxRetryAfter(d) }
}

// WithMaxResponseBytes caps response bodies (default 10 MiB).
func WithMaxResponseBytes(n int64) Option {
	return func(o *options) error { return o.SetMaxResponseBytes(n) }
}

// WithLogger logs each attempt (Debug) and each retry (Info). Lines carry method, path, status,
// attempt and duration, never the API key or a body.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return o.SetLogger(l) }
}

// WithUserAgent overrides the User-Agent header (default "paykit-go/<version> (jopaycheckout)").
func WithUserAgent(ua string) Option {
	return func(o *options) error { return o.SetUserAgent(ua) }
}

// WithIdempotencyHeader makes CreateSession send CreateSessionParams.IdempotencyKey (generated
// when empty) in the named header, and retry the create like any keyed write.
//
// JoPay Checkout does not document an idempotency header, so this is off by default: use it
// only once JoPay has confirmed that the header (for example "Idempotency-Key") is honoured.
// A server that ignores the header would make a retried create a second session.
func WithIdempotencyHeader(name string) Option {
	return func(o *options) error {
		if !isToken(name) {
			return errors.New("idempotency header name must be a non-empty HTTP header name")
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
	for i, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("jopaycheckout: option %d: %w", i+1, err)
		}
	}
	t, err := transport.New(transport.Config{Provider: Provider, Settings: o.Settings, Auth: transport.Bearer(apiKey)})
	if err != nil {
		return nil, err
	}
	return &Client{t: t, mode: KeyMode(apiKey), idemHeader: o.idemHeader}, nil
}

// Mode reports whether the client's key is a test or a live key.
func (c *Client) Mode() Mode { return c.mode }

// BaseURL returns the API base URL the client sends to, without a trailing slash.
func (c *Client) BaseURL() string { return c.t.BaseURL() }

// isToken reports whether s is an HTTP token (RFC 9110), the syntax of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
