package pepaytest

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/pepay"
)

// invoice is the server's record of one invoice.
type invoice struct {
	id            string
	status        pepay.Status
	invoiceType   pepay.InvoiceType
	amount        int64 // usd_millis
	paid          int64
	description   string
	customerID    string
	customerEmail string
	metadata      json.RawMessage
	env           pepay.Environment
	createdAt     time.Time
	expiresAt     time.Time
	paidAt        time.Time
	lastPaymentAt time.Time
	payments      []*payment // oldest first
	sessionToken  string
	signature     string
	wallet        string
	network       string
	lockedToken   int64
	addresses     int
}

type payment struct {
	id               string
	invoiceID        string
	status           pepay.PaymentStatus
	settlementStatus pepay.SettlementStatus
	amount           int64
	createdAt        time.Time
	settlementID     int64
	txHash           string
	network          string
}

// wireInvoice is the invoice as Pepay documents it: integer usd_millis amounts with 3-dp
// decimal strings, nullable strings, an integer merchant_id, RFC 3339 timestamps.
type wireInvoice struct {
	Object                 string            `json:"object"`
	ID                     string            `json:"id"`
	MerchantID             int64             `json:"merchant_id"`
	Status                 pepay.Status      `json:"status"`
	InvoiceType            pepay.InvoiceType `json:"invoice_type"`
	Currency               string            `json:"currency"`
	Amount                 int64             `json:"amount"`
	AmountPaid             int64             `json:"amount_paid"`
	AmountRemaining        int64             `json:"amount_remaining"`
	AmountDecimal          string            `json:"amount_decimal"`
	AmountPaidDecimal      string            `json:"amount_paid_decimal"`
	AmountRemainingDecimal string            `json:"amount_remaining_decimal"`
	AmountUnit             string            `json:"amount_unit"`
	Description            *string           `json:"description"`
	CustomerID             *string           `json:"customer_id"`
	PayerWalletAddress     *string           `json:"payer_wallet_address"`
	PayerWalletNetwork     *string           `json:"payer_wallet_network"`
	CommerceOrderID        *string           `json:"commerce_order_id"`
	Environment            pepay.Environment `json:"environment"`
	ExpiresAt              string            `json:"expires_at"`
	CreatedAt              string            `json:"created_at"`
	PaidAt                 *string           `json:"paid_at"`
	LastPaymentAt          *string           `json:"last_payment_at"`
	Metadata               json.RawMessage   `json:"metadata"`
	LatestPayment          *wirePayment      `json:"latest_payment,omitempty"`
	Payments               []wirePayment     `json:"payments,omitempty"`
}

type wirePayment struct {
	Object           string                 `json:"object"`
	ID               string                 `json:"id"`
	InvoiceID        string                 `json:"invoice_id"`
	MerchantID       int64                  `json:"merchant_id"`
	Status           pepay.PaymentStatus    `json:"status"`
	SettlementStatus pepay.SettlementStatus `json:"settlement_status"`
	Amount           int64                  `json:"amount"`
	CreatedAt        int64                  `json:"created_at"` // unix seconds, as some pages show
	Settlement       *wireSettlement        `json:"settlement"`
}

type wireSettlement struct {
	SummaryStatus        pepay.SettlementStatus `json:"summary_status"`
	Stage                string                 `json:"stage"`
	MerchantSettlementID *int64                 `json:"merchant_settlement_id"`
	SettlementTxHash     *string                `json:"settlement_tx_hash"`
	Network              string                 `json:"network"`
	Status               pepay.SettlementStatus `json:"status"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func nullableTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := rfc3339(t)
	return &s
}

func millisText(m int64) string { return pepay.USDMillis(m).String() }

// wire renders the invoice; expand adds latest_payment and/or payments (limit paymentsLimit).
func (s *Server) wire(inv *invoice, latest, all bool, paymentsLimit int) wireInvoice {
	w := wireInvoice{
		Object: "invoice", ID: inv.id, MerchantID: s.merchantID, Status: inv.status, InvoiceType: inv.invoiceType,
		Currency: "usd", Amount: inv.amount, AmountPaid: inv.paid, AmountRemaining: inv.amount - inv.paid,
		AmountDecimal: millisText(inv.amount), AmountPaidDecimal: millisText(inv.paid),
		AmountRemainingDecimal: millisText(inv.amount - inv.paid), AmountUnit: "usd_millis",
		Description: nullable(inv.description), CustomerID: nullable(inv.customerID),
		PayerWalletAddress: nullable(inv.wallet), PayerWalletNetwork: nullable(inv.network),
		Environment: inv.env, ExpiresAt: rfc3339(inv.expiresAt), CreatedAt: rfc3339(inv.createdAt),
		PaidAt: nullableTime(inv.paidAt), LastPaymentAt: nullableTime(inv.lastPaymentAt),
		Metadata: inv.metadata,
	}
	if len(w.Metadata) == 0 {
		w.Metadata = json.RawMessage("{}")
	}
	if latest && len(inv.payments) > 0 {
		p := s.wirePayment(inv.payments[len(inv.payments)-1])
		w.LatestPayment = &p
	}
	if all {
		if paymentsLimit <= 0 {
			paymentsLimit = 10
		}
		w.Payments = []wirePayment{}
		for i := len(inv.payments) - 1; i >= 0 && len(w.Payments) < paymentsLimit; i-- {
			w.Payments = append(w.Payments, s.wirePayment(inv.payments[i]))
		}
	}
	return w
}

func (s *Server) wirePayment(p *payment) wirePayment {
	w := wirePayment{
		Object: "invoice_payment", ID: p.id, InvoiceID: p.invoiceID, MerchantID: s.merchantID,
		Status: p.status, SettlementStatus: p.settlementStatus, Amount: p.amount, CreatedAt: p.createdAt.Unix(),
	}
	if p.status == pepay.PaymentConfirmed {
		st := &wireSettlement{SummaryStatus: p.settlementStatus, Stage: "pending", Network: p.network, Status: p.settlementStatus}
		if p.settlementStatus == pepay.SettlementSettled {
			st.Stage = "final"
			id := p.settlementID
			st.MerchantSettlementID = &id
			st.SettlementTxHash = nullable(p.txHash)
		}
		w.Settlement = st
	}
	return w
}

// newInvoiceID returns a deterministic UUID for the n-th invoice, so example output is stable.
func newInvoiceID(n int) string { return idempotency.UUID("pepaytest-invoice", strconv.Itoa(n)) }

func newPaymentID(n int) string { return idempotency.UUID("pepaytest-payment", strconv.Itoa(n)) }
