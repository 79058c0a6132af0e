package pepaytest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/paykit-go/paykit/pepay"
)

// Network and wallet the fake's payments come from.
const (
	// PayNetwork is the network of every payment the lifecycle helpers record.
	PayNetwork = "base"
	// PayWallet is the payor wallet every payment comes from.
	PayWallet = "0x5eed000000000000000000000000000000000001"
)

// Pay plays the payor paying the invoice's remaining amount. It logs invoice_payment.created
// (confirmed, settlement pending), invoice.updated (paid) and invoice_payment.updated (settled,
// stage final), delivered by webhook and stream, and returns once the webhooks were delivered
// (or given up on), with the last one's Delivery (nil when no webhook is registered). It fails
// for an unknown id or a terminal invoice.
func (s *Server) Pay(ctx context.Context, id string) (*Delivery, error) {
	s.mu.Lock()
	inv, err := s.payable(id)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	rec := s.payLocked(inv)
	s.mu.Unlock()
	return s.awaitDelivery(ctx, rec)
}

// payLocked pays inv's remainder and returns the last event logged. s.mu must be held.
func (s *Server) payLocked(inv *invoice) *eventRec {
	before := s.wire(inv, false, false, 0)
	p := s.addPaymentLocked(inv, inv.amount-inv.paid, pepay.PaymentConfirmed)
	s.appendLocked(pepay.EventInvoicePaymentCreated, s.wirePayment(p), nil, nil, inv)
	inv.status, inv.paidAt = pepay.StatusPaid, s.now()
	s.appendLocked(pepay.EventInvoiceUpdated, s.wire(inv, false, false, 0), map[string]any{
		"status": before.Status, "amount_paid": before.AmountPaid, "amount_remaining": before.AmountRemaining, "paid_at": nil,
	}, nil, inv)
	p.settlementStatus = pepay.SettlementSettled
	p.settlementID = int64(9000 + s.paySeq)
	sum := sha256.Sum256([]byte("settlement:" + p.id))
	p.txHash = "0x" + hex.EncodeToString(sum[:])
	return s.appendLocked(pepay.EventInvoicePaymentUpdated, s.wirePayment(p), map[string]any{"settlement_status": pepay.SettlementPending}, nil, inv)
}

// PayAmount plays the payor paying amount, at most the remainder. The remainder in full is Pay.
// Less makes the invoice underpaid, with the network and token locked: it logs
// invoice_payment.created (underpaid) and invoice.updated (underpaid), and returns once the
// webhooks were delivered, with the last one's Delivery (nil when no webhook is registered).
func (s *Server) PayAmount(ctx context.Context, id string, amount pepay.USDMillis) (*Delivery, error) {
	s.mu.Lock()
	inv, err := s.payable(id)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	remaining := inv.amount - inv.paid
	if amount <= 0 || int64(amount) > remaining {
		s.mu.Unlock()
		return nil, fmt.Errorf("pepaytest: payment must be positive and at most the remaining %s", pepay.USDMillis(remaining))
	}
	var rec *eventRec
	if int64(amount) == remaining {
		rec = s.payLocked(inv)
	} else {
		before := s.wire(inv, false, false, 0)
		p := s.addPaymentLocked(inv, int64(amount), pepay.PaymentUnderpaid)
		s.appendLocked(pepay.EventInvoicePaymentCreated, s.wirePayment(p), nil, nil, inv)
		inv.status = pepay.StatusUnderpaid
		inv.lockedToken = 1
		rec = s.appendLocked(pepay.EventInvoiceUpdated, s.wire(inv, false, false, 0), map[string]any{
			"status": before.Status, "amount_paid": before.AmountPaid, "amount_remaining": before.AmountRemaining,
		}, nil, inv)
	}
	s.mu.Unlock()
	return s.awaitDelivery(ctx, rec)
}

// Expire expires an unpaid or underpaid invoice and logs invoice.updated. It returns once the
// webhook was delivered, with its Delivery (nil when no webhook is registered).
func (s *Server) Expire(ctx context.Context, id string) (*Delivery, error) {
	return s.finish(ctx, id, pepay.StatusExpired)
}

// Cancel cancels an unpaid or underpaid invoice and logs invoice.updated. It returns once the
// webhook was delivered, with its Delivery (nil when no webhook is registered).
func (s *Server) Cancel(ctx context.Context, id string) (*Delivery, error) {
	return s.finish(ctx, id, pepay.StatusCanceled)
}

func (s *Server) finish(ctx context.Context, id string, to pepay.Status) (*Delivery, error) {
	s.mu.Lock()
	inv, err := s.payable(id)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	prev := inv.status
	inv.status = to
	rec := s.appendLocked(pepay.EventInvoiceUpdated, s.wire(inv, false, false, 0), map[string]any{"status": prev}, nil, inv)
	s.mu.Unlock()
	return s.awaitDelivery(ctx, rec)
}

// Ping logs a test.ping event (no data object other than a ping), like the dashboard's test
// button, and returns its id once the webhook was delivered (see Deliveries).
func (s *Server) Ping(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", errClosed
	}
	rec := s.appendLocked(pepay.EventTestPing, map[string]any{"object": "ping", "message": "test"}, nil, nil, nil)
	s.mu.Unlock()
	if _, err := s.awaitDelivery(ctx, rec); err != nil {
		return "", err
	}
	return rec.id, nil
}

func (s *Server) payable(id string) (*invoice, error) {
	if s.closed {
		return nil, errClosed
	}
	inv, ok := s.invoices[id]
	if !ok {
		return nil, fmt.Errorf("pepaytest: no invoice %q", id)
	}
	if inv.status.IsTerminal() {
		return nil, fmt.Errorf("pepaytest: invoice %s is already %s", id, inv.status)
	}
	return inv, nil
}

func (s *Server) addPaymentLocked(inv *invoice, amount int64, status pepay.PaymentStatus) *payment {
	s.paySeq++
	now := s.now()
	p := &payment{
		id: newPaymentID(s.paySeq), invoiceID: inv.id, status: status, amount: amount, createdAt: now,
		settlementStatus: pepay.SettlementPending, network: PayNetwork,
	}
	inv.payments = append(inv.payments, p)
	inv.paid += amount
	inv.lastPaymentAt = now
	inv.wallet, inv.network = PayWallet, PayNetwork
	return p
}

// Invoice returns the invoice as GetInvoice (with both expansions) would, and whether it exists.
func (s *Server) Invoice(id string) (*pepay.Invoice, bool) {
	s.mu.Lock()
	inv, ok := s.invoices[id]
	var w wireInvoice
	if ok {
		w = s.wire(inv, true, true, 100)
	}
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	var out pepay.Invoice
	if err := remarshal(w, &out); err != nil {
		panic("pepaytest: invoice does not decode: " + err.Error())
	}
	return &out, true
}

// InvoiceCount returns how many invoices exist.
func (s *Server) InvoiceCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}
