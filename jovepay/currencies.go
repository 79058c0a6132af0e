package jovepay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
)

// CurrenciesParams are the options of Currencies.
type CurrenciesParams struct {
	// FixedRate lists only the currencies available for fixed-rate payments.
	FixedRate bool
}

// Currencies lists the tickers customers can pay in ("btc", "usdttrc20"…) (GET /currencies).
func (c *Client) Currencies(ctx context.Context, p CurrenciesParams, opts ...paykit.CallOption) ([]string, error) {
	var q url.Values
	if p.FixedRate {
		q = url.Values{"fixed_rate": {"true"}}
	}
	var out struct {
		Currencies tickers `json:"currencies"`
	}
	if err := c.t.Do(ctx, transport.Request{Method: "GET", Path: "currencies", Route: "currencies", Query: q, Options: opts}, &out); err != nil {
		return nil, err
	}
	return out.Currencies, nil
}

// Currency describes one asset (GET /full-currencies).
type Currency struct {
	// ID is JovePay's numeric id of the currency.
	ID ID `json:"id"`
	// Code is the ticker used in every other call ("BTC"; compare case-insensitively).
	Code string `json:"code"`
	// Name is the display name.
	Name string `json:"name"`
	// Enable reports whether the currency is enabled for payments.
	Enable bool `json:"enable"`
	// WalletRegex validates a wallet address for this currency.
	WalletRegex string `json:"wallet_regex,omitempty"`
	// Priority orders currencies for display.
	Priority int64 `json:"priority,omitempty"`
	// ExtraIDExists reports that payments need a memo / destination tag (XRP, XLM…).
	ExtraIDExists bool `json:"extra_id_exists"`
	// ExtraIDRegex validates that memo.
	ExtraIDRegex string `json:"extra_id_regex,omitempty"`
	// LogoURL is a path to the currency's logo.
	LogoURL string `json:"logo_url,omitempty"`
	// Network is the chain ("btc", "trx", "eth").
	Network string `json:"network,omitempty"`
	// SmartContract is the token contract, for tokens.
	SmartContract string `json:"smart_contract,omitempty"`
	// NetworkPrecision is the number of decimals the network uses.
	NetworkPrecision int64 `json:"network_precision,omitempty"`
	// IsMaxLimit reports that the currency caps price_amount (about $2 000 for some assets).
	IsMaxLimit bool `json:"is_maxlimit,omitempty"`
}

// UnmarshalJSON decodes booleans and integers sent as numbers or strings, and null.
func (cur *Currency) UnmarshalJSON(b []byte) error {
	type plain Currency
	*cur = Currency{}
	w := struct {
		*plain
		Enable           jsonx.Bool  `json:"enable"`
		ExtraIDExists    jsonx.Bool  `json:"extra_id_exists"`
		IsMaxLimit       jsonx.Bool  `json:"is_maxlimit"`
		Priority         jsonx.Int64 `json:"priority"`
		NetworkPrecision jsonx.Int64 `json:"network_precision"`
	}{plain: (*plain)(cur)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	cur.Enable, cur.ExtraIDExists, cur.IsMaxLimit = bool(w.Enable), bool(w.ExtraIDExists), bool(w.IsMaxLimit)
	cur.Priority, cur.NetworkPrecision = int64(w.Priority), int64(w.NetworkPrecision)
	return nil
}

// FullCurrencies lists every currency with its details (GET /full-currencies).
func (c *Client) FullCurrencies(ctx context.Context, opts ...paykit.CallOption) ([]Currency, error) {
	var out struct {
		Currencies []Currency `json:"currencies"`
	}
	if err := c.t.Do(ctx, transport.Request{Method: "GET", Path: "full-currencies", Route: "full-currencies", Options: opts}, &out); err != nil {
		return nil, err
	}
	return out.Currencies, nil
}

// MerchantCurrencies lists the currencies the merchant enabled in the dashboard
// (GET /merchant/coins). The docs name the array "currencies"; live responses may name it
// "selectedCurrencies" (undocumented; paykit assumes it from NOWPayments): both are accepted.
func (c *Client) MerchantCurrencies(ctx context.Context, opts ...paykit.CallOption) ([]string, error) {
	var out struct {
		Currencies         tickers `json:"currencies"`
		SelectedCurrencies tickers `json:"selectedCurrencies"`
	}
	if err := c.t.Do(ctx, transport.Request{Method: "GET", Path: "merchant/coins", Route: "merchant/coins", Options: opts}, &out); err != nil {
		return nil, err
	}
	if out.SelectedCurrencies != nil {
		return out.SelectedCurrencies, nil
	}
	return out.Currencies, nil
}

// tickers decodes a list of tickers given as strings or as objects carrying a "code".
type tickers []string

func (t *tickers) UnmarshalJSON(b []byte) error {
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return err
	}
	out := make(tickers, 0, len(items))
	for _, raw := range items {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, s)
			continue
		}
		var obj struct {
			Code   string `json:"code"`
			Ticker string `json:"ticker"`
		}
		if json.Unmarshal(raw, &obj) != nil || obj.Code == "" && obj.Ticker == "" {
			return fmt.Errorf("jovepay: currency list entry is neither a ticker nor an object with a code: %.40s", raw)
		}
		if obj.Code == "" {
			obj.Code = obj.Ticker
		}
		out = append(out, obj.Code)
	}
	*t = out
	return nil
}
