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

// The client options every provider shares are written here once. Each provider package wraps
// each one in a single line (jopay.WithMaxRetries(n) is Shared(transport.WithMaxRetries(n))
// converted to jopay.Option), so validation, defaults and error texts are the same everywhere:
//
//   - WithBaseURL: the API root including its version path, checked against the provider's
//     BaseURLRule when the client is built.
//   - WithHTTPClient: the *http.Client whose Transport, Timeout and Jar are used (not modified);
//     redirects to another host are never followed.
//   - WithMaxRetries: retries of a retryable call, 0–10 (default 3).
//   - WithRetryWait: backoff bounds, 0 < min <= max (default 500 ms to 8 s, jittered, doubling).
//   - WithMaxRetryAfter: the longest Retry-After waited for (default 60 s).
//   - WithMaxResponseBytes: the response body cap (default 10 MiB).
//   - WithUserAgent: the User-Agent (default "paykit-go/<version> (<provider>)").
//   - WithLogger: Debug line per attempt, Info line per retry; never a credential, header or
//     query string (default silent).
//   - WithRateLimiter: a paykit.RateLimiter waited on before every attempt (default none, except
//     JoPay's documented limits); nil turns limiting off.
//   - WithObserver: a paykit.Observer told about every call and attempt (paykitotel).

// Option is one shared client option: its exported name, for constructor errors, and the setter
// it applies to the provider's Settings.
type Option struct {
	// Name is the option's function name ("WithBaseURL").
	Name string
	// Set validates the argument and stores it.
	Set func(*Settings) error
}

// Apply runs o's setter; its error names the option (see OptionError).
func (o Option) Apply(s *Settings) error {
	if err := o.Set(s); err != nil {
		return &OptionError{Option: o.Name, Err: err}
	}
	return nil
}

// OptionError is a constructor option that refused its argument. Provider constructors report
// it as "<provider>: <Option>: <reason>".
type OptionError struct {
	// Option is the option's function name ("WithBaseURL").
	Option string
	// Err says why the argument was refused.
	Err error
}

// Error reads like "WithMaxRetries: max retries must be between 0 and 10, got 11".
func (e *OptionError) Error() string { return e.Option + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *OptionError) Unwrap() error { return e.Err }

// NamedOption wraps err, when not nil, in an *OptionError naming option; an error that already
// is one is returned as it is.
func NamedOption(option string, err error) error {
	var oe *OptionError
	if err == nil || errors.As(err, &oe) {
		return err
	}
	return &OptionError{Option: option, Err: err}
}

// ConstructorError formats a constructor failure as "<provider>: <reason>", where the reason of
// an option names the option.
func ConstructorError(provider string, err error) error {
	return fmt.Errorf("%s: %w", provider, err)
}

// WithBaseURL is the shared WithBaseURL option.
func WithBaseURL(u string) Option {
	return Option{"WithBaseURL", func(s *Settings) error { return s.SetBaseURL(u) }}
}

// WithHTTPClient is the shared WithHTTPClient option.
func WithHTTPClient(c *http.Client) Option {
	return Option{"WithHTTPClient", func(s *Settings) error { return s.SetHTTPClient(c) }}
}

// WithMaxRetries is the shared WithMaxRetries option.
func WithMaxRetries(n int) Option {
	return Option{"WithMaxRetries", func(s *Settings) error { return s.SetMaxRetries(n) }}
}

// WithRetryWait is the shared WithRetryWait option.
func WithRetryWait(min, max time.Duration) Option {
	return Option{"WithRetryWait", func(s *Settings) error { return s.SetRetryWait(min, max) }}
}

// WithMaxRetryAfter is the shared WithMaxRetryAfter option.
func WithMaxRetryAfter(d time.Duration) Option {
	return Option{"WithMaxRetryAfter", func(s *Settings) error { return s.SetMaxRetryAfter(d) }}
}

// WithMaxResponseBytes is the shared WithMaxResponseBytes option.
func WithMaxResponseBytes(n int64) Option {
	return Option{"WithMaxResponseBytes", func(s *Settings) error { return s.SetMaxResponseBytes(n) }}
}

// WithUserAgent is the shared WithUserAgent option.
func WithUserAgent(ua string) Option {
	return Option{"WithUserAgent", func(s *Settings) error { return s.SetUserAgent(ua) }}
}

// WithLogger is the shared WithLogger option.
func WithLogger(l *slog.Logger) Option {
	return Option{"WithLogger", func(s *Settings) error { return s.SetLogger(l) }}
}

// WithRateLimiter is the shared WithRateLimiter option.
func WithRateLimiter(l paykit.RateLimiter) Option {
	return Option{"WithRateLimiter", func(s *Settings) error { return s.SetRateLimiter(l) }}
}

// WithObserver is the shared WithObserver option.
func WithObserver(o paykit.Observer) Option {
	return Option{"WithObserver", func(s *Settings) error { return s.SetObserver(o) }}
}

// BaseURLRule is what a provider's base URL must look like: the API root including its version
// path, exactly as the provider documents it. One rule for every provider, checked once when
// the client is built (CheckBaseURL).
type BaseURLRule struct {
	// VersionPath is the path the base URL must end with ("/api/v1", "/v1"); "" accepts any.
	VersionPath string
	// Want is the expected form shown in errors ("https://admin.jopay.app/api/v1").
	Want string
	// AddVersionPath completes a base URL whose path is empty (a bare host, the form older
	// releases documented) with VersionPath instead of refusing it.
	AddVersionPath bool
}

// CheckBaseURL checks raw against the rule and returns the base URL to use (raw without a
// trailing slash, or completed with the version path, see AddVersionPath). It refuses, with an
// error that shows the expected form, a URL that ValidateBaseURL refuses (not http or https, no
// host, user info, a query or fragment), one without the version path, and one with the version
// path twice (".../api/v1/api/v1").
func (r BaseURLRule) CheckBaseURL(raw string) (string, error) {
	if err := ValidateBaseURL(raw); err != nil {
		return "", r.want(err)
	}
	base := strings.TrimRight(raw, "/")
	if r.VersionPath == "" {
		return base, nil
	}
	u, _ := url.Parse(base) // valid: checked above
	path := strings.TrimRight(u.EscapedPath(), "/")
	switch {
	case path == "" && r.AddVersionPath:
		return base + r.VersionPath, nil
	case strings.HasSuffix(path, r.VersionPath+r.VersionPath):
		return "", r.want(fmt.Errorf("%q repeats %s", u.Redacted(), r.VersionPath))
	case !strings.HasSuffix(path, r.VersionPath):
		return "", r.want(fmt.Errorf("%q has no %s path", u.Redacted(), r.VersionPath))
	}
	return base, nil
}

func (r BaseURLRule) want(err error) error {
	if r.Want == "" {
		return err
	}
	return fmt.Errorf("%w; want %s", err, r.Want)
}
