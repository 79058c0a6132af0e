package jopay

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
)

// Merchant is a merchant assigned to the partner.
type Merchant struct {
	// ID is the merchant id to use as CreateRequestParams.MerchantID.
	ID string
	// OnboardingStatus is "incomplete" for a new shell merchant until the merchant finishes
	// wallet set-up and terms at OnboardingURL.
	OnboardingStatus string
	// OnboardingURL is where the merchant completes onboarding.
	OnboardingURL string
	// The profile fields, as given at creation (empty when the API does not echo them):
	// Email, DisplayName, BusinessName, Country, Phone, Website, Instagram and Industry.
	Email, DisplayName, BusinessName, Country, Phone, Website, Instagram, Industry string
	// DisplayCurrency is the merchant's display currency (ISO 4217), as given at creation.
	DisplayCurrency string
	// AccountType is the merchant's account type, as given at creation.
	AccountType string
	// CreatedAt is when the merchant was created, when the API sends it.
	CreatedAt time.Time
}

// OnboardingIncomplete is the onboarding status of a freshly created shell merchant.
const OnboardingIncomplete = "incomplete"

// CreateMerchantParams is the body of CreateMerchant. Every field is optional; Validate lists
// the documented limits.
type CreateMerchantParams struct {
	Email           string `json:"email,omitempty"`            // at most 254 characters
	DisplayName     string `json:"display_name,omitempty"`     // shown to customers
	BusinessName    string `json:"business_name,omitempty"`    // at most 120 characters
	Country         string `json:"country,omitempty"`          // ISO 3166 alpha-2, sent upper-cased
	Phone           string `json:"phone,omitempty"`            // at most 32 characters
	Website         string `json:"website,omitempty"`          // URL
	Instagram       string `json:"instagram,omitempty"`        // at most 200 characters
	Industry        string `json:"industry,omitempty"`         // at most 80 characters
	DisplayCurrency string `json:"display_currency,omitempty"` // ISO 4217, sent upper-cased
	AccountType     string `json:"account_type,omitempty"`     // e.g. "business"
}

// Validate checks the documented merchant limits and returns a *paykit.ValidationError naming the
// JSON field: email (a plain address, ≤ 254), business_name (≤ 120), country (two letters),
// phone (≤ 32), instagram (≤ 200), industry (≤ 80), display_currency (three letters), and
// valid UTF-8 everywhere.
func (p *CreateMerchantParams) Validate() error {
	if p.Email != "" {
		if err := checkEmail("email", p.Email); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{
		{"display_name", p.DisplayName, 0},
		{"business_name", p.BusinessName, 120},
		{"phone", p.Phone, 32},
		{"website", p.Website, 0},
		{"instagram", p.Instagram, 200},
		{"industry", p.Industry, 80},
		{"account_type", p.AccountType, 0},
	} {
		if err := checkText(f.field, f.value, f.max); err != nil {
			return err
		}
	}
	if p.Country != "" && !isLetters(p.Country, 2) {
		return &paykit.ValidationError{Field: "country", Reason: "must be a two-letter ISO 3166 code"}
	}
	if p.DisplayCurrency != "" && !isLetters(p.DisplayCurrency, 3) {
		return &paykit.ValidationError{Field: "display_currency", Reason: "must be a three-letter ISO 4217 code"}
	}
	return nil
}

// CreateMerchant creates a shell merchant for the partner (30 calls per minute per key). The
// merchant finishes onboarding at the returned OnboardingURL.
//
// The endpoint takes no idempotency key, so the client does not retry it once the request may
// have reached JoPay: such failures wrap paykit.ErrUnknownOutcome; list the merchants before
// creating again. paykit.WithIdempotencyKey is refused with a *paykit.ValidationError.
//
// By default the call waits on the client's limit and on a limit of its own,
// CreateMerchantRateLimitPerMinute (see WithRateLimiter).
func (c *Client) CreateMerchant(ctx context.Context, p CreateMerchantParams, opts ...paykit.CallOption) (*Merchant, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.Country = upperASCII(p.Country)
	p.DisplayCurrency = upperASCII(p.DisplayCurrency)
	var w wireMerchant
	req := transport.Request{Method: http.MethodPost, Path: "merchants", Route: "merchants", Body: p, Options: opts}
	if c.merchantsLimit != nil {
		req.Limiter = c.merchantsLimit
	}
	if err := c.do(ctx, req, &w); err != nil {
		return nil, err
	}
	return w.result()
}

// GetMerchant fetches one of the partner's merchants.
func (c *Client) GetMerchant(ctx context.Context, id string, opts ...paykit.CallOption) (*Merchant, error) {
	seg, err := transport.PathSegment("merchant_id", id)
	if err != nil {
		return nil, err
	}
	var w wireMerchant
	if err := c.do(ctx, transport.Request{Method: http.MethodGet, Path: "merchants/" + seg, Route: "merchants/{id}", Options: opts}, &w); err != nil {
		return nil, err
	}
	return w.result()
}

// maxMerchantPages bounds ListMerchants against a server that keeps answering has_more.
const maxMerchantPages = 1000

// ListMerchants returns every merchant of the partner. The endpoint is documented without
// pagination; if JoPay answers with has_more and a next_cursor, the pages are followed.
// opts apply to every page's request; paykit.WithResponseInfo receives the last one's.
func (c *Client) ListMerchants(ctx context.Context, opts ...paykit.CallOption) ([]*Merchant, error) {
	var out []*Merchant
	cursor := ""
	for page := 0; page < maxMerchantPages; page++ {
		var q url.Values
		if cursor != "" {
			q = url.Values{"cursor": {cursor}}
		}
		var w wireMerchantList
		if err := c.do(ctx, transport.Request{Method: http.MethodGet, Path: "merchants", Route: "merchants", Query: q, Options: opts}, &w); err != nil {
			return nil, err
		}
		for i := range w.Merchants {
			out = append(out, w.Merchants[i].merchant())
		}
		if !w.HasMore || w.NextCursor == "" || w.NextCursor == cursor {
			return out, nil
		}
		cursor = w.NextCursor
	}
	return nil, fmt.Errorf("jopay: list merchants: more than %d pages", maxMerchantPages)
}

type wireMerchant struct {
	OK               *bool         `json:"ok"`
	Error            string        `json:"error"`
	Message          string        `json:"message"`
	MerchantID       jsonx.ID      `json:"merchant_id"`
	ID               jsonx.ID      `json:"id"`
	OnboardingStatus string        `json:"onboarding_status"`
	OnboardingURL    string        `json:"onboarding_url"`
	Email            string        `json:"email"`
	DisplayName      string        `json:"display_name"`
	BusinessName     string        `json:"business_name"`
	Country          string        `json:"country"`
	Phone            string        `json:"phone"`
	Website          string        `json:"website"`
	Instagram        string        `json:"instagram"`
	Industry         string        `json:"industry"`
	DisplayCurrency  string        `json:"display_currency"`
	AccountType      string        `json:"account_type"`
	CreatedAt        jsonx.Time    `json:"created_at"`
	Merchant         *wireMerchant `json:"merchant"`
}

type wireMerchantList struct {
	OK         *bool          `json:"ok"`
	Error      string         `json:"error"`
	Message    string         `json:"message"`
	Merchants  []wireMerchant `json:"merchants"`
	HasMore    bool           `json:"has_more"`
	NextCursor string         `json:"next_cursor"`
}

func (w *wireMerchant) envelope() (*bool, string, string)     { return w.OK, w.Error, w.Message }
func (w *wireMerchantList) envelope() (*bool, string, string) { return w.OK, w.Error, w.Message }

// result converts a single-merchant response (its envelope already checked by Client.do).
func (w *wireMerchant) result() (*Merchant, error) {
	m := w.merchant()
	if m.ID == "" {
		return nil, fmt.Errorf("jopay: %w: response has no merchant_id", paykit.ErrInvalidResponse)
	}
	return m, nil
}

func (w *wireMerchant) merchant() *Merchant {
	if w.Merchant != nil {
		return w.Merchant.merchant()
	}
	id := string(w.MerchantID)
	if id == "" {
		id = string(w.ID)
	}
	return &Merchant{
		ID: id, OnboardingStatus: w.OnboardingStatus, OnboardingURL: w.OnboardingURL,
		Email: w.Email, DisplayName: w.DisplayName, BusinessName: w.BusinessName, Country: w.Country,
		Phone: w.Phone, Website: w.Website, Instagram: w.Instagram, Industry: w.Industry,
		DisplayCurrency: w.DisplayCurrency, AccountType: w.AccountType, CreatedAt: w.CreatedAt.Time,
	}
}
