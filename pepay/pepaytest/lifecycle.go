package pepaytest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/paykit-go/paykit/pepay"
)

// Network and wallet the fake's payments come from.
const (
	PayNetwork = "base"
	PayWallet  = "0x5eed000000000000000000000000000000000001"
)

// Pay pays the invoice's remaining amount. It logs invoice_payment.created (confirmed,
// settlement pending), invoice.updated (paid) and invoice_payment.updated (settled, stage
// final), delivered by webhook and stream. It fails for an unknown id or a terminal invoice.
func (s *Server) Pay(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, err := s.payable(id)
	if err != nil {
		return err
	}
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
	s.appendLocked(pepay.EventInvoicePaymentUpdated, s.wirePayment(p), map[string]any{"settlement_status": pepay.SettlementPending}, nil, inv)
	return nil
}

// Underpay records a payment of amount (less than the remainder): the invoice becomes underpaid
// with the network and token locked. It logs invoice_payment.created (underpaid) and
// invoice.updated (underpaid).
func (s *Server) Underpay(id string, amount pepay.USDMillis) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, err := s.payable(id)
	if err != nil {
		return err
	}
	if amount <= 0 || int64(amount) >= inv.amount-inv.paid {
		return fmt.Errorf("pepaytest: underpayment must be positive and below the remaining %s", pepay.USDMillis(inv.amount-inv.paid))
	}
	before := s.wire(inv, false, false, 0)
	p := s.addPaymentLocked(inv, int64(amount), pepay.PaymentUnderpaid)
	s.appendLocked(pepay.EventInvoicePaymentCreated, s.wirePayment(p), nil, nil, inv)
	inv.status = pepay.StatusUnderpaid
	inv.lockedToken = 1
	s.appendLocked(pepay.EventInvoiceUpdated, s.wire(inv, false, false, 0), map[string]any{
		"status": before.Status, "amount_paid": before.AmountPaid, "amount_remaining": before.AmountRemaining,
	}, nil, inv)
	return nil
}

// Expire expires an unpaid or underpaid invoice and logs invoice.updated.
func (s *Server) Expire(id string) error { return s.finish(id, pepay.StatusExpired) }

// Cancel cancels an unpaid or underpaid invoice and logs invoice.updated.
func (s *Server) Cancel(id string) error { return s.finish(id, pepay.StatusCanceled) }

func (s *Server) finish(id string, to pepay.Status) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, err := s.payable(id)
	if err != nil {
		return err
	}
	prev := inv.status
	inv.status = to
	s.appendLocked(pepay.EventInvoiceUpdated, s.wire(inv, false, false, 0), map[string]any{"status": prev}, nil, inv)
	return nil
}

// Ping logs a test.ping event (no data object other than a ping), like the dashboard's test button.
func (s *Server) Ping() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.appendLocked(pepay.EventTestPing, map[string]any{"object": "ping", "message": "test"}, nil, nil, nil)
	return rec.id
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
