package paykit

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/paykit-go/paykit/internal/httpsyntax"
)

// CallOption adjusts one client call. Every method of every provider client takes trailing
// CallOptions, and so does each client's Do:
//
//	var info paykit.ResponseInfo
//	req, err := client.GetRequest(ctx, id,
//		paykit.WithTimeout(5*time.Second),
//		paykit.WithResponseInfo(&info))
//
// A CallOption with an invalid argument makes the call fail with a *ValidationError before
// anything is sent. The zero CallOption does nothing.
type CallOption struct {
	apply func(*CallConfig) error
}

// CallConfig is what a list of CallOptions asks for, as ResolveCallOptions computes it. Provider
// clients read it; a test double standing in for a paykit client can read it too.
type CallConfig struct {
	// IdempotencyKey is the key set by WithIdempotencyKey; "" for none.
	IdempotencyKey string
	// Header holds the headers set by WithHeader, in canonical form; nil for none.
	Header http.Header
	// Timeout bounds the whole call, retries and rate-limit waits included; 0 for none.
	Timeout time.Duration
	// MaxRetries is the retry limit set by WithMaxRetries; -1 keeps the client's.
	MaxRetries int
	// ResponseInfo, when not nil, is filled when the call ends (see WithResponseInfo).
	ResponseInfo *ResponseInfo
}

// ResolveCallOptions applies opts in order (a later option wins over an earlier one of the same
// kind; headers accumulate) and reports the first invalid one as a *ValidationError.
func ResolveCallOptions(opts ...CallOption) (CallConfig, error) {
	cfg := CallConfig{MaxRetries: -1}
	for _, o := range opts {
		if o.apply == nil {
			continue
		}
		if err := o.apply(&cfg); err != nil {
			return CallConfig{MaxRetries: -1}, err
		}
	}
	return cfg, nil
}

// maxCallRetries is the largest WithMaxRetries accepted, as for the client option.
const maxCallRetries = 10

// WithIdempotencyKey sends the call with this idempotency key, which makes a write safe to retry:
// the provider performs it at most once per key. It is accepted only by calls whose provider
// supports idempotency keys (JoPay's CreateRequest, Pepay's CreateInvoice, and JoPay Checkout's
// CreateSession on a client built WithIdempotencyHeader); any other call fails with a
// *ValidationError and sends nothing. When the params struct has an IdempotencyKey field too,
// this option wins. The provider decides the key's format; paykit checks it before sending.
func WithIdempotencyKey(key string) CallOption {
	return CallOption{func(c *CallConfig) error {
		if key == "" {
			return &ValidationError{Field: "WithIdempotencyKey", Reason: "the key must not be empty"}
		}
		if !printableASCII(key) || len(key) > 255 {
			return &ValidationError{Field: "WithIdempotencyKey", Reason: "the key must be 1–255 printable ASCII characters without spaces"}
		}
		c.IdempotencyKey = key
		return nil
	}}
}

// WithHeader adds a header to the call's request. A header the client sets itself
// (Authorization, the provider's key or signature headers, Content-Type, Content-Length,
// Host, the idempotency header, User-Agent) cannot be set this way: the call fails with a
// *ValidationError. Several WithHeader options with one name send every value.
func WithHeader(name, value string) CallOption {
	return CallOption{func(c *CallConfig) error {
		if !httpsyntax.IsToken(name) {
			return &ValidationError{Field: "WithHeader", Reason: fmt.Sprintf("%q is not a valid header name", name)}
		}
		if reservedHeader(name) {
			return &ValidationError{Field: "WithHeader", Reason: fmt.Sprintf("%s is set by the client and cannot be overridden per call", http.CanonicalHeaderKey(name))}
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return &ValidationError{Field: "WithHeader", Reason: fmt.Sprintf("the value of %s must not contain CR, LF or NUL", http.CanonicalHeaderKey(name))}
		}
		if c.Header == nil {
			c.Header = make(http.Header)
		}
		c.Header.Add(name, value)
		return nil
	}}
}

// WithTimeout bounds the whole call — every attempt, the backoff between them and any
// client-side rate-limit wait — to d, on top of the context's own deadline. d must be positive.
func WithTimeout(d time.Duration) CallOption {
	return CallOption{func(c *CallConfig) error {
		if d <= 0 {
			return &ValidationError{Field: "WithTimeout", Reason: fmt.Sprintf("the timeout must be positive, got %v", d)}
		}
		c.Timeout = d
		return nil
	}}
}

// WithMaxRetries sets how many times this call may be retried, 0–10, instead of the client's
// setting. It changes how often, not whether: a write that is not safe to repeat is never
// retried after it may have reached the provider.
func WithMaxRetries(n int) CallOption {
	return CallOption{func(c *CallConfig) error {
		if n < 0 || n > maxCallRetries {
			return &ValidationError{Field: "WithMaxRetries", Reason: fmt.Sprintf("max retries must be between 0 and %d, got %d", maxCallRetries, n)}
		}
		c.MaxRetries = n
		return nil
	}}
}

// WithResponseInfo fills *info when the call ends, whether it succeeded or failed: the final
// status and headers, the provider's request id, how many attempts were made, how long the
// call took and the rate-limit headers. info must not be nil.
func WithResponseInfo(info *ResponseInfo) CallOption {
	return CallOption{func(c *CallConfig) error {
		if info == nil {
			return &ValidationError{Field: "WithResponseInfo", Reason: "info must not be nil"}
		}
		c.ResponseInfo = info
		return nil
	}}
}

// reservedHeader reports whether the client owns the header: credentials, framing, the
// idempotency key and signatures.
func reservedHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "host", "content-length",
		"content-type", "transfer-encoding", "connection", "te", "upgrade", "user-agent",
		"idempotency-key", "x-idempotency-key":
		return true
	}
	for _, part := range [...]string{"api-key", "apikey", "token", "secret", "password", "signature"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

// printableASCII reports whether s is visible ASCII without spaces.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
