package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
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

// ValidateBaseURL reports whether raw is usable as a base URL.
func ValidateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("invalid base URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("invalid base URL %q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("invalid base URL: must not carry a query, fragment or user info")
	}
	return nil
}

// SetHTTPClient sets the *http.Client whose Transport, Timeout, Jar and CheckRedirect are used.
// The client is not modified.
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
	if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n") {
		return errors.New("user agent must be non-empty and on one line")
	}
	s.UserAgent = ua
	return nil
}

// SetLogger sets the logger (nil is refused; the default is silent). Lines never carry
// credentials: only method, path, status, attempt and duration.
func (s *Settings) SetLogger(l *slog.Logger) error {
	if l == nil {
		return errors.New("nil *slog.Logger")
	}
	s.Logger = l
	return nil
}
