package jovepaytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/fakeserver"
	"github.com/paykit-go/paykit/jovepay"
)

// Lifecycle helpers play the customer's and JovePay's part: each status change is applied and
// then announced with a signed IPN posted to the payment's ipn_callback_url (if it has one),
// retried on any non-2xx answer as JovePay's "recurrent notifications" are. Deliveries are
// synchronous — a helper returns after the receiver answered or the attempts ran out — and are
// recorded (Deliveries). Helpers return an error only for an unknown payment or a transition
// JovePay would not make; an unacknowledged IPN is not an error (inspect Deliveries).

// ErrTransition is wrapped when a helper asks for a status change JovePay would not make.
var ErrTransition = errors.New("jovepaytest: invalid payment transition")

// serviceFee is the share JovePay keeps in this fake: outcome_amount = actually_paid × 0.995.
var serviceFee = paykit.MustDecimal("0.995")

// Payment returns the current state of a payment, as GET /payment/{id} would.
func (s *Server) Payment(id jovepay.ID) (*jovepay.Payment, error) {
	s.mu.Lock()
	p, apiErr := s.lookup(string(id))
	var w wirePayment
	if apiErr == nil {
		w = p.render(false)
	}
	s.mu.Unlock()
	if apiErr != nil {
		return nil, apiErr
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	var out jovepay.Payment
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Advance moves a payment to status and delivers the IPN. Payments in a final status do not
// move, except finished → refunded. Moving to confirmed, sending or finished with nothing paid
// yet records a full payment (actually_paid = pay_amount).
func (s *Server) Advance(ctx context.Context, id jovepay.ID, status jovepay.PaymentStatus) error {
	return s.update(ctx, id, func(p *payment) error { return s.setStatus(p, status) })
}

func (s *Server) setStatus(p *payment, status jovepay.PaymentStatus) error {
	if p.status.IsFinal() && !(p.status == jovepay.StatusFinished && status == jovepay.StatusRefunded) {
		return fmt.Errorf("%w: payment %d is %s", ErrTransition, p.id, p.status)
	}
	switch status {
	case jovepay.StatusConfirmed, jovepay.StatusSending, jovepay.StatusFinished:
		if p.actuallyPaid.IsZero() {
			p.actuallyPaid = p.payAmount
		}
	}
	if p.payinHash == "" && !p.actuallyPaid.IsZero() {
		p.payinHash = "payin" + strconv.FormatInt(p.id, 16)
	}
	if status == jovepay.StatusFinished {
		p.outcomeAmount = trim(p.actuallyPaid.Mul(serviceFee).Round(8))
		p.payoutHash = "payout" + strconv.FormatInt(p.id, 16)
	}
	p.status = status
	p.updatedAt = s.now()
	return nil
}

// Pay plays the customer sending amount to a waiting payment's address: confirming, then
// confirmed → sending → finished when it covers pay_amount, or partially_paid when it does not.
// Each step delivers an IPN. Money sent after that is a repeated deposit (Redeposit).
func (s *Server) Pay(ctx context.Context, id jovepay.ID, amount paykit.Decimal) error {
	if amount.Sign() <= 0 {
		return fmt.Errorf("jovepaytest: amount must be positive")
	}
	full := false
	err := s.update(ctx, id, func(p *payment) error {
		if p.status != jovepay.StatusWaiting {
			return fmt.Errorf("%w: payment %d is %s, not waiting (use Redeposit)", ErrTransition, p.id, p.status)
		}
		p.actuallyPaid = amount
		full = !amount.LessThan(p.payAmount)
		return s.setStatus(p, jovepay.StatusConfirming)
	})
	if err != nil {
		return err
	}
	if !full {
		return s.Advance(ctx, id, jovepay.StatusPartiallyPaid)
	}
	for _, st := range []jovepay.PaymentStatus{jovepay.StatusConfirmed, jovepay.StatusSending, jovepay.StatusFinished} {
		if err := s.Advance(ctx, id, st); err != nil {
			return err
		}
	}
	return nil
}

// Complete pays a waiting payment in full (Pay with its pay_amount): four IPNs, confirming to
// finished.
func (s *Server) Complete(ctx context.Context, id jovepay.ID) error {
	p, err := s.Payment(id)
	if err != nil {
		return err
	}
	return s.Pay(ctx, id, p.PayAmount)
}

// Expire, Fail and Refund move a payment to expired, failed or refunded and deliver the IPN.
func (s *Server) Expire(ctx context.Context, id jovepay.ID) error {
	return s.Advance(ctx, id, jovepay.StatusExpired)
}

// Fail moves a payment to failed (see Expire).
func (s *Server) Fail(ctx context.Context, id jovepay.ID) error {
	return s.Advance(ctx, id, jovepay.StatusFailed)
}

// Refund moves a finished payment to refunded (see Expire).
func (s *Server) Refund(ctx context.Context, id jovepay.ID) error {
	return s.Advance(ctx, id, jovepay.StatusRefunded)
}

// Redeposit plays the customer sending amount again to an existing payment's address: JovePay
// records a child payment (parent_payment_id = the original, origin_type "REPEATED") in the
// original asset, finished, and delivers its IPN. It returns the child's id.
func (s *Server) Redeposit(ctx context.Context, parent jovepay.ID, amount paykit.Decimal) (jovepay.ID, error) {
	if amount.Sign() <= 0 {
		return "", fmt.Errorf("jovepaytest: amount must be positive")
	}
	now := s.now()
	s.mu.Lock()
	orig, apiErr := s.lookup(string(parent))
	if apiErr != nil {
		s.mu.Unlock()
		return "", apiErr
	}
	s.nextID++
	child := *orig
	child.id, child.parentID, child.originType = s.nextID, orig.id, jovepay.OriginRepeated
	child.payAmount, child.actuallyPaid = amount, amount
	child.priceAmount = s.convert(amount, orig.payCurrency, orig.priceCurrency)
	child.payinHash, child.payoutHash, child.status = "", "", jovepay.StatusConfirming
	child.createdAt, child.updatedAt = now, now
	if err := s.setStatus(&child, jovepay.StatusFinished); err != nil {
		s.mu.Unlock()
		return "", err
	}
	s.payments[child.id] = &child
	s.order = append(s.order, child.id)
	id := jovepay.ID(strconv.FormatInt(child.id, 10))
	s.mu.Unlock()
	return id, s.ResendIPN(ctx, id)
}

// ChooseCurrency plays the customer picking a pay currency on an invoice's hosted page: it
// creates the invoice's waiting payment (like POST /invoice-payment) and returns its id.
func (s *Server) ChooseCurrency(iid jovepay.ID, payCurrency string) (jovepay.ID, error) {
	inv, apiErr := s.invoice(string(iid))
	if apiErr != nil {
		return "", apiErr
	}
	w, apiErr := s.newPayment(paymentSpec{
		priceAmount: inv.priceAmount, priceCurrency: inv.priceCurrency, payCurrency: payCurrency,
		ipnURL: inv.ipnURL, orderID: inv.orderID, orderDescription: inv.orderDescription,
		fixedRate: inv.fixedRate, feePaidByUser: inv.feePaidByUser, invoiceID: inv.id,
	})
	if apiErr != nil {
		return "", apiErr
	}
	return jovepay.ID(w.PaymentID.(string)), nil
}

// ResendIPN delivers the payment's current state again, as JovePay's dashboard "send IPN" does:
// a duplicate a receiver must recognise.
func (s *Server) ResendIPN(ctx context.Context, id jovepay.ID) error {
	return s.update(ctx, id, func(*payment) error { return nil })
}

// update applies change under the lock, then delivers the payment's IPN outside it.
func (s *Server) update(ctx context.Context, id jovepay.ID, change func(*payment) error) error {
	s.mu.Lock()
	p, apiErr := s.lookup(string(id))
	if apiErr != nil {
		s.mu.Unlock()
		return apiErr
	}
	if err := change(p); err != nil {
		s.mu.Unlock()
		return err
	}
	url := p.ipnURL
	body, err := s.ipnBody(p)
	s.mu.Unlock()
	if err != nil || url == "" {
		return err
	}
	s.deliver(ctx, url, body)
	return nil
}

// deliver posts one signed IPN with JovePay's retries and records the outcome.
func (s *Server) deliver(ctx context.Context, url string, body []byte) Delivery {
	s.mu.Lock()
	form := s.form
	s.mu.Unlock()
	backoff := s.cfg.ipnBackoff
	d := fakeserver.Deliverer{
		MaxAttempts: s.cfg.ipnAttempts,
		Backoff:     func(n int) time.Duration { return backoff << min(n-1, 10) },
		Retry:       fakeserver.RetryNon2xx,
		Now:         s.cfg.now,
	}
	header, secret := http.CanonicalHeaderKey(s.cfg.sigHeader), s.cfg.ipnSecret
	del := d.Deliver(ctx, url, body, func(body []byte, _ time.Time) http.Header {
		sig, err := signIPN(form, secret, body)
		if err != nil {
			return nil // unsignable body: sent unsigned, and the receiver must refuse it
		}
		return http.Header{header: {sig}}
	})
	s.mu.Lock()
	s.deliveries = append(s.deliveries, del)
	s.mu.Unlock()
	return del
}

// DeliverIPN signs and posts an arbitrary body (a withdrawal or custodial-recurring IPN, or a
// payload crafted to exercise a canonical-form edge case) to url with the server's secret,
// form and retries, and records the delivery.
func (s *Server) DeliverIPN(ctx context.Context, url string, body []byte) Delivery {
	return s.deliver(ctx, url, body)
}
