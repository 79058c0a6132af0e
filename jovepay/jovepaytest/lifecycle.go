package jovepaytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
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
		paid := p.actuallyPaid
		if p.payCurrency != p.outcomeCurrency { // a wrong-asset deposit, valued in the payout asset
			paid = s.convert(paid, p.payCurrency, p.outcomeCurrency)
		}
		p.outcomeAmount = trim(paid.Mul(serviceFee).Round(8))
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
// original asset (the order's, even after a wrong-asset deposit), finished, and delivers its
// IPN. It returns the child's id.
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
	child.payCurrency, child.askedCurrency = orig.ordered(), ""
	child.payAmount, child.actuallyPaid = amount, amount
	child.priceAmount = s.convert(amount, child.payCurrency, orig.priceCurrency)
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

// WrongAssetDeposit is a customer's transfer to a payment's deposit address in a supported
// asset, or on a network, other than the payment's pay_currency: the seed's "wrong-asset
// deposit" (see PayWrongAsset).
type WrongAssetDeposit struct {
	// Currency is the asset actually sent (required): one the fake supports other than the
	// payment's pay_currency, e.g. "eth" for a btc payment. For the right token on the wrong
	// network, add the other network's ticker first: WithRate("usdterc20", …) for a usdttrc20
	// payment.
	Currency string
	// Amount is what arrived, in Currency (required, > 0).
	Amount paykit.Decimal
	// AutoProcess plays the dashboard setting that processes wrong-asset deposits automatically
	// (which the seed says to use with caution): the deposit is valued in the payment's asset at
	// the fake's rates and the payment goes on through confirmed and sending to finished when
	// that covers pay_amount, or to partially_paid when it does not. Off (the default), the
	// deposit waits for manual resolution in HoldStatus.
	AutoProcess bool
	// HoldStatus is the status a deposit awaiting manual resolution is reported in: confirming
	// (the default), confirmed, sending or partially_paid. [assumed: the docs do not say which
	// status JovePay reports for it.] Ignored with AutoProcess.
	HoldStatus jovepay.PaymentStatus
}

// PayWrongAsset plays the customer sending a supported but wrong asset, or the right asset on
// a wrong network, to a payment's deposit address. The seed ("Handling Repeated & Wrong-Asset
// Deposits") says JovePay labels such a deposit "Wrong Asset", that it usually needs manual
// resolution unless auto-processing is enabled, and that merchants must always validate the
// amount and asset an IPN reports — which jovepay.CheckIPN does.
//
// On a waiting payment the deposit is recorded on the payment itself, and its IPNs report it as
// received [assumed: the seed implies the IPN carries the deposit's asset and amount; the exact
// fields are undocumented]: pay_currency (and network, fee.currency) name the asset sent and
// actually_paid (and actually_paid_at_fiat) its amount, while price_amount, pay_amount and
// outcome_currency keep what the order asked for. The payment goes to confirming, then on to
// dep.HoldStatus (through confirmed for sending) — left there until you resolve it "manually"
// with Advance (to finished, failed, refunded…) — or, with dep.AutoProcess, through confirmed
// and sending to finished (or straight to partially_paid). Each step delivers an IPN. Once
// finished, outcome_amount is the deposit valued in the outcome currency, less the fake's fee.
//
// On a payment that is no longer waiting, the deposit is a repeated one. As the seed notes, all
// repeated deposits are converted to the payment's original asset: it is recorded as Redeposit
// records it, with Amount converted at the fake's rates, so its IPN shows parent_payment_id but
// not the wrong asset.
//
// It returns the id of the payment the deposit was recorded on: id itself, or the child. It
// fails with ErrTransition for a Currency equal to the order's pay_currency (use Pay or
// Redeposit) or an invalid HoldStatus.
func (s *Server) PayWrongAsset(ctx context.Context, id jovepay.ID, dep WrongAssetDeposit) (jovepay.ID, error) {
	if dep.Amount.Sign() <= 0 {
		return "", fmt.Errorf("jovepaytest: amount must be positive")
	}
	cur := strings.ToLower(strings.TrimSpace(dep.Currency))
	if !s.isCrypto(cur) {
		return "", fmt.Errorf("jovepaytest: wrong-asset currency %q is not one the fake supports (add it WithRate)", dep.Currency)
	}
	hold := dep.HoldStatus
	switch hold {
	case "":
		hold = jovepay.StatusConfirming
	case jovepay.StatusConfirming, jovepay.StatusConfirmed, jovepay.StatusSending, jovepay.StatusPartiallyPaid:
	default:
		return "", fmt.Errorf("%w: a wrong-asset deposit cannot be held in %s", ErrTransition, hold)
	}

	s.mu.Lock()
	p, apiErr := s.lookup(string(id))
	if apiErr != nil {
		s.mu.Unlock()
		return "", apiErr
	}
	asked, waiting := p.ordered(), p.status == jovepay.StatusWaiting
	s.mu.Unlock()
	if cur == asked {
		return "", fmt.Errorf("%w: payment %s asks for %s already (use Pay or Redeposit)", ErrTransition, id, cur)
	}
	if !waiting {
		return s.Redeposit(ctx, id, s.convert(dep.Amount, cur, asked))
	}

	covers := false
	err := s.update(ctx, id, func(p *payment) error {
		if p.status != jovepay.StatusWaiting {
			return fmt.Errorf("%w: payment %d is %s, not waiting", ErrTransition, p.id, p.status)
		}
		covers = !s.convert(dep.Amount, cur, p.payCurrency).LessThan(p.payAmount)
		p.askedCurrency, p.payCurrency, p.actuallyPaid = p.payCurrency, cur, dep.Amount
		return s.setStatus(p, jovepay.StatusConfirming)
	})
	if err != nil {
		return "", err
	}
	var steps []jovepay.PaymentStatus
	switch {
	case dep.AutoProcess && covers:
		steps = []jovepay.PaymentStatus{jovepay.StatusConfirmed, jovepay.StatusSending, jovepay.StatusFinished}
	case dep.AutoProcess:
		steps = []jovepay.PaymentStatus{jovepay.StatusPartiallyPaid}
	case hold == jovepay.StatusConfirmed:
		steps = []jovepay.PaymentStatus{jovepay.StatusConfirmed}
	case hold == jovepay.StatusSending:
		steps = []jovepay.PaymentStatus{jovepay.StatusConfirmed, jovepay.StatusSending}
	case hold == jovepay.StatusPartiallyPaid:
		steps = []jovepay.PaymentStatus{jovepay.StatusPartiallyPaid}
	}
	for _, st := range steps {
		if err := s.Advance(ctx, id, st); err != nil {
			return "", err
		}
	}
	return id, nil
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
