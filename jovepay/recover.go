package jovepay

import (
	"context"
	"errors"
	"fmt"
	"github.com/paykit-go/paykit"
	"time"

	"github.com/paykit-go/paykit/internal/transport"
)

// Recovering from an ambiguous create.
//
// POST /payment has no idempotency key. When it fails after the request may have reached
// JovePay — a 5xx, a dropped connection, a timeout — the error wraps paykit.ErrUnknownOutcome and the
// payment may or may not exist. Sending the create again blindly can leave two payments (two
// deposit addresses) for one order. What to do instead:
//
//  1. Always set a unique OrderID per order: it is the only handle on a payment whose id you
//     never received.
//  2. After paykit.ErrUnknownOutcome, look the payment up by order id (FindPaymentByOrderID, which
//     lists payments newest first with the JWT) — after a short pause, since the create may
//     still be in progress at JovePay.
//  3. Found: use it. Not found: it is then reasonably safe to create again. A payment created
//     anyway in the gap is never shown to the customer and simply expires unpaid.
//
// CreatePaymentOnce does exactly this.

// FindPaymentByOrderID returns the newest payment for orderID created at or after since (zero:
// no bound — every payment is scanned, which can be slow). Repeated deposits (child payments
// that carry the parent's order id) are skipped: the original payment is returned. It needs a
// JWT (WithCredentials) and returns ErrPaymentNotFound when nothing matches. opts apply to every
// page request of the scan; WithResponseInfo receives the last one's info.
func (c *Client) FindPaymentByOrderID(ctx context.Context, orderID string, since time.Time, opts ...paykit.CallOption) (*Payment, error) {
	if err := required("order_id", orderID); err != nil {
		return nil, err
	}
	return c.findPayment(ctx, since, func(p *Payment) bool { return p.OrderID() == orderID }, opts)
}

// findPayment scans payments newest first (server-side dateFrom = since) for the first original
// payment match accepts.
func (c *Client) findPayment(ctx context.Context, since time.Time, match func(*Payment) bool, opts []paykit.CallOption) (*Payment, error) {
	params := ListPaymentsParams{Limit: 100, SortBy: SortByCreatedAt, OrderBy: OrderDesc, DateFrom: since}
	for p, err := range c.ListPayments(ctx, params, opts...) {
		if err != nil {
			return nil, err
		}
		if !since.IsZero() && !p.CreatedAt.IsZero() && p.CreatedAt.Before(since) {
			break // newest first: everything after this is older still
		}
		if !p.IsRepeatedDeposit() && match(p) {
			return p, nil
		}
	}
	return nil, ErrPaymentNotFound
}

// OnceOptions tunes CreatePaymentOnce. The zero value is a good default.
type OnceOptions struct {
	// Since bounds the lookup to payments created after it (zero: one hour before the call by
	// the client's clock, a margin for clock skew between you and JovePay).
	Since time.Time
	// MaxCreates is how many create requests may be sent in all (default 2: the first, and one
	// more only after a lookup found nothing). 1 never re-sends: an ambiguous failure is looked
	// up and, when nothing is found, returned (wrapping paykit.ErrUnknownOutcome).
	MaxCreates int
	// LookupDelay is waited before each lookup so a create JovePay is still processing becomes
	// visible (default 2 s).
	LookupDelay time.Duration
}

// CreatePaymentOnce creates a payment for p.OrderID, recovering from ambiguous failures without
// creating a second payment the customer could see:
//
//   - A success or a definite failure (a 4xx, a validation error) is returned as
//     CreatePayment returns it.
//   - After an error wrapping paykit.ErrUnknownOutcome it waits LookupDelay, then looks for a payment
//     with the same order id, price, price currency and pay currency created since
//     OnceOptions.Since. Found: that payment is returned with a nil error.
//   - Not found: the create is sent again, up to MaxCreates requests in all; when they are used
//     up, the last error (wrapping paykit.ErrUnknownOutcome) is returned.
//   - A lookup that fails returns an error wrapping both paykit.ErrUnknownOutcome and the lookup's
//     error, without creating again.
//
// It needs p.OrderID (unique per order) and a client WithCredentials (the lookup lists payments
// with a JWT); both are checked before anything is sent. Residual risk: a create JovePay
// accepted but had not yet recorded at lookup time leaves an extra, unseen payment, which
// expires unpaid; use MaxCreates 1 if even that is unacceptable.
//
// opts apply to every request it sends, creates and lookups alike (WithTimeout bounds each
// request, not the whole recovery: bound that with ctx); WithResponseInfo receives the last
// request's info. WithIdempotencyKey is refused like on CreatePayment.
func (c *Client) CreatePaymentOnce(ctx context.Context, p CreatePaymentParams, o OnceOptions, opts ...paykit.CallOption) (*Payment, error) {
	if err := required("order_id", p.OrderID); err != nil {
		return nil, err
	}
	if _, err := c.jwtAuth("CreatePaymentOnce"); err != nil {
		return nil, err
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	if o.MaxCreates <= 0 {
		o.MaxCreates = 2
	}
	if o.LookupDelay <= 0 {
		o.LookupDelay = 2 * time.Second
	}
	since := o.Since
	if since.IsZero() {
		since = c.now().Add(-time.Hour)
	}
	same := func(got *Payment) bool {
		return got.OrderID() == p.OrderID && got.PriceAmount.Equal(p.PriceAmount) &&
			sameCurrency(got.PriceCurrency, p.PriceCurrency) && sameCurrency(got.PayCurrency, p.PayCurrency)
	}
	for attempt := 1; ; attempt++ {
		pay, err := c.CreatePayment(ctx, p, opts...)
		if err == nil || !errors.Is(err, paykit.ErrUnknownOutcome) {
			return pay, err
		}
		if werr := transport.Sleep(ctx, o.LookupDelay); werr != nil {
			return nil, fmt.Errorf("%w (lookup not made: %w)", err, werr)
		}
		found, lerr := c.findPayment(ctx, since, same, opts)
		switch {
		case lerr == nil:
			return found, nil
		case !errors.Is(lerr, ErrPaymentNotFound):
			return nil, fmt.Errorf("%w (looking the payment up by order id failed: %w)", err, lerr)
		case attempt >= o.MaxCreates:
			return nil, fmt.Errorf("%w (no payment found for the order id after %d create(s))", err, attempt)
		}
	}
}
