package jopay

import (
	"context"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Polling defaults of WaitForRequest.
const (
	DefaultPollInterval    = transport.DefaultPollInterval
	DefaultMaxPollInterval = transport.DefaultMaxPollInterval
)

// WaitOption configures WaitForRequest.
type WaitOption func(*waitConfig)

type waitConfig = transport.WaitConfig[*PaymentRequest]

// WithPollInterval sets the first wait between polls and the cap it grows to (×1.5 per
// unchanged poll, ±20% jitter; defaults 2 s and 30 s). Non-positive values keep the defaults.
func WithPollInterval(initial, max time.Duration) WaitOption {
	return func(c *waitConfig) { c.SetPollInterval(initial, max) }
}

// OnStatusChange calls fn with the first request seen and again each time its status or proof
// status changes (requested → opened → paid). fn runs on WaitForRequest's goroutine; keep it
// quick.
func OnStatusChange(fn func(*PaymentRequest)) WaitOption {
	return func(c *waitConfig) { c.OnChange = fn }
}

// WithCallOptions applies opts to every poll's GetRequest (paykit.WithHeader,
// paykit.WithTimeout per poll, paykit.WithResponseInfo for the last poll, …).
func WithCallOptions(opts ...paykit.CallOption) WaitOption {
	return func(c *waitConfig) { c.AddCallOptions(opts...) }
}

// WaitForRequest polls GetRequest until the payment request is terminal — paid (proof
// verified), expired or cancelled, see PaymentRequest.IsTerminal — and returns it. The wait
// between polls starts at the initial interval, grows while nothing changes and drops back to
// the initial interval after a change; it is jittered so many waiters do not poll in step. A
// 429's or 503's Retry-After is honoured when it is longer than the interval, up to the
// client's WithMaxRetryAfter (default 60 s): JoPay asking for a day's pause makes the next poll
// come after that cap, not after a day. Every poll also waits on the client's rate limiter.
//
// Transient failures (connection errors, 429, 5xx — after the client's own retries) are
// retried within the loop; any other error (404, 401, a validation error) is returned at once
// with the last request seen. When ctx ends it returns the last request seen (nil if none) with
// ctx's error wrapped.
//
// Polling is the fallback; the payment.proof_verified webhook reports payment sooner.
func (c *Client) WaitForRequest(ctx context.Context, id string, opts ...WaitOption) (*PaymentRequest, error) {
	if _, err := requestPath(id, ""); err != nil {
		return nil, err
	}
	cfg := transport.NewWaitConfig[*PaymentRequest](opts)
	return transport.WaitFor(ctx, cfg, "jopay: waiting for request "+id, c.maxRetryAfter, id, c.GetRequest,
		func(r *PaymentRequest) string { return string(r.Status) + "/" + string(r.ProofStatus) }, (*PaymentRequest).IsTerminal)
}
