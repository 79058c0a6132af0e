package jopay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/paykit-go/paykit/internal/transport"
)

// Provider is the provider name used in errors and logs ("jopay: 400 customer_name_required").
const Provider = "jopay"

// Client talks to the JoPay Partner API v1. It is safe for concurrent use; build one per API key
// and share it.
type Client struct {
	t    *transport.Client
	mode Mode
}

// Option configures NewClient. Options validate their argument; NewClient reports the first
// invalid one.
type Option func(*options) error

type options struct {
	transport.Settings
	slug    string
	baseURL string
}

// WithSlug selects the partner's own host, https://{slug}.jopay.app/api/v1. The slug is a DNS
// label: 1–63 characters of a–z, 0–9 and '-', not starting or ending with '-'. Use either
// WithSlug or WithBaseURL.
func WithSlug(slug string) Option {
	return func(o *options) error {
		if err := validateSlug(slug); err != nil {
			return err
		}
		o.slug = slug
		return nil
	}
}

// WithBaseURL sets the API base URL including its /api/v1 prefix, for the shared host
// (AdminBaseURL), a fake server (jopaytest) or a proxy. Use either WithSlug or WithBaseURL.
func WithBaseURL(url string) Option {
	return func(o *options) error {
		if err := o.SetBaseURL(url); err != nil {
			return err
		}
		o.baseURL = url
		return nil
	}
}

// WithHTTPClient sets the *http.Client used for requests (its Transport, Timeout and
// CheckRedirect apply). The default is a pooled client without an overall timeout: bound calls
// with their context.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error { return o.SetHTTPClient(c) }
}

// WithMaxRetries sets how many times a retryable call is retried (default 3, at most 10; 0
// disables retries). Reads, cancels and creates (which always carry an idempotency key) are
// retried on connection errors, 429 and 5xx.
func WithMaxRetries(n int) Option {
	return func(o *options) error { return o.SetMaxRetries(n) }
}

// WithRetryWait sets the backoff bounds between retries (default 500 ms to 8 s, jittered,
// doubling). A Retry-After header from JoPay takes precedence.
func WithRetryWait(min, max time.Duration) Option {
	return func(o *options) error { return o.SetRetryWait(min, max) }
}

// WithMaxRetryAfter sets the longest Retry-After the client waits for before retrying (default
// 60 s); when JoPay asks for longer, the 429 is returned to the caller at once.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(o *options) error { return o.SetMaxRetryAfter(d) }
}

// WithMaxResponseBytes caps response bodies (default 10 MiB).
func WithMaxResponseBytes(n int64) Option {
	return func(o *options) error { return o.SetMaxResponseBytes(n) }
}

// WithUserAgent overrides the User-Agent header (default "paykit-go/<version> (jopay)").
func WithUserAgent(ua string) Option {
	return func(o *options) error { return o.SetUserAgent(ua) }
}

// WithLogger logs each attempt at Debug and each retry at Info: method, path, status, attempt
// and duration, never the API key or a body. The default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return o.SetLogger(l) }
}

// AdminBaseURL is the shared Partner API host; it serves the same routes and data as the
// partner's own https://{slug}.jopay.app/api/v1.
const AdminBaseURL = "https://admin.jopay.app/api/v1"

// NewClient returns a client that authenticates with apiKey (sent as "Authorization: Bearer
// <key>"). WithSlug or WithBaseURL is required. The key must not be empty; keys normally start
// with jo_test_ (sandbox) or jo_live_ (production), see KeyMode, but other prefixes are
// accepted. Errors never contain the key.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("jopay: empty API key")
	}
	if strings.ContainsAny(apiKey, " \t\r\n") {
		return nil, errors.New("jopay: API key contains whitespace")
	}
	o := options{Settings: transport.DefaultSettings("")}
	for i, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("jopay: option %d: %w", i+1, err)
		}
	}
	switch {
	case o.slug != "" && o.baseURL != "":
		return nil, errors.New("jopay: use WithSlug or WithBaseURL, not both")
	case o.slug != "":
		o.BaseURL = "https://" + o.slug + ".jopay.app/api/v1"
	case o.baseURL == "":
		return nil, errors.New("jopay: WithSlug(slug) or WithBaseURL(url) is required")
	}
	t, err := transport.New(transport.Config{
		Provider: Provider,
		Settings: o.Settings,
		Auth:     transport.Bearer(apiKey),
	})
	if err != nil {
		return nil, err
	}
	return &Client{t: t, mode: KeyMode(apiKey)}, nil
}

// BaseURL returns the API base URL the client sends to, without a trailing slash.
func (c *Client) BaseURL() string { return c.t.BaseURL() }

// Mode reports whether the client's key is a sandbox (ModeTest) or production (ModeLive) key.
func (c *Client) Mode() Mode { return c.mode }

// Mode tells sandbox keys from production keys. Sandbox keys see only sandbox data.
type Mode string

// Key modes.
const (
	// ModeTest is a jo_test_… key: sandbox data only, no real money.
	ModeTest Mode = "test"
	// ModeLive is a jo_live_… key: production.
	ModeLive Mode = "live"
	// ModeUnknown is a key with neither documented prefix.
	ModeUnknown Mode = "unknown"
)

// Documented key prefixes.
const (
	TestKeyPrefix = "jo_test_"
	LiveKeyPrefix = "jo_live_"
)

// KeyMode reports the mode of apiKey from its documented prefix, without contacting JoPay.
func KeyMode(apiKey string) Mode {
	switch {
	case strings.HasPrefix(apiKey, TestKeyPrefix):
		return ModeTest
	case strings.HasPrefix(apiKey, LiveKeyPrefix):
		return ModeLive
	}
	return ModeUnknown
}

// validateSlug checks that slug is one DNS label, so it cannot change the host it is put in.
func validateSlug(slug string) error {
	if slug == "" || len(slug) > 63 {
		return fmt.Errorf("invalid slug: must be 1–63 characters, got %d", len(slug))
	}
	for i := 0; i < len(slug); i++ {
		c := slug[i]
		ok := 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' && i != 0 && i != len(slug)-1
		if !ok {
			return fmt.Errorf("invalid slug %q: use lower-case letters, digits and inner hyphens only", slug)
		}
	}
	return nil
}
