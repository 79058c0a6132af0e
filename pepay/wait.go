package pepay

import (
	"context"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Polling defaults of WaitForInvoice.
const (
	DefaultPollInterval    = transport.DefaultPollInterval
	DefaultMaxPollInterval = transport.DefaultMaxPollInterval
)

// WaitOption configures WaitForInvoice.
type WaitOption func(*waitConfig)

type waitConfig = transport.WaitConfig[*InvoiceStatus]

// WithPollInterval sets the first wait between polls and the cap it grows to (×1.5 per
// unchanged poll, ±20% jitter; defaults 2 s and 30 s). Non-positive values keep the defaults.
func WithPollInterval(initial, max time.Duration) WaitOption {
	return func(c *waitConfig) { c.SetPollInterval(initial, max) }
}

// OnStatusChange calls fn with the first status seen and again each time the invoice's status
// changes (unpaid → underpaid → paid). fn runs on WaitForInvoice's goroutine; keep it quick.
func OnStatusChange(fn func(*InvoiceStatus)) WaitOption {
	return func(c *waitConfig) { c.OnChange = fn }
}

// WithCallOptions applies per-call options to every poll (each GetInvoiceStatus call):
// paykit.WithHeader and paykit.WithMaxRetries apply to each poll, paykit.WithTimeout bounds each
// poll (bound the whole wait with ctx), and paykit.WithResponseInfo receives the info of the
// latest poll. paykit.WithIdempotencyKey is refused: polling sends no write. Several
// WithCallOptions accumulate in order.
func WithCallOptions(opts ...paykit.CallOption) WaitOption {
	return func(c *waitConfig) { c.AddCallOptions(opts...) }
}

// WaitForInvoice polls GetInvoiceStatus until the invoice is paid, expired or canceled and
// returns that status. The wait between polls starts at the initial interval, grows while
// nothing changes and drops back to the initial interval after a change; it is jittered so many
// waiters do not poll in step. A 429's or 503's Retry-After is honoured when it is longer than
// the interval, up to the client's WithMaxRetryAfter (default 60 s): Pepay asking for a day's
// pause makes the next poll come after that cap, not after a day.
//
// Transient failures (connection errors, 429, 5xx — after the client's own retries) are retried
// within the loop; any other error (404, 401, a validation error, a client-side rate limiter
// that cannot admit the poll in time) is returned at once. When ctx ends it returns the last
// status seen (nil if none) with ctx's error wrapped. Per-call options for the polls go in
// WithCallOptions.
//
// Polling is the fallback; webhooks and Stream report the same changes sooner.
func (c *Client) WaitForInvoice(ctx context.Context, id string, opts ...WaitOption) (*InvoiceStatus, error) {
	if err := checkID("invoice_id", id); err != nil {
		return nil, err
	}
	cfg := transport.NewWaitConfig[*InvoiceStatus](opts)
	return transport.WaitFor(ctx, cfg, "pepay: waiting for invoice "+id, c.settings.MaxRetryAfter, id, c.GetInvoiceStatus,
		func(st *InvoiceStatus) string { return string(st.Status()) }, func(st *InvoiceStatus) bool { return st.Status().IsTerminal() })
}
