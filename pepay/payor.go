package pepay

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
)

// PayorClient calls the payor (embedded checkout) endpoints of one invoice with its payment
// session headers, x-session-token and x-signature. It never sends a merchant API key, so it is
// the client to use where the key must not be: a browser (via WebAssembly), a mobile app, a
// kiosk. It is safe for concurrent use.
type PayorClient struct {
	t    *transport.Client
	auth transport.Auth // nil when the transport carries the session itself
}

// sessionAuth sends the payor session headers.
type sessionAuth PaymentSessionHeaders

func (a sessionAuth) Apply(_ context.Context, req *http.Request) error {
	req.Header.Del("x-api-key") // never both: payor endpoints refuse a mixed auth mode
	req.Header.Set("x-session-token", a.SessionToken)
	req.Header.Set("x-signature", a.Signature)
	return nil
}

func (a sessionAuth) Secrets() []string { return []string{a.SessionToken, a.Signature} }

func (h PaymentSessionHeaders) check() error {
	if strings.TrimSpace(h.SessionToken) == "" || strings.TrimSpace(h.Signature) == "" {
		return errors.New("pepay: payment session headers need both x-session-token and x-signature")
	}
	if strings.ContainsAny(h.SessionToken+h.Signature, " \t\r\n") {
		return errors.New("pepay: payment session headers contain whitespace")
	}
	return nil
}

// NewPayorClient returns a payor client for the session headers returned by CreateInvoice
// (CreatedInvoice.PaymentSessionHeaders). It takes the same options as NewClient
// (WithBaseURL, WithHTTPClient, …); WithEnvironment has no effect on payor endpoints.
func NewPayorClient(h PaymentSessionHeaders, opts ...Option) (*PayorClient, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	t, err := transport.New(transport.Config{Provider: Provider, Settings: o.Settings, Auth: sessionAuth(h)})
	if err != nil {
		return nil, err
	}
	return &PayorClient{t: t}, nil
}

// PayorSession returns a payor client that shares c's connection pool and settings but
// authenticates with the session headers instead of the API key (x-api-key is not sent). Use it
// on the server to act for a payor, for example to prefetch session details.
func (c *Client) PayorSession(h PaymentSessionHeaders) (*PayorClient, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	return &PayorClient{t: c.t, auth: sessionAuth(h)}, nil
}

func (p *PayorClient) do(ctx context.Context, req transport.Request, out any) error {
	req.Auth = p.auth
	return doRequest(ctx, p.t, req, out)
}

const paymentsPath = apiPrefix + "payments/"

// SessionDetails is the payor's view of the invoice.
type SessionDetails struct {
	InvoiceID          string         `json:"invoice_id"`
	AmountUSD          paykit.Decimal `json:"amount_usd"`
	AmountRemainingUSD paykit.Decimal `json:"amount_remaining_usd"`
	Description        string         `json:"description,omitempty"`
	ExpiresAt          time.Time      `json:"expires_at"`
	InvoiceStatus      Status         `json:"invoice_status"`
	// RemainingTime is how long the invoice stays payable (remaining_time, milliseconds).
	RemainingTime      time.Duration `json:"-"`
	RemainingSeconds   int64         `json:"remaining_seconds"`
	MerchantName       string        `json:"merchant_name,omitempty"`
	NetworkEnvironment string        `json:"network_environment,omitempty"`
	// LockedNetwork, LockedTokenID and LockedPaymentAddress are set once the invoice is
	// underpaid: the remainder must be paid with that network and token, to that address.
	LockedNetwork        string `json:"locked_network,omitempty"`
	LockedTokenID        int64  `json:"locked_token_id,omitempty"`
	LockedPaymentAddress string `json:"locked_payment_address,omitempty"`
}

// UnmarshalJSON decodes times in either form, remaining_time in milliseconds and ids as
// strings or numbers.
func (s *SessionDetails) UnmarshalJSON(b []byte) error {
	type plain SessionDetails
	*s = SessionDetails{}
	w := struct {
		*plain
		ExpiresAt        jsonx.Time  `json:"expires_at"`
		RemainingTime    jsonx.Int64 `json:"remaining_time"`
		RemainingSeconds jsonx.Int64 `json:"remaining_seconds"`
		LockedTokenID    jsonx.Int64 `json:"locked_token_id"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	s.ExpiresAt = w.ExpiresAt.Time
	s.RemainingTime = time.Duration(w.RemainingTime) * time.Millisecond
	s.RemainingSeconds, s.LockedTokenID = int64(w.RemainingSeconds), int64(w.LockedTokenID)
	return nil
}

// SessionDetails returns the invoice as the payor sees it.
func (p *PayorClient) SessionDetails(ctx context.Context) (*SessionDetails, error) {
	var out SessionDetails
	if err := p.do(ctx, transport.Request{Method: http.MethodGet, Path: paymentsPath + "session-details"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// TokenMode selects which tokens AvailableTokens lists.
type TokenMode string

// Token modes.
const (
	TokenModeMonitored TokenMode = "monitored"
	TokenModeAll       TokenMode = "all"
	TokenModeNetwork   TokenMode = "network" // tokens of one network; set Network
)

// AvailableTokensParams filters AvailableTokens. All fields are optional.
type AvailableTokensParams struct {
	Mode          TokenMode
	Network       string
	AvailableOnly bool
}

// Token is a token the payor can pay with.
type Token struct {
	// ID is the token id to pass to CreatePaymentAddress.
	ID                 int64  `json:"id"`
	TokenSymbol        string `json:"token_symbol"`
	TokenType          string `json:"token_type"` // native, erc20, spl, sui, ton
	Network            string `json:"network"`
	TokenDecimals      int    `json:"token_decimals"`
	TokenAddress       string `json:"token_address,omitempty"`
	AvailabilityStatus string `json:"availability_status,omitempty"` // DEVNET, AVAILABLE, STALE, NO_LIQUIDITY, QUOTE_REQUIRED
	UnavailableReason  string `json:"unavailable_reason,omitempty"`
}

// UnmarshalJSON accepts the numeric fields as numbers or strings.
func (t *Token) UnmarshalJSON(b []byte) error {
	type plain Token
	*t = Token{}
	w := struct {
		*plain
		ID            jsonx.Int64 `json:"id"`
		TokenDecimals jsonx.Int64 `json:"token_decimals"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	t.ID, t.TokenDecimals = int64(w.ID), int(w.TokenDecimals)
	return nil
}

// AvailableTokens lists the tokens the payor can pay with.
func (p *PayorClient) AvailableTokens(ctx context.Context, params AvailableTokensParams) ([]Token, error) {
	q := url.Values{}
	switch params.Mode {
	case "", TokenModeMonitored, TokenModeAll:
	case TokenModeNetwork:
		if params.Network == "" {
			return nil, &ValidationError{Field: "network", Reason: "required with mode=network"}
		}
	default:
		return nil, &ValidationError{Field: "mode", Reason: "must be monitored, all or network"}
	}
	setIf(q, "mode", string(params.Mode))
	setIf(q, "network", params.Network)
	if params.AvailableOnly {
		q.Set("available_only", "true")
	}
	var out tokenList
	if err := p.do(ctx, transport.Request{Method: http.MethodGet, Path: paymentsPath + "available-tokens", Query: q}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// tokenList accepts a bare array or an object holding it under "tokens" or "data".
type tokenList []Token

func (l *tokenList) UnmarshalJSON(b []byte) error {
	var arr []Token
	if err := json.Unmarshal(b, &arr); err == nil {
		*l = arr
		return nil
	}
	var obj struct {
		Tokens []Token `json:"tokens"`
		Data   []Token `json:"data"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*l = append(obj.Tokens, obj.Data...)
	return nil
}

// PaymentAddress is a deposit address with a price quote for one network and token.
type PaymentAddress struct {
	TempAddress          string         `json:"temp_address"`
	Network              string         `json:"network"`
	SupportedTokenID     int64          `json:"supported_token_id"`
	EstimatedTokenAmount paykit.Decimal `json:"estimated_token_amount"`
	ExchangeRate         paykit.Decimal `json:"exchange_rate"`
	USDAmount            paykit.Decimal `json:"usd_amount"`
	QuoteStatus          string         `json:"quote_status,omitempty"`
	StatusCode           string         `json:"status_code,omitempty"`
	QuoteValidUntil      time.Time      `json:"quote_valid_until"`
	// QuoteExpiresIn is quote_expires_in_seconds (Pepay documents 300).
	QuoteExpiresIn time.Duration `json:"-"`
	// WSConnection is the payor stream (/ws/payment) for this quote; Token is a credential.
	WSConnection WSConnection `json:"ws_connection"`
}

// WSConnection describes the payor WebSocket returned with a payment address.
type WSConnection struct {
	Token    string `json:"token"`
	Endpoint string `json:"endpoint"` // "/ws/payment"
	Format   string `json:"format"`
	WSURL    string `json:"ws_url"`
}

// UnmarshalJSON decodes numbers and times tolerantly.
func (a *PaymentAddress) UnmarshalJSON(b []byte) error {
	type plain PaymentAddress
	*a = PaymentAddress{}
	w := struct {
		*plain
		SupportedTokenID jsonx.Int64 `json:"supported_token_id"`
		StatusCode       jsonx.ID    `json:"status_code"`
		QuoteValidUntil  jsonx.Time  `json:"quote_valid_until"`
		QuoteExpiresIn   jsonx.Int64 `json:"quote_expires_in_seconds"`
	}{plain: (*plain)(a)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	a.SupportedTokenID, a.StatusCode = int64(w.SupportedTokenID), string(w.StatusCode)
	a.QuoteValidUntil = w.QuoteValidUntil.Time
	a.QuoteExpiresIn = time.Duration(w.QuoteExpiresIn) * time.Second
	return nil
}

// CreatePaymentAddress asks for a deposit address and quote for network ("base") and tokenID
// (a Token.ID). Each call may create a new quote, so it is not retried once it may have reached
// Pepay (see paykit.ErrUnknownOutcome).
func (p *PayorClient) CreatePaymentAddress(ctx context.Context, network string, tokenID int64) (*PaymentAddress, error) {
	if strings.TrimSpace(network) == "" {
		return nil, &ValidationError{Field: "network", Reason: "must not be empty"}
	}
	if tokenID <= 0 {
		return nil, &ValidationError{Field: "tokenId", Reason: "must be a positive token id"}
	}
	body := struct {
		Network string `json:"network"`
		TokenID int64  `json:"tokenId"`
	}{network, tokenID}
	var out PaymentAddress
	if err := p.do(ctx, transport.Request{Method: http.MethodPost, Path: paymentsPath + "payment-addresses", Body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PayorStatus is the answer of PayorClient.PaymentStatus.
type PayorStatus struct {
	Status Status    `json:"status"`
	PaidAt time.Time `json:"paid_at"`
}

// UnmarshalJSON accepts paid_at in either form (or null).
func (s *PayorStatus) UnmarshalJSON(b []byte) error {
	type plain PayorStatus
	*s = PayorStatus{}
	w := struct {
		*plain
		PaidAt jsonx.Time `json:"paid_at"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	s.PaidAt = w.PaidAt.Time
	return nil
}

// PaymentStatus returns the invoice status as the payor sees it.
func (p *PayorClient) PaymentStatus(ctx context.Context) (*PayorStatus, error) {
	var out PayorStatus
	if err := p.do(ctx, transport.Request{Method: http.MethodGet, Path: paymentsPath + "payment-status"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetCustomerEmail stores the payor's email on the invoice (body {"email": …}; the field name is
// the SDK's reading of the docs). Storing the same email twice is harmless, so it is retried.
func (p *PayorClient) SetCustomerEmail(ctx context.Context, email string) error {
	if err := checkText("email", email); err != nil {
		return err
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return &ValidationError{Field: "email", Reason: "must be a plain email address"}
	}
	body := struct {
		Email string `json:"email"`
	}{email}
	return p.do(ctx, transport.Request{Method: http.MethodPost, Path: paymentsPath + "customer-email", Body: body, Idempotent: true}, nil)
}
