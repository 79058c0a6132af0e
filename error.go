package paykit

import (
	"encoding/json"
	"errors"
	"github.com/paykit-go/paykit/internal/jsonx"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxErrorBody bounds the copy of a response body kept in Error.Body.
const MaxErrorBody = 4 << 10

// Error is the one error type every provider client returns for a response the provider
// answered with a non-2xx status. Reach it with errors.As from any provider package (the
// provider packages do not re-export it):
//
//	var apiErr *paykit.Error
//	if errors.As(err, &apiErr) && apiErr.Code == "customer_name_required" { … }
//
// Switch on Code rather than Status: providers document that a code's status may change.
type Error struct {
	// Provider names the API that answered ("jopay", "jopaycheckout", "jovepay", "pepay").
	Provider string
	// Method is the HTTP method of the request that failed ("POST"), or "" when unknown.
	Method string
	// Path is the request's path relative to the client's base URL ("/requests/req_1"),
	// without the query string, as transport errors and log lines show it; "" when unknown.
	Path string
	// Status is the HTTP status code.
	Status int
	// Code is the provider's machine-readable error code ("customer_name_required",
	// "INVALID_REQUEST_PARAMS", "API_KEY_INVALID"), or "" when the body carried none.
	Code string
	// Message is the provider's human-readable message; for a non-JSON body (an HTML page from
	// a proxy) it is the status text and a short, sanitized excerpt.
	Message string
	// RequestID is the provider's request id (response header or body), when sent.
	RequestID string
	// RetryAfter is the wait the provider asked for (Retry-After header), or 0.
	RetryAfter time.Duration
	// Body is a bounded copy (at most MaxErrorBody bytes) of the raw response body, with any
	// credential the client knows about redacted.
	Body []byte
}

// Error reads like "jopay: 400 customer_name_required: customer name is required".
func (e *Error) Error() string {
	var b strings.Builder
	b.Grow(len(e.Provider) + len(e.Code) + len(e.Message) + 16)
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(e.Code)
	}
	if e.Message != "" && e.Message != e.Code {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Retryable reports whether sending the same request again later may succeed: rate limits
// (429), request timeouts (408) and server errors (5xx other than 501). It says nothing about
// whether a retry is safe; for writes without an idempotency key it may not be.
func (e *Error) Retryable() bool {
	switch {
	case e.Status == http.StatusTooManyRequests, e.Status == http.StatusRequestTimeout:
		return true
	case e.Status >= 500 && e.Status != http.StatusNotImplemented:
		return true
	}
	return false
}

// Detail returns a top-level string (or number) field of the error body, for the helper fields
// some providers add ("required_scope", "expected_fiat_code"), or "" when absent.
func (e *Error) Detail(name string) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(e.Body, &fields) != nil {
		return ""
	}
	s, _ := jsonx.Text(fields[name])
	return s
}

// IsStatus reports whether err is (or wraps) an *Error with the given HTTP status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// IsCode reports whether err is (or wraps) an *Error with the given provider error code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Sentinel errors for responses that could not be used. They are wrapped with detail; test with
// errors.Is.
var (
	// ErrResponseTooLarge means the response body exceeded the client's cap (default 10 MiB).
	ErrResponseTooLarge = errors.New("paykit: response body too large")
	// ErrInvalidResponse means a 2xx response could not be decoded: not JSON, truncated, or not
	// the expected shape.
	ErrInvalidResponse = errors.New("paykit: invalid response")
)

// ValidationError reports a request the client refused to send because a field breaks a
// documented rule (amount range, memo length, metadata limits, key format). Nothing was sent.
type ValidationError struct {
	// Field is the JSON name of the offending field ("fiat_amount_int", "metadata.order_id").
	Field string
	// Reason says what rule the value breaks. It never contains a credential.
	Reason string
	// Err, when set, is a sentinel the reason wraps (for example idempotency.ErrInvalidKey).
	Err error
}

// Error reads like "invalid fiat_amount_int: must be between 1 and 2147483647".
func (e *ValidationError) Error() string {
	return "invalid " + e.Field + ": " + e.Reason
}

// Unwrap returns the wrapped sentinel, if any.
func (e *ValidationError) Unwrap() error { return e.Err }

// ErrUnknownOutcome is wrapped when a write that has no idempotency mechanism failed after the
// request may have reached the provider (a dropped connection, a 5xx): the provider may or may
// not have acted on it, so the client did not retry. Look the object up before trying again.
var ErrUnknownOutcome = errors.New("paykit: outcome unknown: the request may have reached the provider")
