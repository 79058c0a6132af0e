package jopay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/ratelimit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Provider is the provider name used in errors and logs ("jopay: 400 customer_name_required").
const Provider = "jopay"

// Client talks to the JoPay Partner API v1. It is safe for concurrent use; build one per API key
// and share it.
type Client struct {
	t    *transport.Client
	mode Mode
	// merchantsLimit admits POST /merchants on the key's quota and its own at one instant,
	// instead of the client's limiter; nil when the caller chose a limiter (WithRateLimiter).
	merchantsLimit paykit.RateLimiter
	maxRetryAfter  time.Duration // WithMaxRetryAfter, for WaitForRequest
}

// Option configures NewClient. Options validate their argument; NewClient reports the first
// invalid one.
type Option func(*options) error

type options struct {
	transport.Settings
	slug  string
	clock ratelimit.Clock // the default limiters' clock; tests replace it
}

// JoPay's documented rate limits per API key, in sliding one-minute windows. The client keeps
// to them by default (see WithRateLimiter).
const (
	// RateLimitPerMinute is the limit on all calls of one key.
	RateLimitPerMinute = 60
	// CreateMerchantRateLimitPerMinute is the limit on POST /merchants (CreateMerchant), counted
	// besides RateLimitPerMinute.
	CreateMerchantRateLimitPerMinute = 30
)

// WithSlug selects the partner's own host, https://{slug}.jopay.app/api/v1. The slug is a DNS
// label: 1–63 characters of a–z, 0–9 and '-', not starting or ending with '-'. Use either
// WithSlug or WithBaseURL.
func WithSlug(slug string) Option {
	return func(o *options) error {
		if err := validateSlug(slug); err != nil {
			return transport.NamedOption("WithSlug", err)
		}
		o.slug = slug
		return nil
	}
}

// shared converts one of the client options every provider shares (internal/transport) into
// an Option.
func shared(so transport.Option) Option {
	return func(o *options) error { return so.Apply(&o.Settings) }
}

// The options below are shared by every paykit provider client, with the same validation and
// defaults; the README's "Client options" section describes them once.

// WithBaseURL sets the API root including /api/v1, as JoPay documents it: AdminBaseURL, a fake
// server (jopaytest) or a proxy. Use either WithSlug or WithBaseURL.
func WithBaseURL(url string) Option { return shared(transport.WithBaseURL(url)) }

// WithHTTPClient sets the *http.Client used for requests (shared option; see the README).
func WithHTTPClient(c *http.Client) Option { return shared(transport.WithHTTPClient(c)) }

// WithMaxRetries sets how many times a retryable call is retried (shared option; see the README).
func WithMaxRetries(n int) Option { return shared(transport.WithMaxRetries(n)) }

// WithRetryWait sets the backoff bounds between retries (shared option; see the README).
func WithRetryWait(min, max time.Duration) Option { return shared(transport.WithRetryWait(min, max)) }

// WithMaxRetryAfter sets the longest Retry-After waited for (shared option; see the README).
func WithMaxRetryAfter(d time.Duration) Option { return shared(transport.WithMaxRetryAfter(d)) }

// WithMaxResponseBytes caps response bodies (shared option; see the README).
func WithMaxResponseBytes(n int64) Option { return shared(transport.WithMaxResponseBytes(n)) }

// WithUserAgent overrides the User-Agent header (shared option; see the README).
func WithUserAgent(ua string) Option { return shared(transport.WithUserAgent(ua)) }

// WithLogger logs attempts and retries, never a credential (shared option; see the README).
func WithLogger(l *slog.Logger) Option { return shared(transport.WithLogger(l)) }

// WithRateLimiter paces the client's requests with l, waited on before every attempt, retries
// included (shared option; see the README).
//
// Without this option the client keeps to JoPay's documented limits by itself: at most
// RateLimitPerMinute (60) requests per minute, and CreateMerchant at most
// CreateMerchantRateLimitPerMinute (30) per minute on a bucket of its own (it waits on both).
// Each limit admits one request every window/n, so no sliding minute ever holds more. A wait
// that would outlast the context's deadline fails at once with an error wrapping
// paykit.ErrRateLimited, sending nothing. These limits are per client: clients sharing one key
// (several processes, a webhook worker and a nightly job) should share one limiter instead,
// for instance a *rate.Limiter (golang.org/x/time/rate) or a Redis-backed one passed here.
//
// WithRateLimiter(l) replaces both default limits: every call, CreateMerchant included, waits
// on l only. WithRateLimiter(nil) turns client-side limiting off.
func WithRateLimiter(l paykit.RateLimiter) Option { return shared(transport.WithRateLimiter(l)) }

// WithObserver reports every call and attempt to o, for tracing and metrics (shared option;
// see the README and the paykitotel package).
func WithObserver(o paykit.Observer) Option { return shared(transport.WithObserver(o)) }

// withClock runs the default rate limiters on clk instead of the real clock (tests).
func withClock(clk ratelimit.Clock) Option {
	return func(o *options) error { o.clock = clk; return nil }
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
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, transport.ConstructorError(Provider, err)
		}
	}
	switch {
	case o.slug != "" && o.BaseURL != "":
		return nil, errors.New("jopay: WithSlug: use WithSlug or WithBaseURL, not both")
	case o.slug != "":
		o.BaseURL = "https://" + o.slug + ".jopay.app/api/v1"
	case o.BaseURL == "":
		return nil, errors.New("jopay: WithSlug(slug) or WithBaseURL(url) is required")
	}
	var merchantsLimit paykit.RateLimiter
	if !o.RateLimiterSet {
		// One group: CreateMerchant is admitted on the key's bucket and its own at one instant,
		// so neither of JoPay's sliding windows ever sees more than its limit.
		g := ratelimit.NewGroup(o.clock)
		key := g.PerWindow(RateLimitPerMinute, time.Minute)
		o.RateLimiter = key
		merchantsLimit = g.All(key, g.PerWindow(CreateMerchantRateLimitPerMinute, time.Minute))
	}
	t, err := transport.New(transport.Config{
		Provider: Provider,
		Settings: o.Settings,
		Auth:     transport.Bearer(apiKey),

		// The Partner API root includes /api/v1.
		BaseURLRule: transport.BaseURLRule{VersionPath: "/api/v1", Want: AdminBaseURL + " or https://<slug>.jopay.app/api/v1"},
	})
	if err != nil {
		return nil, err
	}
	return &Client{t: t, mode: KeyMode(apiKey), merchantsLimit: merchantsLimit, maxRetryAfter: o.MaxRetryAfter}, nil
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
