package jovepay

import (
	"context"
	"github.com/paykit-go/paykit"
	"net/url"

	"github.com/paykit-go/paykit/internal/transport"
)

// MinAmountParams are the query of GET /min-amount.
type MinAmountParams struct {
	// CurrencyFrom is the asset the customer pays in (required).
	CurrencyFrom string
	// CurrencyTo is the merchant's outcome asset (optional; the payout wallet's by default).
	CurrencyTo string
	// FiatEquivalent asks for the minimum's value in this fiat too ("usd").
	FiatEquivalent string
	// IsFixedRate asks for the minimum of a fixed-rate payment.
	IsFixedRate bool
	// IsFeePaidByUser asks for the minimum when the customer pays the fees.
	IsFeePaidByUser bool
}

// MinAmount is the smallest payment JovePay accepts for a currency pair.
type MinAmount struct {
	// CurrencyFrom is the asset the customer pays in.
	CurrencyFrom string `json:"currency_from"`
	// CurrencyTo is the merchant's outcome asset.
	CurrencyTo string `json:"currency_to"`
	// MinAmount is in CurrencyFrom.
	MinAmount paykit.Decimal `json:"min_amount"`
	// FiatEquivalent is MinAmount in the requested fiat (0 when not requested).
	FiatEquivalent paykit.Decimal `json:"fiat_equivalent"`
}

// MinAmount returns the minimum payable amount for a pair (GET /min-amount). A payment below it
// fails with code AMOUNT_MINIMAL_ERROR; check an Estimate against it before creating.
func (c *Client) MinAmount(ctx context.Context, p MinAmountParams, opts ...paykit.CallOption) (*MinAmount, error) {
	if err := required("currency_from", p.CurrencyFrom); err != nil {
		return nil, err
	}
	q := url.Values{"currency_from": {p.CurrencyFrom}}
	if p.CurrencyTo != "" {
		q.Set("currency_to", p.CurrencyTo)
	}
	if p.FiatEquivalent != "" {
		q.Set("fiat_equivalent", p.FiatEquivalent)
	}
	if p.IsFixedRate {
		q.Set("is_fixed_rate", "true")
	}
	if p.IsFeePaidByUser {
		q.Set("is_fee_paid_by_user", "true")
	}
	var out MinAmount
	if err := c.t.Do(ctx, transport.Request{Method: "GET", Path: "min-amount", Route: "min-amount", Query: q, Options: opts}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EstimateParams are the query of GET /estimate.
type EstimateParams struct {
	// Amount is the amount to convert (required, > 0).
	Amount paykit.Decimal
	// CurrencyFrom is the amount's currency, usually the price fiat ("usd") (required).
	CurrencyFrom string
	// CurrencyTo is the asset to estimate in ("btc") (required).
	CurrencyTo string
}

// Estimate is an estimated conversion.
type Estimate struct {
	// CurrencyFrom is the converted amount's currency.
	CurrencyFrom string `json:"currency_from"`
	// AmountFrom is the converted amount.
	AmountFrom paykit.Decimal `json:"amount_from"`
	// CurrencyTo is the currency of the estimate.
	CurrencyTo string `json:"currency_to"`
	// EstimatedAmount is in CurrencyTo.
	EstimatedAmount paykit.Decimal `json:"estimated_amount"`
}

// Estimate converts an amount at the current rate (GET /estimate), for example a fiat price to
// the crypto amount the customer will pay.
func (c *Client) Estimate(ctx context.Context, p EstimateParams, opts ...paykit.CallOption) (*Estimate, error) {
	if err := positive("amount", p.Amount); err != nil {
		return nil, err
	}
	if err := required("currency_from", p.CurrencyFrom); err != nil {
		return nil, err
	}
	if err := required("currency_to", p.CurrencyTo); err != nil {
		return nil, err
	}
	q := url.Values{"amount": {p.Amount.String()}, "currency_from": {p.CurrencyFrom}, "currency_to": {p.CurrencyTo}}
	var out Estimate
	if err := c.t.Do(ctx, transport.Request{Method: "GET", Path: "estimate", Route: "estimate", Query: q, Options: opts}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AtLeast reports whether the estimate reaches the pair's minimum (same currency assumed:
// estimate in the pay currency, minimum with that pay currency as currency_from).
func (e *Estimate) AtLeast(m *MinAmount) bool { return e.EstimatedAmount.Cmp(m.MinAmount) >= 0 }
