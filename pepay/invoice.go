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
	Object          string      `json:"object"`
	ID              string      `json:"id"`
	MerchantID      string      `json:"merchant_id,omitempty"`
	Status          Status      `json:"status"`
	InvoiceType     InvoiceType `json:"invoice_type,omitempty"`
	Currency        string      `json:"currency,omitempty"` // "usd"
	Amount          USDMillis   `json:"amount"`
	AmountPaid      USDMillis   `json:"amount_paid"`
	AmountRemaining USDMillis   `json:"amount_remaining"`
	// AmountDecimal, AmountPaidDecimal and AmountRemainingDecimal are filled from the integer
	// amounts when Pepay omits them.
	AmountDecimal          paykit.Decimal `json:"amount_decimal"`
	AmountPaidDecimal      paykit.Decimal `json:"amount_paid_decimal"`
	AmountRemainingDecimal paykit.Decimal `json:"amount_remaining_decimal"`
	AmountUnit             string         `json:"amount_unit,omitempty"` // "usd_millis"
	Description            string         `json:"description,omitempty"`
	CustomerID             string         `json:"customer_id,omitempty"`
	CustomerEmail          string         `json:"customer_email,omitempty"`
	PayerWalletAddress     string         `json:"payer_wallet_address,omitempty"`
	PayerWalletNetwork     string         `json:"payer_wallet_network,omitempty"`
	CommerceOrderID        string         `json:"commerce_order_id,omitempty"`
	Environment            Environment    `json:"environment,omitempty"`
	ExpiresAt              time.Time      `json:"expires_at"`
	CreatedAt              time.Time      `json:"created_at"`
	PaidAt                 time.Time      `json:"paid_at"`
	LastPaymentAt          time.Time      `json:"last_payment_at"`
	Metadata               Metadata       `json:"metadata,omitempty"`
	// LatestPayment and Payments are present when requested with GetInvoiceParams.Expand.
	LatestPayment *InvoicePayment  `json:"latest_payment,omitempty"`
	Payments      []InvoicePayment `json:"payments,omitempty"`
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
	Object           string           `json:"object"`
	ID               string           `json:"id"`
	InvoiceID        string           `json:"invoice_id"`
	MerchantID       string           `json:"merchant_id,omitempty"`
	Status           PaymentStatus    `json:"status"`
	SettlementStatus SettlementStatus `json:"settlement_status,omitempty"`
	Settlement       *Settlement      `json:"settlement,omitempty"`
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
	SummaryStatus        SettlementStatus `json:"summary_status,omitempty"`
	Stage                string           `json:"stage,omitempty"` // "final" once done
	MerchantSettlementID string           `json:"merchant_settlement_id,omitempty"`
	SettlementTxHash     string           `json:"settlement_tx_hash,omitempty"`
	Network              string           `json:"network,omitempty"`
	Status               SettlementStatus `json:"status,omitempty"`
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
	Object        string          `json:"object"`
	Invoice       Invoice         `json:"invoice"`
	LatestPayment *InvoicePayment `json:"latest_payment,omitempty"`
}

// Status returns the invoice's status.
func (s *InvoiceStatus) Status() Status { return s.Invoice.Status }

// CreatedInvoice is the answer of CreateInvoice.
type CreatedInvoice struct {
	// InvoiceID is the canonical id for reconciliation.
	InvoiceID string `json:"invoice_id"`
	// PaymentURL is the hosted checkout link, valid until ExpiresAt.
	PaymentURL string    `json:"payment_url"`
	ExpiresAt  time.Time `json:"expires_at"`
	// SessionToken (pst_…) and Signature (sig_…) authorize the payor endpoints for embedded
	// checkout; they are safe to hand to the payor's browser (see NewPayorClient).
	SessionToken          string                `json:"session_token"`
	Signature             string                `json:"signature"`
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
