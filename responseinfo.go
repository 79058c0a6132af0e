package paykit

import (
	"net/http"
	"time"
)

// ResponseInfo describes how a call went, besides its result. WithResponseInfo asks a call to
// fill one; it is filled on success and on failure alike.
type ResponseInfo struct {
	// StatusCode is the HTTP status of the last response; 0 when no response arrived (a
	// connection error, a refused rate-limit wait, an invalid CallOption).
	StatusCode int
	// Header holds the last response's headers; nil when no response arrived.
	Header http.Header
	// RequestID is the provider's id for the last request (X-Request-Id, Request-Id or
	// X-Correlation-Id), to quote to its support; "" when it sent none.
	RequestID string
	// Attempts is how many times the request was sent: 1 plus the retries; 0 when it was never
	// sent.
	Attempts int
	// Duration is the time the whole call took: attempts, backoff and rate-limit waits.
	Duration time.Duration
	// IdempotencyKey is the idempotency key the request carried (a caller's, or one the client
	// generated); "" when it carried none. Keep it to retry the same write later.
	IdempotencyKey string
	// RateLimit is what the last response's rate-limit headers said.
	RateLimit RateLimit
}

// RateLimit is a provider's rate-limit headers, read from X-RateLimit-Limit,
// X-RateLimit-Remaining and X-RateLimit-Reset or their unprefixed RateLimit-* forms. Providers
// that send none leave it at its "unknown" values.
type RateLimit struct {
	// Limit is how many requests the current window allows; 0 when unknown.
	Limit int
	// Remaining is how many requests are left in the window; -1 when unknown.
	Remaining int
	// Reset is when the window resets; the zero time when unknown. A header that gives seconds
	// until the reset is converted to a time using the response's arrival.
	Reset time.Time
}

// Known reports whether the response carried any rate-limit header.
func (r RateLimit) Known() bool { return r.Limit > 0 || r.Remaining >= 0 || !r.Reset.IsZero() }
