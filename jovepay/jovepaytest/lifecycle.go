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
// synchronous — a helper returns after the receiver answered or the attempts ran out, with the
// record of the last IPN it caused (nil when the payment has no ipn_callback_url) — and are
// recorded (Deliveries). Helpers return an error only for an unknown payment or a transition
// JovePay would not make; an unacknowledged IPN is not an error (inspect the Delivery).

// Attempt is one attempt of an IPN Delivery.
type Attempt struct {
	// At is when the attempt was made, on the server's clock.
	At time.Time
	// Status is the HTTP status the receiver answered, or 0 when no answer arrived.
	Status int
	// Err is the transport error when no answer arrived, nil otherwise.
	Err error
}

// Delivery records one IPN sent to a payment's ipn_callback_url (or by DeliverIPN), with every
// attempt. JovePay retries every non-2xx answer.
type Delivery struct {
	// PaymentID is the payment the IPN is about ("" for a body sent with DeliverIPN).
	PaymentID jovepay.ID
	// Status is the payment_status the IPN reports ("" for a body sent with DeliverIPN).
	Status jovepay.PaymentStatus
	// URL is where the IPN was posted.
	URL string
	// Body is the payload, identical in every attempt.
	Body []byte
	// Header holds the headers of the last attempt, the signature header included.
	Header http.Header
	// Attempts lists every attempt, oldest first.
	Attempts []Attempt
	// Delivered is true when an attempt was answered 2xx.
	Delivered bool
	// Abandoned is true when the receiver answered a status that is not retried. JovePay
	// retries every non-2xx answer, so it stays false.
	Abandoned bool
}

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

// SetStatus moves a payment to status and delivers the IPN. Payments in a final status do not
// move, except finished → refunded. Moving to confirmed, sending or finished with nothing paid
// yet records a full payment (actually_paid = pay_amount).
func (s *Server) SetStatus(ctx context.Context, id jovepay.ID, status jovepay.PaymentStatus) (*Delivery, error) {
	return s.update(ctx, id, func(p *payment) error { return s.setStatus(p, status) })
}

func (s *Server) setStatus(p *payment, status jovepay.PaymentStatus) error {
	if p.status.IsTerminal() && !(p.status == jovepay.StatusFinished && status == jovepay.StatusRefunded) {
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

// Pay plays the customer paying a waiting payment in full (PayAmount with its pay_amount): four
// IPNs, confirming to finished. It returns the finished IPN's Delivery.
func (s *Server) Pay(ctx context.Context, id jovepay.ID) (*Delivery, error) {
	p, err := s.Payment(id)
	if err != nil {
		return nil, err
	}
	return s.PayAmount(ctx, id, p.PayAmount)
}

// PayAmount plays the customer sending amount to a waiting payment's address: confirming, then
// confirmed → sending → finished when it covers pay_amount, or partially_paid when it does not.
// Each step delivers an IPN; the last one's Delivery is returned. Money sent after that is a
// repeated deposit (Redeposit).
func (s *Server) PayAmount(ctx context.Context, id jovepay.ID, amount paykit.Decimal) (*Delivery, error) {
	if amount.Sign() <= 0 {
		return nil, fmt.Errorf("jovepaytest: amount must be positive")
	}
	full := false
	_, err := s.update(ctx, id, func(p *payment) error {
		if p.status != jovepay.StatusWaiting {
			return fmt.Errorf("%w: payment %d is %s, not waiting (use Redeposit)", ErrTransition, p.id, p.status)
		}
		p.actuallyPaid = amount
		full = !amount.LessThan(p.payAmount)
		return s.setStatus(p, jovepay.StatusConfirming)
	})
	if err != nil {
		return nil, err
	}
	if !full {
		return s.SetStatus(ctx, id, jovepay.StatusPartiallyPaid)
	}
	return s.setStatuses(ctx, id, jovepay.StatusConfirmed, jovepay.StatusSending, jovepay.StatusFinished)
}

// setStatuses moves the payment to each status in turn and returns the last Delivery.
func (s *Server) setStatuses(ctx context.Context, id jovepay.ID, steps ...jovepay.PaymentStatus) (*Delivery, error) {
	var last *Delivery
	for _, st := range steps {
		d, err := s.SetStatus(ctx, id, st)
		if err != nil {
			return nil, err
		}
		last = d
	}
	return last, nil
}

// Expire moves a payment to expired and delivers the IPN.
func (s *Server) Expire(ctx context.Context, id jovepay.ID) (*Delivery, error) {
	return s.SetStatus(ctx, id, jovepay.StatusExpired)
}

// Fail moves a payment to failed and delivers the IPN.
func (s *Server) Fail(ctx context.Context, id jovepay.ID) (*Delivery, error) {
	return s.SetStatus(ctx, id, jovepay.StatusFailed)
}

// Refund moves a finished payment to refunded and delivers the IPN.
func (s *Server) Refund(ctx context.Context, id jovepay.ID) (*Delivery, error) {
	return s.SetStatus(ctx, id, jovepay.StatusRefunded)
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
	if _, err := s.Redeliver(ctx, id); err != nil {
		return "", err
	}
	return id, nil
}

// WrongAssetDeposit is a customer's transfer to a payment's deposit address in a supported
// asset, or on a network, other than the payment's pay_currency: what JovePay calls a
// "wrong-asset deposit" (see PayWrongAsset).
type WrongAssetDeposit struct {
	// Currency is the asset actually sent (required): one the fake supports other than the
	// payment's pay_currency, e.g. "eth" for a btc payment. For the right token on the wrong
	// network, add the other network's ticker first: WithRate("usdterc20", …) for a usdttrc20
	// payment.
	Currency string
	// Amount is what arrived, in Currency (required, > 0).
	Amount paykit.Decimal
	// AutoProcess plays the dashboard setting that processes wrong-asset deposits automatically
	// (which JovePay says to use with caution): the deposit is valued in the payment's asset at
	// the fake's rates and the payment goes on through confirmed and sending to finished when
	// that covers pay_amount, or to partially_paid when it does not. Off (the default), the
	// deposit waits for manual resolution in HoldStatus.
	AutoProcess bool
	// HoldStatus is the status a deposit awaiting manual resolution is reported in: confirming
	// (the default), confirmed, sending or partially_paid. JovePay does not document which
	// status it reports for such a deposit, so the fake lets you choose. Ignored with
	// AutoProcess.
	HoldStatus jovepay.PaymentStatus
}

// PayWrongAsset plays the customer sending a supported but wrong asset, or the right asset on
// a wrong network, to a payment's deposit address. JovePay's guide "Handling Repeated &
// Wrong-Asset Deposits" says it labels such a deposit "Wrong Asset", that it usually needs
// manual resolution unless auto-processing is enabled, and that merchants must always validate
// the amount and asset an IPN reports — which jovepay.CheckIPN does.
//
// On a waiting payment the deposit is recorded on the payment itself, and its IPNs report it as
// received. JovePay implies that the IPN carries the deposit's asset and amount but does not
// document the fields; the fake assumes that pay_currency (and network, fee.currency) name the
// asset sent and actually_paid (and actually_paid_at_fiat) its amount, while price_amount,
// pay_amount and outcome_currency keep what the order asked for. The payment goes to
// confirming, then on to dep.HoldStatus (through confirmed for sending) — left there until you
// resolve it "manually" with SetStatus (to finished, failed, refunded…) — or, with
// dep.AutoProcess, through confirmed and sending to finished (or straight to partially_paid).
// Each step delivers an IPN. Once finished, outcome_amount is the deposit valued in the outcome
// currency, less the fake's fee.
//
// On a payment that is no longer waiting, the deposit is a repeated one. As JovePay's guide
// notes, all repeated deposits are converted to the payment's original asset: it is recorded as
// Redeposit records it, with Amount converted at the fake's rates, so its IPN shows
// parent_payment_id but not the wrong asset.
//
// It returns the id of the payment the deposit was recorded on: id itself, or the child. It
// fails with ErrTransition for a Currency equal to the order's pay_currency (use PayAmount or
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
		return "", fmt.Errorf("%w: payment %s asks for %s already (use PayAmount or Redeposit)", ErrTransition, id, cur)
	}
	if !waiting {
		return s.Redeposit(ctx, id, s.convert(dep.Amount, cur, asked))
	}

	covers := false
	_, err := s.update(ctx, id, func(p *payment) error {
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
	if _, err := s.setStatuses(ctx, id, steps...); err != nil {
		return "", err
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

// Redeliver delivers the payment's current state again, as JovePay's dashboard "send IPN" does:
// a duplicate a receiver must recognise.
func (s *Server) Redeliver(ctx context.Context, id jovepay.ID) (*Delivery, error) {
	return s.update(ctx, id, func(*payment) error { return nil })
}

// update applies change under the lock, then delivers the payment's IPN outside it. The
// Delivery is nil when the payment has no ipn_callback_url.
func (s *Server) update(ctx context.Context, id jovepay.ID, change func(*payment) error) (*Delivery, error) {
	s.mu.Lock()
	p, apiErr := s.lookup(string(id))
	if apiErr != nil {
		s.mu.Unlock()
		return nil, apiErr
	}
	if err := change(p); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	url, pid, status := p.ipnURL, jovepay.ID(strconv.FormatInt(p.id, 10)), p.status
	body, err := s.ipnBody(p)
	s.mu.Unlock()
	if err != nil || url == "" {
		return nil, err
	}
	return s.deliver(ctx, url, body, pid, status), nil
}

// deliver posts one signed IPN with JovePay's retries and records the outcome.
func (s *Server) deliver(ctx context.Context, url string, body []byte, id jovepay.ID, status jovepay.PaymentStatus) *Delivery {
	s.mu.Lock()
	form := s.form
	s.mu.Unlock()
	d := fakeserver.Deliverer{
		MaxAttempts: s.cfg.deliveryAttempts,
		Backoff:     s.cfg.deliveryBackoff,
		Retry:       fakeserver.RetryNon2xx,
		Now:         s.cfg.now,
	}
	header, secret := http.CanonicalHeaderKey(s.cfg.sigHeader), s.cfg.ipnSecret
	fd := d.Deliver(ctx, url, body, func(body []byte, _ time.Time) http.Header {
		sig, err := signIPN(form, secret, body)
		if err != nil {
			return nil // unsignable body: sent unsigned, and the receiver must refuse it
		}
		return http.Header{header: {sig}}
	})
	attempts := make([]Attempt, len(fd.Attempts))
	for i, a := range fd.Attempts {
		attempts[i] = Attempt(a)
	}
	del := &Delivery{PaymentID: id, Status: status, URL: fd.URL, Body: fd.Body, Header: fd.Header,
		Attempts: attempts, Delivered: fd.Delivered, Abandoned: fd.Abandoned}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, del)
	s.mu.Unlock()
	return del
}

// DeliverIPN signs and posts an arbitrary body (a withdrawal or custodial-recurring IPN, or a
// payload crafted to exercise a canonical-form edge case) to url with the server's secret,
// form and retries, and records the delivery.
func (s *Server) DeliverIPN(ctx context.Context, url string, body []byte) *Delivery {
	return s.deliver(ctx, url, body, "", "")
}
