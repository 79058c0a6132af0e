package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
)

// Defaults of the shared client settings.
const (
	DefaultMaxRetries       = 3
	DefaultRetryWaitMin     = 500 * time.Millisecond
	DefaultRetryWaitMax     = 8 * time.Second
	DefaultMaxRetryAfter    = 60 * time.Second
	DefaultMaxResponseBytes = 10 << 20
	// maxRetriesLimit keeps a misconfiguration from hammering a provider.
	maxRetriesLimit = 10
)

// Settings are the options every provider client shares. Provider packages embed Settings in
// their own option struct and expose one With… function per setter, so validation lives here
// once and every client fails the same way on the same bad input.
type Settings struct {
	BaseURL          string
	HTTPClient       *http.Client
	MaxRetries       int
	RetryWaitMin     time.Duration
	RetryWaitMax     time.Duration
	MaxRetryAfter    time.Duration
	MaxResponseBytes int64
	UserAgent        string
	Logger           *slog.Logger
	// RateLimiter paces every request when not nil.
	RateLimiter paykit.RateLimiter
	// RateLimiterSet records that WithRateLimiter was given (even with nil), so a provider
	// with a default limiter (JoPay) knows the caller chose.
	RateLimiterSet bool
	// Observer hears about every call when not nil.
	Observer paykit.Observer
}

// DefaultSettings returns the defaults: 3 retries, 500 ms–8 s backoff, Retry-After capped at
// 60 s, 10 MiB responses, silent logging. BaseURL is the provider's production URL.
func DefaultSettings(baseURL string) Settings {
	return Settings{
		BaseURL:          baseURL,
		MaxRetries:       DefaultMaxRetries,
		RetryWaitMin:     DefaultRetryWaitMin,
		RetryWaitMax:     DefaultRetryWaitMax,
		MaxRetryAfter:    DefaultMaxRetryAfter,
		MaxResponseBytes: DefaultMaxResponseBytes,
	}
}

// SetBaseURL validates and sets the base URL: absolute http or https, a host, no query or
// fragment. A path prefix ("/api/v1") is kept; a trailing slash is ignored.
func (s *Settings) SetBaseURL(raw string) error {
	if err := ValidateBaseURL(raw); err != nil {
		return err
	}
	s.BaseURL = raw
	return nil
}

// ValidateBaseURL reports whether raw is usable as a base URL: absolute http or https, a host
// name, no user info, query or fragment (not even an empty "?" or "#"). The error never repeats
// user info, which may hold a password.
func ValidateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // *url.Error repeats the whole input
		}
		return fmt.Errorf("invalid base URL: %w", err)
	}
	if u.User != nil {
		return errors.New("invalid base URL: must not carry user info")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("invalid base URL %q: scheme must be http or https", u.Redacted())
	}
	if u.Hostname() == "" {
		return fmt.Errorf("invalid base URL %q: no host", u.Redacted())
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(raw, "?#") {
		return fmt.Errorf("invalid base URL %q: must not carry a query or fragment", u.Redacted())
	}
	return nil
}

// SetHTTPClient sets the *http.Client whose Transport, Timeout, Jar and CheckRedirect are used.
// The client is not modified. Its CheckRedirect only sees redirects within the base URL's
// origin: a redirect to another scheme, host or port always ends the call (see
// ConfineRedirects), so credentials never leave the configured host.
func (s *Settings) SetHTTPClient(c *http.Client) error {
	if c == nil {
		return errors.New("nil *http.Client")
	}
	s.HTTPClient = c
	return nil
}

// SetMaxRetries sets how many times a retryable call is retried (0 disables retries; at most 10).
func (s *Settings) SetMaxRetries(n int) error {
	if n < 0 || n > maxRetriesLimit {
		return fmt.Errorf("max retries must be between 0 and %d, got %d", maxRetriesLimit, n)
	}
	s.MaxRetries = n
	return nil
}

// SetRetryWait sets the backoff bounds: the first retry waits about min, each later one twice as
// long, never more than max, with jitter.
func (s *Settings) SetRetryWait(min, max time.Duration) error {
	if min <= 0 || max < min {
		return fmt.Errorf("retry wait needs 0 < min <= max, got %v and %v", min, max)
	}
	s.RetryWaitMin, s.RetryWaitMax = min, max
	return nil
}

// SetMaxRetryAfter sets the longest Retry-After the client will wait for; a provider asking for
// more gets its error returned at once instead of blocking the caller.
func (s *Settings) SetMaxRetryAfter(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("max Retry-After must not be negative, got %v", d)
	}
	s.MaxRetryAfter = d
	return nil
}

// SetMaxResponseBytes caps response bodies; a larger body fails with paykit.ErrResponseTooLarge.
func (s *Settings) SetMaxResponseBytes(n int64) error {
	if n <= 0 {
		return fmt.Errorf("max response bytes must be positive, got %d", n)
	}
	s.MaxResponseBytes = n
	return nil
}

// SetUserAgent overrides the User-Agent header.
func (s *Settings) SetUserAgent(ua string) error {
	if strings.TrimSpace(ua) == "" || strings.ContainsFunc(ua, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("user agent must be non-empty and free of control characters")
	}
	s.UserAgent = ua
	return nil
}

// SetLogger sets the logger (nil is refused; the default is silent). One Debug line per attempt
// (provider, method, path without query, attempt, duration, status or a redacted error) and one
// Info line per retry (reason, wait). Lines never carry headers, query strings or credentials.
func (s *Settings) SetLogger(l *slog.Logger) error {
	if l == nil {
		return errors.New("nil *slog.Logger")
	}
	s.Logger = l
	return nil
}

// SetRateLimiter sets the limiter every request waits on before each attempt. nil turns
// client-side limiting off, including a provider's default.
func (s *Settings) SetRateLimiter(l paykit.RateLimiter) error {
	s.RateLimiter, s.RateLimiterSet = l, true
	return nil
}

// SetObserver sets the observer told about every call (nil is refused; the default is none).
func (s *Settings) SetObserver(o paykit.Observer) error {
	if o == nil {
		return errors.New("nil paykit.Observer")
	}
	s.Observer = o
	return nil
}
