package pepay

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Polling defaults of WaitForInvoice.
const (
	DefaultPollInterval    = 2 * time.Second
	DefaultMaxPollInterval = 30 * time.Second
)

// WaitOption configures WaitForInvoice.
type WaitOption func(*waitConfig)

type waitConfig struct {
	initial, max time.Duration
	onChange     func(*InvoiceStatus)
	sleep        func(context.Context, time.Duration) error // nil: transport.Sleep; tests replace it
}

// WithPollInterval sets the first wait between polls and the cap it grows to (×1.5 per
// unchanged poll, ±20% jitter; defaults 2 s and 30 s). Non-positive values keep the defaults.
func WithPollInterval(initial, max time.Duration) WaitOption {
	return func(c *waitConfig) {
		if initial > 0 {
			c.initial = initial
		}
		if max > 0 {
			c.max = max
		}
	}
}

// OnStatusChange calls fn with the first status seen and again each time the invoice's status
// changes (unpaid → underpaid → paid). fn runs on WaitForInvoice's goroutine; keep it quick.
func OnStatusChange(fn func(*InvoiceStatus)) WaitOption {
	return func(c *waitConfig) { c.onChange = fn }
}

// WaitForInvoice polls GetInvoiceStatus until the invoice is paid, expired or canceled and
// returns that status. The wait between polls starts at the initial interval, grows while
// nothing changes and drops back to the initial interval after a change; it is jittered so many
// waiters do not poll in step. A 429's or 503's Retry-After is honoured when it is longer than
// the interval, up to the client's WithMaxRetryAfter (default 60 s): Pepay asking for a day's
// pause makes the next poll come after that cap, not after a day.
//
// Transient failures (connection errors, 429, 5xx — after the client's own retries) are retried
// within the loop; any other error (404, 401, a validation error) is returned at once. When ctx
// ends it returns the last status seen (nil if none) with ctx's error wrapped.
//
// Polling is the fallback; webhooks and Stream report the same changes sooner.
func (c *Client) WaitForInvoice(ctx context.Context, id string, opts ...WaitOption) (*InvoiceStatus, error) {
	if err := checkID("invoice_id", id); err != nil {
		return nil, err
	}
	cfg := waitConfig{initial: DefaultPollInterval, max: DefaultMaxPollInterval}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.max < cfg.initial {
		cfg.max = cfg.initial
	}
	sleep := cfg.sleep
	if sleep == nil {
		sleep = transport.Sleep
	}
	var last *InvoiceStatus
	interval := cfg.initial
	for {
		st, err := c.GetInvoiceStatus(ctx, id)
		wait := interval
		var retryAfter time.Duration // the server's wait, capped; never jittered down
		switch {
		case err == nil:
			changed := last == nil || last.Status() != st.Status()
			last = st
			if changed && cfg.onChange != nil {
				cfg.onChange(st)
			}
			if st.Status().IsTerminal() {
				return st, nil
			}
			if changed {
				interval = cfg.initial
				wait = interval
			}
		case ctx.Err() != nil:
			return last, fmt.Errorf("pepay: waiting for invoice %s: %w", id, ctx.Err())
		case !transient(err):
			return last, err
		default:
			var apiErr *paykit.Error
			if errors.As(err, &apiErr) {
				retryAfter = transport.CapRetryAfter(apiErr.RetryAfter, c.settings.MaxRetryAfter)
			}
		}
		if err := sleep(ctx, max(jitter(wait), retryAfter)); err != nil {
			return last, fmt.Errorf("pepay: waiting for invoice %s: %w", id, err)
		}
		interval = min(interval*3/2, cfg.max)
	}
}

// transient reports whether polling again may succeed: retryable API errors and transport
// failures, but not validation errors, refusals or unusable responses.
func transient(err error) bool {
	var apiErr *paykit.Error
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	var vErr *paykit.ValidationError
	switch {
	case errors.As(err, &vErr), errors.Is(err, paykit.ErrInvalidResponse), errors.Is(err, paykit.ErrResponseTooLarge),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return true
}

// jitter spreads d over [0.8d, 1.2d].
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	spread := int64(d) * 2 / 5
	return time.Duration(int64(d) - spread/2 + rand.Int64N(spread+1))
}
