package jovepay

import (
	"context"
	"encoding/json"
	"github.com/paykit-go/paykit"
	"net/http"
	"strings"
	"time"

	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
)

// Payment is a payment as GET /payment/{id}, POST /payment, the payments list and payment IPNs
// describe it. Fields JovePay leaves null decode to their zero value.
type Payment struct {
	// ID is payment_id (a string on create, a number elsewhere; the same ID either way).
	ID ID `json:"payment_id"`
	// ParentPaymentID links a repeated deposit to the original payment ("" otherwise).
	ParentPaymentID ID `json:"parent_payment_id,omitempty"`
	// OriginType is "REPEATED" on a repeated deposit; see IsRepeatedDeposit.
	OriginType string `json:"origin_type,omitempty"`
	// InvoiceID is the invoice the payment belongs to, if any.
	InvoiceID ID `json:"invoice_id,omitempty"`
	// Status is payment_status.
	Status PaymentStatus `json:"payment_status"`
	// PayAddress is the deposit address the customer pays to.
	PayAddress string `json:"pay_address,omitempty"`
	// PayinExtraID is the memo / destination tag the customer must add for coins that need one
	// (XRP, XLM, EOS…); "" when not needed.
	PayinExtraID string `json:"payin_extra_id,omitempty"`
	// PriceAmount is the order's price in PriceCurrency.
	PriceAmount paykit.Decimal `json:"price_amount"`
	// PriceCurrency is the price currency ("usd").
	PriceCurrency string `json:"price_currency,omitempty"`
	// PayAmount is what the customer must send, in PayCurrency.
	PayAmount paykit.Decimal `json:"pay_amount"`
	// ActuallyPaid is what arrived so far, in PayCurrency.
	ActuallyPaid paykit.Decimal `json:"actually_paid"`
	// ActuallyPaidAtFiat is ActuallyPaid valued in the price currency, when JovePay sends it.
	ActuallyPaidAtFiat paykit.Decimal `json:"actually_paid_at_fiat"`
	// AmountReceived is the amount JovePay credited, when it sends it.
	AmountReceived paykit.Decimal `json:"amount_received"`
	// PayCurrency is the asset the customer pays in ("btc", "usdttrc20").
	PayCurrency string `json:"pay_currency,omitempty"`
	// orderID is order_id, the merchant's order id passed at creation (see OrderID). It is
	// decoded by UnmarshalJSON and encoded by MarshalJSON.
	orderID string
	// OrderDescription is the merchant's description passed at creation.
	OrderDescription string `json:"order_description,omitempty"`
	// IPNCallbackURL is where JovePay posts this payment's IPNs.
	IPNCallbackURL string `json:"ipn_callback_url,omitempty"`
	// PurchaseID groups payments of one purchase.
	PurchaseID ID `json:"purchase_id,omitempty"`
	// OutcomeAmount is what the merchant receives, in OutcomeCurrency.
	OutcomeAmount paykit.Decimal `json:"outcome_amount"`
	// OutcomeCurrency is the payout asset.
	OutcomeCurrency string `json:"outcome_currency,omitempty"`
	// PayinHash is the customer's transaction hash.
	PayinHash string `json:"payin_hash,omitempty"`
	// PayoutHash is the hash of the transfer to the merchant.
	PayoutHash string `json:"payout_hash,omitempty"`
	// PaymentExtraIDs is payment_extra_ids as sent (its shape is undocumented); nil when null.
	PaymentExtraIDs json.RawMessage `json:"payment_extra_ids,omitempty"`
	// Network is the pay currency's network ("btc", "trx").
	Network string `json:"network,omitempty"`
	// Type is "crypto2crypto" or "fiat2crypto".
	Type string `json:"type,omitempty"`
	// Fee is the fee breakdown, when sent.
	Fee *Fee `json:"fee,omitempty"`
	// IsFixedRate reports a fixed-rate payment (the quote is frozen for 20 minutes).
	IsFixedRate bool `json:"is_fixed_rate,omitempty"`
	// IsFeePaidByUser reports that the customer pays the fees.
	IsFeePaidByUser bool `json:"is_fee_paid_by_user,omitempty"`
	// ExpirationEstimateDate is when an unpaid payment is expected to expire.
	ExpirationEstimateDate time.Time `json:"expiration_estimate_date,omitzero"`
	// ValidUntil is when a fixed-rate quote ends.
	ValidUntil time.Time `json:"valid_until,omitzero"`
	// CreatedAt is when the payment was created.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// UpdatedAt is when the payment last changed.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Fee is a payment's fee breakdown.
type Fee struct {
	// Currency is the fees' currency.
	Currency string `json:"currency"`
	// DepositFee is the network fee of the customer's deposit.
	DepositFee paykit.Decimal `json:"depositFee"`
	// WithdrawalFee is the network fee of the payout to the merchant.
	WithdrawalFee paykit.Decimal `json:"withdrawalFee"`
	// ServiceFee is JovePay's fee.
	ServiceFee paykit.Decimal `json:"serviceFee"`
}

// OriginRepeated is the origin_type of a repeated deposit (a second transfer to a payment's
// address, reported as a child payment).
const OriginRepeated = "REPEATED"

// UnmarshalJSON decodes tolerantly: ids as strings or numbers, timestamps as ISO text or unix
// time, booleans as true/"true"/1, amounts as numbers or strings, order ids and memos as
// strings or numbers.
func (p *Payment) UnmarshalJSON(b []byte) error {
	var w paymentWire
	return w.decode(b, p)
}

type plainPayment Payment // Payment without its methods, so decoding it does not recurse

// MarshalJSON encodes the payment with the JSON names it was decoded from, order_id included.
func (p Payment) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		*plainPayment
		OrderID string `json:"order_id,omitempty"`
	}{(*plainPayment)(&p), p.orderID})
}

// OrderID returns the merchant's order id the payment was created with (its order_id field),
// or "" when it has none or p is nil.
func (p *Payment) OrderID() string {
	if p == nil {
		return ""
	}
	return p.orderID
}

// paymentWire decodes a Payment in one pass: the embedded fields directly, the tolerant ones
// through shadow fields of the same JSON name (the shallower field wins). The markers record
// keys of the other IPN shapes, so ParseIPN can classify a body while decoding it.
type paymentWire struct {
	*plainPayment
	PayinExtraID           jsonx.ID   `json:"payin_extra_id"`
	OrderID                jsonx.ID   `json:"order_id"`
	IsFixedRate            jsonx.Bool `json:"is_fixed_rate"`
	IsFeePaidByUser        jsonx.Bool `json:"is_fee_paid_by_user"`
	ExpirationEstimateDate jsonx.Time `json:"expiration_estimate_date"`
	ValidUntil             jsonx.Time `json:"valid_until"`
	CreatedAt              jsonx.Time `json:"created_at"`
	UpdatedAt              jsonx.Time `json:"updated_at"`

	BatchWithdrawalID present `json:"batch_withdrawal_id"`
	Address           present `json:"address"`
	OtherID           present `json:"id"`
	OtherStatus       present `json:"status"`
}

func (w *paymentWire) decode(b []byte, p *Payment) error {
	*p = Payment{}
	w.plainPayment = (*plainPayment)(p)
	if err := json.Unmarshal(b, w); err != nil {
		return err
	}
	p.PayinExtraID, p.orderID = string(w.PayinExtraID), string(w.OrderID)
	p.IsFixedRate, p.IsFeePaidByUser = bool(w.IsFixedRate), bool(w.IsFeePaidByUser)
	p.ExpirationEstimateDate, p.ValidUntil = w.ExpirationEstimateDate.Time, w.ValidUntil.Time
	p.CreatedAt, p.UpdatedAt = w.CreatedAt.Time, w.UpdatedAt.Time
	if string(p.PaymentExtraIDs) == "null" {
		p.PaymentExtraIDs = nil
	}
	return nil
}

// IsRepeatedDeposit reports a repeated deposit: money sent again to an existing payment's
// address, reported as a child payment with parent_payment_id (and origin_type "REPEATED").
// JovePay converts it to the original asset, but it is not a new order's payment: JovePay's
// guide advises against fulfilling automatically on it.
func (p *Payment) IsRepeatedDeposit() bool {
	return !p.ParentPaymentID.IsZero() || strings.EqualFold(p.OriginType, OriginRepeated)
}

// IsWrongAsset reports whether the customer paid in another asset (or network) than the order
// asked for — a "wrong-asset deposit", which JovePay's dashboard labels and which usually needs
// manual resolution. Comparison is case-insensitive.
func (p *Payment) IsWrongAsset(expectedPayCurrency string) bool {
	return !sameCurrency(p.PayCurrency, expectedPayCurrency)
}

// Underpaid reports whether less than PayAmount has arrived.
func (p *Payment) Underpaid() bool { return p.ActuallyPaid.LessThan(p.PayAmount) }

// CreatePaymentParams is the body of POST /payment.
type CreatePaymentParams struct {
	// PriceAmount is the order's price (required, > 0).
	PriceAmount paykit.Decimal `json:"price_amount"`
	// PriceCurrency is the price currency, e.g. "usd" (required).
	PriceCurrency string `json:"price_currency"`
	// PayCurrency is the asset the customer pays in, e.g. "btc" (required).
	PayCurrency string `json:"pay_currency"`
	// PayAmount fixes the amount the customer pays instead of JovePay's estimate (optional).
	PayAmount paykit.Decimal `json:"pay_amount,omitzero"`
	// IPNCallbackURL receives this payment's IPNs; must start with http:// or https://.
	IPNCallbackURL string `json:"ipn_callback_url,omitempty"`
	// OrderID is your order id. Set it, unique per order: it is the only way to find the payment
	// again after an ambiguous failure (FindPaymentByOrderID, CreatePaymentOnce).
	OrderID string `json:"order_id,omitempty"`
	// OrderDescription is shown to the customer.
	OrderDescription string `json:"order_description,omitempty"`
	// PurchaseID adds the payment to an existing purchase.
	PurchaseID ID `json:"purchase_id,omitempty"`
	// PayoutAddress overrides the payout wallet; PayoutCurrency is then required.
	PayoutAddress string `json:"payout_address,omitempty"`
	// PayoutCurrency is the payout wallet's asset.
	PayoutCurrency string `json:"payout_currency,omitempty"`
	// PayoutExtraID is the payout wallet's memo / tag, if it needs one.
	PayoutExtraID string `json:"payout_extra_id,omitempty"`
	// IsFixedRate freezes the quote for 20 minutes.
	IsFixedRate bool `json:"is_fixed_rate,omitempty"`
	// IsFeePaidByUser makes the customer pay the fees (and implies a fixed rate).
	IsFeePaidByUser bool `json:"is_fee_paid_by_user,omitempty"`
	// Case selects a simulated outcome in the sandbox only ("success", "partially_paid"…).
	Case string `json:"case,omitempty"`
	// OriginIP is the buyer's IP, sent as the origin-ip header for fiat2crypto payments.
	OriginIP string `json:"-"`
}

func (p *CreatePaymentParams) validate() error {
	if err := positive("price_amount", p.PriceAmount); err != nil {
		return err
	}
	if err := required("price_currency", p.PriceCurrency); err != nil {
		return err
	}
	if err := required("pay_currency", p.PayCurrency); err != nil {
		return err
	}
	if p.PayAmount.Sign() < 0 {
		return &paykit.ValidationError{Field: "pay_amount", Reason: "must not be negative"}
	}
	if err := callbackURL("ipn_callback_url", p.IPNCallbackURL); err != nil {
		return err
	}
	if p.PayoutAddress != "" && strings.TrimSpace(p.PayoutCurrency) == "" {
		return &paykit.ValidationError{Field: "payout_currency", Reason: "required with payout_address"}
	}
	if strings.ContainsAny(p.OriginIP, "\r\n") {
		return &paykit.ValidationError{Field: "origin-ip", Reason: "must be on one line"}
	}
	return nil
}

// CreatePayment creates a payment and returns it with its deposit address (POST /payment).
//
// JovePay has no idempotency key, so a create is never retried once it may have reached the
// server. After an error that wraps paykit.ErrUnknownOutcome (a 5xx, a dropped connection, a timeout)
// the payment may or may not exist: do not simply call CreatePayment again, or the customer may
// get two addresses for one order. Look it up by order id first (FindPaymentByOrderID, JWT
// needed) or use CreatePaymentOnce, which does that for you. For the same reason
// paykit.WithIdempotencyKey fails with a *paykit.ValidationError before anything is sent.
func (c *Client) CreatePayment(ctx context.Context, p CreatePaymentParams, opts ...paykit.CallOption) (*Payment, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	var h http.Header
	if p.OriginIP != "" {
		h = http.Header{"Origin-Ip": {p.OriginIP}}
	}
	if err := ctx.Err(); err != nil {
		return nil, err // not sent
	}
	var out Payment
	if err := c.t.Do(ctx, transport.Request{Method: "POST", Path: "payment", Route: "payment", Body: &p, Header: h, Options: opts}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetPayment returns a payment's current state (GET /payment/{id}). Use the API key that
// created the payment.
func (c *Client) GetPayment(ctx context.Context, id ID, opts ...paykit.CallOption) (*Payment, error) {
	if err := required("payment_id", string(id)); err != nil {
		return nil, err
	}
	seg, err := transport.PathSegment("payment_id", string(id))
	if err != nil {
		return nil, err
	}
	var out Payment
	if err := c.t.Do(ctx, transport.Request{Method: "GET", Path: "payment/" + seg, Route: "payment/{id}", Options: opts}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MerchantEstimate is the answer of UpdateMerchantEstimate.
type MerchantEstimate struct {
	// ID is the payment id.
	ID ID `json:"id"`
	// TokenID identifies the estimate.
	TokenID ID `json:"token_id"`
	// PayAmount is the refreshed amount the customer must send.
	PayAmount paykit.Decimal `json:"pay_amount"`
	// ExpirationEstimateDate is when this estimate ends.
	ExpirationEstimateDate time.Time `json:"expiration_estimate_date,omitzero"`
}

// UnmarshalJSON decodes the timestamp tolerantly.
func (m *MerchantEstimate) UnmarshalJSON(b []byte) error {
	type plain MerchantEstimate
	*m = MerchantEstimate{}
	w := struct {
		*plain
		ExpirationEstimateDate jsonx.Time `json:"expiration_estimate_date"`
	}{plain: (*plain)(m)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	m.ExpirationEstimateDate = w.ExpirationEstimateDate.Time
	return nil
}

// UpdateMerchantEstimate refreshes a waiting payment's pay_amount at the current rate
// (POST /payment/{id}/update-merchant-estimate). It changes nothing but the estimate, so it is
// retried like a read.
func (c *Client) UpdateMerchantEstimate(ctx context.Context, id ID, opts ...paykit.CallOption) (*MerchantEstimate, error) {
	if err := required("payment_id", string(id)); err != nil {
		return nil, err
	}
	seg, err := transport.PathSegment("payment_id", string(id))
	if err != nil {
		return nil, err
	}
	var out MerchantEstimate
	err = c.t.Do(ctx, transport.Request{
		Method:     "POST",
		Path:       "payment/" + seg + "/update-merchant-estimate",
		Route:      "payment/{id}/update-merchant-estimate",
		Idempotent: true,
		Options:    opts,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}
