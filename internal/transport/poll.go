package transport

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/paykit-go/paykit"
)

// Poll is the one polling loop behind every provider's WaitFor… method: fetch the object,
// report status changes, stop at a terminal status, back off (jittered, growing while nothing
// changes, back to Initial after a change), honour a 429's or 503's Retry-After up to
// MaxRetryAfter, retry transient failures and return any other error at once.
type Poll[S any] struct {
	// What names the wait in errors ("pepay: waiting for invoice inv_1").
	What string
	// Initial and Max bound the wait between polls (×1.5 per unchanged poll, ±20% jitter).
	Initial, Max time.Duration
	// MaxRetryAfter caps a Retry-After the provider sends (the client's WithMaxRetryAfter).
	MaxRetryAfter time.Duration
	// Fetch reads the object once.
	Fetch func(ctx context.Context) (S, error)
	// Status returns the object's status, compared to detect changes.
	Status func(S) string
	// Terminal reports whether the object has reached a final status.
	Terminal func(S) bool
	// OnChange, when set, is called with the first object seen and after every status change.
	OnChange func(S)
	// Sleep waits between polls; nil means Sleep (tests replace it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Run polls until a terminal status (returned with a nil error), a permanent error (returned
// with the last object seen), or the end of ctx (the last object seen and ctx's error wrapped).
func (p Poll[S]) Run(ctx context.Context) (S, error) {
	initial, maxWait := p.Initial, p.Max
	if initial <= 0 {
		initial = 2 * time.Second
	}
	if maxWait < initial {
		maxWait = initial
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	var last S
	seen := false
	lastStatus := ""
	interval := initial
	for {
		obj, err := p.Fetch(ctx)
		wait := interval
		var retryAfter time.Duration // the server's wait, capped; never jittered down
		switch {
		case err == nil:
			st := p.Status(obj)
			changed := !seen || st != lastStatus
			last, seen, lastStatus = obj, true, st
			if changed && p.OnChange != nil {
				p.OnChange(obj)
			}
			if p.Terminal(obj) {
				return obj, nil
			}
			if changed {
				interval = initial
				wait = interval
			}
		case ctx.Err() != nil:
			return last, fmt.Errorf("%s: %w", p.What, ctx.Err())
		case errors.Is(err, context.DeadlineExceeded):
			// One poll's own timeout (paykit.WithTimeout) while the wait's context is alive:
			// poll again.
		case !Transient(err):
			return last, err
		default:
			var apiErr *paykit.Error
			if errors.As(err, &apiErr) {
				retryAfter = CapRetryAfter(apiErr.RetryAfter, p.MaxRetryAfter)
			}
		}
		if err := sleep(ctx, max(Jitter(wait), retryAfter)); err != nil {
			return last, fmt.Errorf("%s: %w", p.What, err)
		}
		interval = min(interval*3/2, maxWait)
	}
}

// Transient reports whether trying again may succeed: retryable API errors and transport
// failures, but not validation errors, refusals, unusable responses, a refused rate-limit wait
// or the end of the context.
func Transient(err error) bool {
	var apiErr *paykit.Error
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	var vErr *paykit.ValidationError
	switch {
	case errors.As(err, &vErr), errors.Is(err, paykit.ErrInvalidResponse), errors.Is(err, paykit.ErrResponseTooLarge),
		errors.Is(err, paykit.ErrRateLimited), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return true
}

// Jitter spreads d over [0.8d, 1.2d].
func Jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	spread := int64(d) * 2 / 5
	return time.Duration(int64(d) - spread/2 + rand.Int64N(spread+1))
}

// Polling defaults of every WaitFor… method.
const (
	DefaultPollInterval    = 2 * time.Second
	DefaultMaxPollInterval = 30 * time.Second
)

// WaitConfig is what a provider's WaitOptions set: each provider declares
// `type WaitOption func(*waitConfig)` with `type waitConfig = transport.WaitConfig[*Object]`
// and its WithPollInterval, OnStatusChange and WithCallOptions call the setters here.
type WaitConfig[S any] struct {
	// Initial and Max bound the wait between polls (see Poll).
	Initial, Max time.Duration
	// OnChange is called with the first object seen and after every status change.
	OnChange func(S)
	// CallOptions are applied to every poll.
	CallOptions []paykit.CallOption
	// Sleep waits between polls; nil means Sleep (tests replace it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewWaitConfig applies opts (nil entries skipped) to the defaults.
func NewWaitConfig[S any, O ~func(*WaitConfig[S])](opts []O) WaitConfig[S] {
	c := WaitConfig[S]{Initial: DefaultPollInterval, Max: DefaultMaxPollInterval}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// SetPollInterval sets the bounds; non-positive values keep the current ones.
func (c *WaitConfig[S]) SetPollInterval(initial, max time.Duration) {
	if initial > 0 {
		c.Initial = initial
	}
	if max > 0 {
		c.Max = max
	}
}

// AddCallOptions appends per-call options applied to every poll.
func (c *WaitConfig[S]) AddCallOptions(opts ...paykit.CallOption) {
	c.CallOptions = append(c.CallOptions, opts...)
}

// WaitFor polls fetch(ctx, id, c.CallOptions...) under c until a terminal status (see Poll.Run).
func WaitFor[S, ID any](ctx context.Context, c WaitConfig[S], what string, maxRetryAfter time.Duration, id ID,
	fetch func(ctx context.Context, id ID, opts ...paykit.CallOption) (S, error), status func(S) string, terminal func(S) bool,
) (S, error) {
	return Poll[S]{
		What: what, Initial: c.Initial, Max: c.Max, MaxRetryAfter: maxRetryAfter,
		Fetch:  func(ctx context.Context) (S, error) { return fetch(ctx, id, c.CallOptions...) },
		Status: status, Terminal: terminal, OnChange: c.OnChange, Sleep: c.Sleep,
	}.Run(ctx)
}
