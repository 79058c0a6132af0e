package pepay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
)

// Invoice is Pepay's invoice object ("object": "invoice"), the source of truth for payment
// status. Amounts are integers in USDMillis (1/1000 USD); the *Decimal fields are Pepay's decimal
// strings of the same amounts ("25.000"). Timestamps decode from RFC 3339 or unix seconds.
// Fields Pepay leaves null are zero values.
type Invoice struct {
	// Object is the object type, "invoice".
	Object string `json:"object"`
	// ID is the invoice id (a UUID), the canonical id for reconciliation.
	ID string `json:"id"`
	// MerchantID is the owning merchant's id (a number or string on the wire).
	MerchantID string `json:"merchant_id,omitempty"`
	// Status is unpaid, underpaid, paid, expired or canceled (see the Status constants).
	Status Status `json:"status"`
	// InvoiceType is standard or commerce.
	InvoiceType InvoiceType `json:"invoice_type,omitempty"`
	Currency    string      `json:"currency,omitempty"` // "usd"
	// Amount is the invoiced amount in usd_millis.
	Amount USDMillis `json:"amount"`
	// AmountPaid is the amount received so far in usd_millis.
	AmountPaid USDMillis `json:"amount_paid"`
	// AmountRemaining is the amount still due in usd_millis.
	AmountRemaining USDMillis `json:"amount_remaining"`
	// AmountDecimal, AmountPaidDecimal and AmountRemainingDecimal are filled from the integer
	// amounts when Pepay omits them.
	AmountDecimal          paykit.Decimal `json:"amount_decimal"`           // Amount in dollars ("25.000")
	AmountPaidDecimal      paykit.Decimal `json:"amount_paid_decimal"`      // AmountPaid in dollars
	AmountRemainingDecimal paykit.Decimal `json:"amount_remaining_decimal"` // AmountRemaining in dollars
	AmountUnit             string         `json:"amount_unit,omitempty"`    // "usd_millis"
	// Description is the description given at creation, when Pepay includes it.
	Description string `json:"description,omitempty"`
	// CustomerID is your customer reference given at creation; "" when null.
	CustomerID string `json:"customer_id,omitempty"`
	// CustomerEmail is the payor's email, when Pepay includes it.
	CustomerEmail string `json:"customer_email,omitempty"`
	// PayerWalletAddress and PayerWalletNetwork identify the wallet that paid; "" when null.
	PayerWalletAddress string `json:"payer_wallet_address,omitempty"`
	PayerWalletNetwork string `json:"payer_wallet_network,omitempty"` // see PayerWalletAddress
	// CommerceOrderID is the commerce order the invoice belongs to; "" when null.
	CommerceOrderID string `json:"commerce_order_id,omitempty"`
	// Environment is devnet or mainnet.
	Environment Environment `json:"environment,omitempty"`
	// ExpiresAt is when the invoice stops being payable.
	ExpiresAt time.Time `json:"expires_at"`
	// CreatedAt is when the invoice was created.
	CreatedAt time.Time `json:"created_at"`
	// PaidAt is when the invoice was paid; zero while it is not (null).
	PaidAt time.Time `json:"paid_at"`
	// LastPaymentAt is when the latest payment was received; zero when there is none (null).
	LastPaymentAt time.Time `json:"last_payment_at"`
	// Metadata is the metadata given at creation; nil when none.
	Metadata Metadata `json:"metadata,omitempty"`
	// LatestPayment and Payments are present when requested with Expand (GetInvoice) or
	// ListInvoicesParams.Expand.
	LatestPayment *InvoicePayment  `json:"latest_payment,omitempty"`
	Payments      []InvoicePayment `json:"payments,omitempty"` // at most payments_limit (default 10)
}

// UnmarshalJSON decodes tolerantly: merchant_id as string or number, timestamps as RFC 3339 or
// unix seconds, "cancelled" as StatusCanceled.
func (inv *Invoice) UnmarshalJSON(b []byte) error {
	type plain Invoice
	*inv = Invoice{}
	w := struct {
		*plain
		MerchantID    jsonx.ID   `json:"merchant_id"`
		ExpiresAt     jsonx.Time `json:"expires_at"`
		CreatedAt     jsonx.Time `json:"created_at"`
		PaidAt        jsonx.Time `json:"paid_at"`
		LastPaymentAt jsonx.Time `json:"last_payment_at"`
	}{plain: (*plain)(inv)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	inv.MerchantID = string(w.MerchantID)
	inv.ExpiresAt, inv.CreatedAt = w.ExpiresAt.Time, w.CreatedAt.Time
	inv.PaidAt, inv.LastPaymentAt = w.PaidAt.Time, w.LastPaymentAt.Time
	fillDecimal(&inv.AmountDecimal, inv.Amount)
	fillDecimal(&inv.AmountPaidDecimal, inv.AmountPaid)
	fillDecimal(&inv.AmountRemainingDecimal, inv.AmountRemaining)
	return nil
}

func fillDecimal(d *paykit.Decimal, m USDMillis) {
	if d.IsZero() && m != 0 {
		*d = m.Decimal()
	}
}

// InvoicePayment is one payment receipt on an invoice ("object": "invoice_payment"), with the
// status of the merchant's settlement.
type InvoicePayment struct {
	// Object is the object type, "invoice_payment".
	Object string `json:"object"`
	// ID is the payment receipt's id (a number or string on the wire).
	ID string `json:"id"`
	// InvoiceID is the id of the invoice the payment is for.
	InvoiceID string `json:"invoice_id"`
	// MerchantID is the owning merchant's id (a number or string on the wire).
	MerchantID string `json:"merchant_id,omitempty"`
	// Status is pending, underpaid, confirmed or manual_retry (see the PaymentStatus constants).
	Status PaymentStatus `json:"status"`
	// SettlementStatus is the merchant payout's status: pending, processing, manual, failed or
	// settled.
	SettlementStatus SettlementStatus `json:"settlement_status,omitempty"`
	// Settlement holds the payout details; nil when Pepay sends none.
	Settlement *Settlement `json:"settlement,omitempty"`
	// Amount is the USD value received, when Pepay includes it. [assumed field]
	Amount USDMillis `json:"amount,omitempty"`
	// CreatedAt is when the payment was seen, when Pepay includes it. [assumed field]
	CreatedAt time.Time `json:"created_at"`
}

// UnmarshalJSON decodes tolerantly (ids as string or number, timestamps in either form).
func (p *InvoicePayment) UnmarshalJSON(b []byte) error {
	type plain InvoicePayment
	*p = InvoicePayment{}
	w := struct {
		*plain
		ID         jsonx.ID   `json:"id"`
		MerchantID jsonx.ID   `json:"merchant_id"`
		CreatedAt  jsonx.Time `json:"created_at"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	p.ID, p.MerchantID, p.CreatedAt = string(w.ID), string(w.MerchantID), w.CreatedAt.Time
	return nil
}

// Settlement describes the payout of a payment to the merchant.
type Settlement struct {
	// SummaryStatus is summary_status, the settlement's overall status as sent by Pepay.
	SummaryStatus SettlementStatus `json:"summary_status,omitempty"`
	Stage         string           `json:"stage,omitempty"` // "final" once done
	// MerchantSettlementID is Pepay's id of the settlement (a number or string on the wire).
	MerchantSettlementID string `json:"merchant_settlement_id,omitempty"`
	// SettlementTxHash is the hash of the payout transaction; "" when absent.
	SettlementTxHash string `json:"settlement_tx_hash,omitempty"`
	// Network is the network of the payout, as sent by Pepay.
	Network string `json:"network,omitempty"`
	// Status is the settlement's status field as sent by Pepay (same values as SummaryStatus).
	Status SettlementStatus `json:"status,omitempty"`
}

// UnmarshalJSON accepts merchant_settlement_id as a string or a number.
func (s *Settlement) UnmarshalJSON(b []byte) error {
	type plain Settlement
	*s = Settlement{}
	w := struct {
		*plain
		MerchantSettlementID jsonx.ID `json:"merchant_settlement_id"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	s.MerchantSettlementID = string(w.MerchantSettlementID)
	return nil
}

// InvoiceStatus is the answer of GetInvoiceStatus ("object": "invoice_status"): the invoice and
// its latest payment with settlement details.
type InvoiceStatus struct {
	// Object is the object type, "invoice_status".
	Object string `json:"object"`
	// Invoice is the invoice, with its current Status.
	Invoice Invoice `json:"invoice"`
	// LatestPayment is the invoice's most recent payment with its settlement; nil when none.
	LatestPayment *InvoicePayment `json:"latest_payment,omitempty"`
}

// Status returns the invoice's status.
func (s *InvoiceStatus) Status() Status { return s.Invoice.Status }

// CreatedInvoice is the answer of CreateInvoice.
type CreatedInvoice struct {
	// InvoiceID is the canonical id for reconciliation.
	InvoiceID string `json:"invoice_id"`
	// PaymentURL is the hosted checkout link, valid until ExpiresAt.
	PaymentURL string `json:"payment_url"`
	// ExpiresAt is when the invoice expires (RFC 3339 or unix seconds on the wire).
	ExpiresAt time.Time `json:"expires_at"`
	// SessionToken (pst_…) and Signature (sig_…) authorize the payor endpoints for embedded
	// checkout; they are safe to hand to the payor's browser (see NewPayorClient).
	SessionToken string `json:"session_token"`
	Signature    string `json:"signature"` // see SessionToken
	// PaymentSessionHeaders holds the same two credentials as payment_session_headers; each
	// form is filled from the other when Pepay sends only one.
	PaymentSessionHeaders PaymentSessionHeaders `json:"payment_session_headers"`
	// IdempotencyKey is the Idempotency-Key the invoice was created with (given, derived from
	// OrderRef, or generated). Sending it again with the same body returns this invoice.
	IdempotencyKey string `json:"-"`
}

// UnmarshalJSON accepts expires_at as RFC 3339 or unix seconds and fills the session headers
// from session_token/signature (or the reverse) when only one form is present.
func (c *CreatedInvoice) UnmarshalJSON(b []byte) error {
	type plain CreatedInvoice
	*c = CreatedInvoice{}
	w := struct {
		*plain
		ID        string     `json:"id"`
		ExpiresAt jsonx.Time `json:"expires_at"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	c.ExpiresAt = w.ExpiresAt.Time
	if c.InvoiceID == "" {
		c.InvoiceID = w.ID
	}
	h := &c.PaymentSessionHeaders
	if h.SessionToken == "" {
		h.SessionToken = c.SessionToken
	}
	if h.Signature == "" {
		h.Signature = c.Signature
	}
	if c.SessionToken == "" {
		c.SessionToken = h.SessionToken
	}
	if c.Signature == "" {
		c.Signature = h.Signature
	}
	return nil
}

// PaymentSessionHeaders are the payor credentials returned by invoice creation: send them as
// x-session-token and x-signature on the payor endpoints (NewPayorClient). They are scoped to
// one invoice and browser-safe, unlike the merchant API key.
type PaymentSessionHeaders struct {
	SessionToken string `json:"x-session-token"` // pst_…
	Signature    string `json:"x-signature"`     // sig_…, "signature_hash.timestamp_ms"
}

// Header returns the two headers, for code that calls the payor endpoints itself.
func (h PaymentSessionHeaders) Header() http.Header {
	return http.Header{"X-Session-Token": {h.SessionToken}, "X-Signature": {h.Signature}}
}

// Metadata is the free-form object stored on an invoice (≤ 512 bytes serialized). Numbers decode
// as json.Number, so no digit is lost to float64.
type Metadata map[string]any

// UnmarshalJSON accepts an object, null, or a string holding a JSON object.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*m = nil
			return nil
		}
		b = []byte(s)
	}
	if bytes.Equal(b, []byte("null")) {
		*m = nil
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("pepay: metadata must be a JSON object: %w", err)
	}
	*m = v
	return nil
}

// Get returns the metadata value for key when it is a string, else "".
func (m Metadata) Get(key string) string {
	s, _ := m[key].(string)
	return s
}
