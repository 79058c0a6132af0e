package jovepay

import (
	"context"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Polling defaults of WaitForPayment.
const (
	DefaultPollInterval    = transport.DefaultPollInterval
	DefaultMaxPollInterval = transport.DefaultMaxPollInterval
)

// WaitOption configures WaitForPayment.
type WaitOption func(*waitConfig)

type waitConfig = transport.WaitConfig[*Payment]

// WithPollInterval sets the first wait between polls and the cap it grows to (×1.5 per
// unchanged poll, ±20% jitter; defaults 2 s and 30 s). Non-positive values keep the defaults.
func WithPollInterval(initial, max time.Duration) WaitOption {
	return func(c *waitConfig) { c.SetPollInterval(initial, max) }
}

// OnStatusChange calls fn with the first payment seen and again each time the payment's status
// changes (waiting → confirming → confirmed → sending → finished). fn runs on WaitForPayment's
// goroutine; keep it quick.
func OnStatusChange(fn func(*Payment)) WaitOption {
	return func(c *waitConfig) { c.OnChange = fn }
}

// WithCallOptions applies opts to every poll (every GET /payment/{id}): a header, a timeout per
// poll, a retry limit. WithResponseInfo receives the last poll's info. WithIdempotencyKey makes
// the first poll fail with a *paykit.ValidationError, as GetPayment does.
func WithCallOptions(opts ...paykit.CallOption) WaitOption {
	return func(c *waitConfig) { c.AddCallOptions(opts...) }
}

// WaitForPayment polls GetPayment until the payment reaches a final status (finished, failed,
// refunded or expired; see PaymentStatus.IsTerminal) and returns it. partially_paid is not
// final: the wait goes on until the payment expires or is settled. The wait between polls
// starts at the initial interval, grows while nothing changes and drops back to the initial
// interval after a change; it is jittered so many waiters do not poll in step. A 429's or 503's
// Retry-After is honoured when it is longer than the interval, up to the client's
// WithMaxRetryAfter (default 60 s): JovePay asking for a day's pause makes the next poll come
// after that cap, not after a day.
//
// Transient failures (connection errors, 429, 5xx — after the client's own retries — and a poll
// that outlasts its own WithTimeout given through WithCallOptions) are retried within the loop;
// any other error (404, 401/403, a validation error) is returned at once with the last payment
// seen (an invalid id, before anything is sent). When ctx ends it returns the last payment seen
// (nil if none) with ctx's error wrapped.
//
// Polling is the fallback for servers that cannot receive IPNs; NewIPNHandler reports the same
// changes sooner. An unpaid payment expires after 7 days, so bound ctx.
func (c *Client) WaitForPayment(ctx context.Context, id ID, opts ...WaitOption) (*Payment, error) {
	cfg := transport.NewWaitConfig[*Payment](opts)
	return transport.WaitFor(ctx, cfg, "jovepay: waiting for payment "+string(id), c.maxRetryAfter, id, c.GetPayment,
		func(p *Payment) string { return string(p.Status) }, func(p *Payment) bool { return p.Status.IsTerminal() })
}
