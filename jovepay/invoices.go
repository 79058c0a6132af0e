package jovepay

import (
	"context"
	"encoding/json"
	"github.com/paykit-go/paykit"
	"strings"
	"time"

	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
)

// CreateInvoiceParams is the body of POST /invoice: a hosted payment page (a payment link).
type CreateInvoiceParams struct {
	// PriceAmount is the order's price (required, > 0).
	PriceAmount paykit.Decimal `json:"price_amount"`
	// PriceCurrency is the price currency, e.g. "usd" (required).
	PriceCurrency string `json:"price_currency"`
	// PayCurrency preselects the asset; when empty the customer picks one on the page.
	PayCurrency string `json:"pay_currency,omitempty"`
	// IPNCallbackURL receives the IPNs of the invoice's payments.
	IPNCallbackURL string `json:"ipn_callback_url,omitempty"`
	// OrderID is your order id (set it, unique per order: see CreatePayment on recovery).
	OrderID string `json:"order_id,omitempty"`
	// OrderDescription is shown on the page.
	OrderDescription string `json:"order_description,omitempty"`
	// SuccessURL is where the page sends the customer after a successful payment.
	SuccessURL string `json:"success_url,omitempty"`
	// CancelURL is where the page sends a customer who gives up.
	CancelURL string `json:"cancel_url,omitempty"`
	// PartiallyPaidURL is where the page sends a customer who paid too little.
	PartiallyPaidURL string `json:"partially_paid_url,omitempty"`
	// IsFixedRate freezes the quote for 20 minutes.
	IsFixedRate bool `json:"is_fixed_rate,omitempty"`
	// IsFeePaidByUser makes the customer pay the fees (and implies a fixed rate).
	IsFeePaidByUser bool `json:"is_fee_paid_by_user,omitempty"`
}

func (p *CreateInvoiceParams) validate() error {
	if err := positive("price_amount", p.PriceAmount); err != nil {
		return err
	}
	if err := required("price_currency", p.PriceCurrency); err != nil {
		return err
	}
	for _, u := range []struct{ field, v string }{
		{"ipn_callback_url", p.IPNCallbackURL}, {"success_url", p.SuccessURL},
		{"cancel_url", p.CancelURL}, {"partially_paid_url", p.PartiallyPaidURL},
	} {
		if err := callbackURL(u.field, u.v); err != nil {
			return err
		}
	}
	return nil
}

// Invoice is a hosted invoice (POST /invoice answers 201 with it).
type Invoice struct {
	// ID is the invoice id ("iid"), a string in the create response.
	ID ID `json:"id"`
	// TokenID identifies the hosted page.
	TokenID ID `json:"token_id,omitempty"`
	// InvoiceURL is the hosted page to show the customer or redirect to.
	InvoiceURL string `json:"invoice_url"`
	// PriceAmount is the price (sent as a string in this response; decoded exactly).
	PriceAmount paykit.Decimal `json:"price_amount"`
	// PriceCurrency is the price's currency.
	PriceCurrency string `json:"price_currency,omitempty"`
	// PayCurrency is "" when the customer picks it on the page.
	PayCurrency string `json:"pay_currency,omitempty"`
	// PayoutCurrency is the merchant's payout asset, when sent.
	PayoutCurrency string `json:"payout_currency,omitempty"`
	// IPNCallbackURL is where the invoice payments' IPNs go.
	IPNCallbackURL string `json:"ipn_callback_url,omitempty"`
	// OrderID is your order id.
	OrderID string `json:"order_id,omitempty"`
	// OrderDescription is shown on the page.
	OrderDescription string `json:"order_description,omitempty"`
	// SuccessURL is where the page sends the customer after paying.
	SuccessURL string `json:"success_url,omitempty"`
	// CancelURL is where the page sends a customer who gives up.
	CancelURL string `json:"cancel_url,omitempty"`
	// PartiallyPaidURL is where the page sends a customer who paid too little.
	PartiallyPaidURL string `json:"partially_paid_url,omitempty"`
	// IsFixedRate reports a fixed-rate invoice.
	IsFixedRate bool `json:"is_fixed_rate,omitempty"`
	// IsFeePaidByUser reports that the customer pays the fees.
	IsFeePaidByUser bool `json:"is_fee_paid_by_user,omitempty"`
	// CreatedAt is when the invoice was created.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// UpdatedAt is when the invoice last changed.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// UnmarshalJSON decodes tolerantly (see Payment.UnmarshalJSON).
func (inv *Invoice) UnmarshalJSON(b []byte) error {
	type plain Invoice
	*inv = Invoice{}
	w := struct {
		*plain
		OrderID         jsonx.ID   `json:"order_id"`
		IsFixedRate     jsonx.Bool `json:"is_fixed_rate"`
		IsFeePaidByUser jsonx.Bool `json:"is_fee_paid_by_user"`
		CreatedAt       jsonx.Time `json:"created_at"`
		UpdatedAt       jsonx.Time `json:"updated_at"`
	}{plain: (*plain)(inv)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	inv.OrderID = string(w.OrderID)
	inv.IsFixedRate, inv.IsFeePaidByUser = bool(w.IsFixedRate), bool(w.IsFeePaidByUser)
	inv.CreatedAt, inv.UpdatedAt = w.CreatedAt.Time, w.UpdatedAt.Time
	return nil
}

// CreateInvoice creates a hosted invoice (POST /invoice); send the customer to InvoiceURL.
// JovePay redirects them to SuccessURL after paying, and the payment's IPNs carry invoice_id.
//
// Like CreatePayment it has no idempotency key and is not retried once the request may have
// reached JovePay; an error wrapping paykit.ErrUnknownOutcome means the invoice may exist. An invoice
// nobody pays costs nothing, so creating a new one is usually acceptable — but never send the
// customer to two invoices for one order.
func (c *Client) CreateInvoice(ctx context.Context, p CreateInvoiceParams, opts ...paykit.CallOption) (*Invoice, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err // not sent
	}
	var out Invoice
	if err := c.t.Do(ctx, transport.Request{Method: "POST", Path: "invoice", Route: "invoice", Body: &p, Options: opts}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateInvoicePaymentParams is the body of POST /invoice-payment: a payment (a deposit
// address) for an existing invoice, for merchants that show the invoice in their own UI.
type CreateInvoicePaymentParams struct {
	// InvoiceID is the invoice's id, "iid" (required).
	InvoiceID ID
	// PayCurrency is the asset the customer pays in (required).
	PayCurrency string
	// PurchaseID adds the payment to an existing purchase.
	PurchaseID ID
	// OrderDescription overrides the invoice's description.
	OrderDescription string
	// CustomerEmail is the buyer's email, for JovePay's receipts.
	CustomerEmail string
	// PayoutAddress overrides the payout wallet; PayoutCurrency is then required.
	PayoutAddress string
	// PayoutCurrency is the payout wallet's asset.
	PayoutCurrency string
	// PayoutExtraID is the payout wallet's memo / tag, if it needs one.
	PayoutExtraID string
}

// MarshalJSON writes the documented body. iid is sent as a JSON number when it is all digits,
// as in the documented example (a string otherwise) [assumed: JovePay accepts either].
func (p CreateInvoicePaymentParams) MarshalJSON() ([]byte, error) {
	var iid any = string(p.InvoiceID)
	if isDigits(string(p.InvoiceID)) {
		iid = json.Number(p.InvoiceID)
	}
	return json.Marshal(struct {
		IID              any    `json:"iid"`
		PayCurrency      string `json:"pay_currency"`
		PurchaseID       ID     `json:"purchase_id,omitempty"`
		OrderDescription string `json:"order_description,omitempty"`
		CustomerEmail    string `json:"customer_email,omitempty"`
		PayoutAddress    string `json:"payout_address,omitempty"`
		PayoutCurrency   string `json:"payout_currency,omitempty"`
		PayoutExtraID    string `json:"payout_extra_id,omitempty"`
	}{iid, p.PayCurrency, p.PurchaseID, p.OrderDescription, p.CustomerEmail, p.PayoutAddress, p.PayoutCurrency, p.PayoutExtraID})
}

func isDigits(s string) bool {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (p *CreateInvoicePaymentParams) validate() error {
	if err := required("iid", string(p.InvoiceID)); err != nil {
		return err
	}
	if err := required("pay_currency", p.PayCurrency); err != nil {
		return err
	}
	if p.PayoutAddress != "" && strings.TrimSpace(p.PayoutCurrency) == "" {
		return &paykit.ValidationError{Field: "payout_currency", Reason: "required with payout_address"}
	}
	return nil
}

// CreateInvoicePayment creates a payment for an existing invoice (POST /invoice-payment) and
// returns it with its deposit address. It is not retried once it may have reached JovePay (see
// CreatePayment); after paykit.ErrUnknownOutcome, list the invoice's payments
// (ListPaymentsParams.InvoiceID) before trying again.
func (c *Client) CreateInvoicePayment(ctx context.Context, p CreateInvoicePaymentParams, opts ...paykit.CallOption) (*Payment, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err // not sent
	}
	var out Payment
	if err := c.t.Do(ctx, transport.Request{Method: "POST", Path: "invoice-payment", Route: "invoice-payment", Body: p, Options: opts}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
