package pepay

import (
	"bytes"
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
	t       *transport.Client
	auth    transport.Auth // nil when the transport carries the session itself
	secrets []string       // the session headers, scrubbed from stream errors
	ws      streamEnv      // for PayorClient.Stream
	wsBase  string         // ws(s)://host without a trailing slash
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
	t, err := transport.New(transport.Config{Provider: Provider, Settings: o.Settings, Auth: sessionAuth(h), BaseURLRule: baseURLRule()})
	if err != nil {
		return nil, err
	}
	p := &PayorClient{t: t, secrets: sessionAuth(h).Secrets(), ws: newStreamEnv(o.Settings), wsBase: o.wsBase}
	if p.wsBase == "" {
		p.wsBase = wsHost(t.BaseURL())
	}
	return p, nil
}

// PayorSession returns a payor client that shares c's connection pool and settings but
// authenticates with the session headers instead of the API key (x-api-key is not sent). Use it
// on the server to act for a payor, for example to prefetch session details.
func (c *Client) PayorSession(h PaymentSessionHeaders) (*PayorClient, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	return &PayorClient{t: c.t, auth: sessionAuth(h), secrets: sessionAuth(h).Secrets(), ws: c.streamEnv(), wsBase: c.wsBase}, nil
}

func (p *PayorClient) do(ctx context.Context, req transport.Request, out any) error {
	req.Auth = p.auth
	return doRequest(ctx, p.t, req, out)
}

const paymentsPath = "payments/"

// payorRequest is a request to payments/<name>, a route without ids.
func payorRequest(method, name string, body any, opts []paykit.CallOption) transport.Request {
	return transport.Request{Method: method, Path: paymentsPath + name, Route: paymentsPath + name, Body: body, Options: opts}
}

// SessionDetails is the payor's view of the invoice.
type SessionDetails struct {
	// InvoiceID is the id of the invoice the session pays.
	InvoiceID string `json:"invoice_id"`
	// AmountUSD is the invoice amount in US dollars (a decimal, not usd_millis).
	AmountUSD paykit.Decimal `json:"amount_usd"`
	// AmountRemainingUSD is the amount still due in US dollars.
	AmountRemainingUSD paykit.Decimal `json:"amount_remaining_usd"`
	// Description is the invoice description; "" when none.
	Description string `json:"description,omitempty"`
	// ExpiresAt is when the invoice stops being payable (RFC 3339 or unix seconds on the wire).
	ExpiresAt time.Time `json:"expires_at"`
	// InvoiceStatus is the invoice's status (see the Status constants).
	InvoiceStatus Status `json:"invoice_status"`
	// RemainingTime is how long the invoice stays payable (remaining_time, milliseconds).
	RemainingTime time.Duration `json:"-"`
	// RemainingSeconds is remaining_seconds as sent by Pepay (a number or string on the wire).
	RemainingSeconds int64 `json:"remaining_seconds"`
	// MerchantName is the merchant's name as sent by Pepay; "" when absent.
	MerchantName string `json:"merchant_name,omitempty"`
	// NetworkEnvironment is the environment as sent by Pepay ("devnet" or "mainnet").
	NetworkEnvironment string `json:"network_environment,omitempty"`
	// LockedNetwork, LockedTokenID and LockedPaymentAddress are set once the invoice is
	// underpaid: the remainder must be paid with that network and token, to that address.
	LockedNetwork        string `json:"locked_network,omitempty"`
	LockedTokenID        int64  `json:"locked_token_id,omitempty"`        // a Token.ID; 0 when not locked
	LockedPaymentAddress string `json:"locked_payment_address,omitempty"` // "" when not locked
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
func (p *PayorClient) SessionDetails(ctx context.Context, opts ...paykit.CallOption) (*SessionDetails, error) {
	var out SessionDetails
	if err := p.do(ctx, payorRequest(http.MethodGet, "session-details", nil, opts), &out); err != nil {
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
	// Mode is monitored, all or network (mode); empty leaves Pepay's default.
	Mode TokenMode
	// Network is the network to list (e.g. "base"); required with TokenModeNetwork.
	Network string
	// AvailableOnly sends available_only=true.
	AvailableOnly bool
}

// Token is a token the payor can pay with.
type Token struct {
	// ID is the token id to pass to CreatePaymentAddress.
	ID int64 `json:"id"`
	// TokenSymbol is the token's symbol.
	TokenSymbol string `json:"token_symbol"`
	TokenType   string `json:"token_type"` // native, erc20, spl, sui, ton
	// Network is the network the token is on (e.g. "base").
	Network string `json:"network"`
	// TokenDecimals is the token's number of decimals (a number or string on the wire).
	TokenDecimals int `json:"token_decimals"`
	// TokenAddress is the token's address on its network; "" when Pepay sends none.
	TokenAddress       string `json:"token_address,omitempty"`
	AvailabilityStatus string `json:"availability_status,omitempty"` // DEVNET, AVAILABLE, STALE, NO_LIQUIDITY, QUOTE_REQUIRED
	// UnavailableReason is why the token is unavailable, as sent by Pepay; "" when absent.
	UnavailableReason string `json:"unavailable_reason,omitempty"`
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
func (p *PayorClient) AvailableTokens(ctx context.Context, params AvailableTokensParams, opts ...paykit.CallOption) ([]Token, error) {
	q := url.Values{}
	switch params.Mode {
	case "", TokenModeMonitored, TokenModeAll:
	case TokenModeNetwork:
		if params.Network == "" {
			return nil, &paykit.ValidationError{Field: "network", Reason: "required with mode=network"}
		}
	default:
		return nil, &paykit.ValidationError{Field: "mode", Reason: "must be monitored, all or network"}
	}
	setIf(q, "mode", string(params.Mode))
	setIf(q, "network", params.Network)
	if params.AvailableOnly {
		q.Set("available_only", "true")
	}
	var out tokenList
	req := payorRequest(http.MethodGet, "available-tokens", nil, opts)
	req.Query = q
	if err := p.do(ctx, req, &out); err != nil {
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
	// TempAddress is the deposit address the payor sends the token to.
	TempAddress string `json:"temp_address"`
	// Network is the network of the address.
	Network string `json:"network"`
	// SupportedTokenID is the Token.ID the quote is for.
	SupportedTokenID int64 `json:"supported_token_id"`
	// EstimatedTokenAmount is the estimated amount of the token to send, as Pepay's decimal.
	EstimatedTokenAmount paykit.Decimal `json:"estimated_token_amount"`
	// ExchangeRate is the quote's exchange rate, as Pepay's decimal.
	ExchangeRate paykit.Decimal `json:"exchange_rate"`
	// USDAmount is the quoted amount in US dollars (usd_amount).
	USDAmount paykit.Decimal `json:"usd_amount"`
	// QuoteStatus is the quote's status as sent by Pepay.
	QuoteStatus string `json:"quote_status,omitempty"`
	// StatusCode is status_code as sent by Pepay (a string or number on the wire).
	StatusCode string `json:"status_code,omitempty"`
	// QuoteValidUntil is when the quote expires (RFC 3339 or unix seconds on the wire).
	QuoteValidUntil time.Time `json:"quote_valid_until"`
	// QuoteExpiresIn is quote_expires_in_seconds (Pepay documents 300).
	QuoteExpiresIn time.Duration `json:"-"`
	// WSConnection is the payor stream (/ws/payment) for this quote; Token is a credential.
	WSConnection WSConnection `json:"ws_connection"`
}

// WSConnection describes the payor WebSocket returned with a payment address.
type WSConnection struct {
	// Token is the payment session JWT for ?token= on the payor stream; a credential.
	Token    string `json:"token"`
	Endpoint string `json:"endpoint"` // "/ws/payment"
	// Format is the frame format as sent by Pepay (event_v1 is the payor stream's only one).
	Format string `json:"format"`
	// WSURL is the WebSocket URL as sent by Pepay.
	WSURL string `json:"ws_url"`
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
func (p *PayorClient) CreatePaymentAddress(ctx context.Context, network string, tokenID int64, opts ...paykit.CallOption) (*PaymentAddress, error) {
	if strings.TrimSpace(network) == "" {
		return nil, &paykit.ValidationError{Field: "network", Reason: "must not be empty"}
	}
	if tokenID <= 0 {
		return nil, &paykit.ValidationError{Field: "tokenId", Reason: "must be a positive token id"}
	}
	body := struct {
		Network string `json:"network"`
		TokenID int64  `json:"tokenId"`
	}{network, tokenID}
	var out PaymentAddress
	if err := p.do(ctx, payorRequest(http.MethodPost, "payment-addresses", body, opts), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PayorStatus is the answer of PayorClient.PaymentStatus.
type PayorStatus struct {
	// Status is the invoice's status (see the Status constants).
	Status Status `json:"status"`
	// PaidAt is when the invoice was paid; zero while it is not (null).
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
func (p *PayorClient) PaymentStatus(ctx context.Context, opts ...paykit.CallOption) (*PayorStatus, error) {
	var out PayorStatus
	if err := p.do(ctx, payorRequest(http.MethodGet, "payment-status", nil, opts), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetCustomerEmail stores the payor's email on the invoice (body {"email": …}; the field name is
// the SDK's reading of the docs). Storing the same email twice is harmless, so it is retried.
func (p *PayorClient) SetCustomerEmail(ctx context.Context, email string, opts ...paykit.CallOption) error {
	if err := checkText("email", email); err != nil {
		return err
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return &paykit.ValidationError{Field: "email", Reason: "must be a plain email address"}
	}
	body := struct {
		Email string `json:"email"`
	}{email}
	req := payorRequest(http.MethodPost, "customer-email", body, opts)
	req.Idempotent = true
	return p.do(ctx, req, nil)
}

// InvoiceVerification is the answer of PayorClient.VerifyInvoice. Pepay documents the verify
// route but not its response, so the SDK keeps the whole answer in Raw and fills the other
// fields only from the obvious names when they are present.
type InvoiceVerification struct {
	// InvoiceID is invoice_id (or id); "" when the answer has neither.
	InvoiceID string `json:"-"`
	// Status is status (or invoice_status); "" when the answer has neither.
	Status Status `json:"-"`
	// Verified is verified (or valid, is_valid, or a bare true/false answer); nil when the
	// answer says neither.
	Verified *bool `json:"-"`
	// PaidAt is paid_at when present; zero otherwise.
	PaidAt time.Time `json:"-"`
	// Raw is the answer as Pepay sent it (inside its {"success","data"} envelope, if any).
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw answer and picks out the fields it recognizes. It never fails on a
// valid JSON value: an answer of an unexpected shape leaves the typed fields empty.
func (v *InvoiceVerification) UnmarshalJSON(b []byte) error {
	*v = InvoiceVerification{Raw: append(json.RawMessage(nil), b...)}
	switch t := string(bytes.TrimSpace(b)); t {
	case "true", "false":
		ok := t == "true"
		v.Verified = &ok
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || m == nil {
		if !json.Valid(b) {
			return errors.New("invoice verification is not JSON")
		}
		return nil
	}
	for _, k := range [...]string{"invoice_id", "id"} {
		var id jsonx.ID
		if raw, ok := m[k]; ok && json.Unmarshal(raw, &id) == nil && id != "" {
			v.InvoiceID = string(id)
			break
		}
	}
	for _, k := range [...]string{"status", "invoice_status"} {
		var st Status
		if raw, ok := m[k]; ok && json.Unmarshal(raw, &st) == nil && st != "" {
			v.Status = st
			break
		}
	}
	for _, k := range [...]string{"verified", "valid", "is_valid"} {
		var ok jsonx.Bool
		if raw, found := m[k]; found && string(raw) != "null" && json.Unmarshal(raw, &ok) == nil {
			verified := bool(ok)
			v.Verified = &verified
			break
		}
	}
	var paid jsonx.Time
	if raw, ok := m["paid_at"]; ok && json.Unmarshal(raw, &paid) == nil {
		v.PaidAt = paid.Time
	}
	return nil
}

// VerifyInvoice calls Pepay's verification helper for the session's invoice (GET
// /api/v1/invoice/{invoiceId}/verify; invoiceID is CreatedInvoice.InvoiceID or
// SessionDetails.InvoiceID). Pepay also accepts POST on the route, with an undocumented body; the
// SDK uses GET, which is a read and is retried. The response is decoded tolerantly (see
// InvoiceVerification); for decisions use the invoice status.
func (p *PayorClient) VerifyInvoice(ctx context.Context, invoiceID string, opts ...paykit.CallOption) (*InvoiceVerification, error) {
	seg, err := idSegment("invoice_id", invoiceID)
	if err != nil {
		return nil, err
	}
	var out InvoiceVerification
	req := transport.Request{Method: http.MethodGet, Path: "invoice/" + seg + "/verify", Route: "invoice/{id}/verify", Options: opts}
	if err := p.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PayorStreamParams tunes PayorClient.Stream; every field is optional and means what it means in
// StreamParams. The payor stream takes no filters: it carries the events of one payment session.
type PayorStreamParams struct {
	// DedupeWindow is how many recent event ids the stream remembers (default 10 000).
	DedupeWindow int
	// PingInterval (default 25 s) and IdleTimeout (default 60 s): see StreamParams.
	PingInterval time.Duration
	IdleTimeout  time.Duration // see PingInterval
	// MinBackoff and MaxBackoff bound reconnect and handler-retry waits (500 ms, 30 s); the
	// reconnect wait grows until a connection stays up for StableAfter (default one minute).
	MinBackoff, MaxBackoff time.Duration
	StableAfter            time.Duration // see MinBackoff
	// MaxConsecutiveFailures, when positive, ends Stream with a *ReconnectError after that many
	// failed connections in a row (default 0: reconnect until ctx ends).
	MaxConsecutiveFailures int
	// HandlerAttempts is how often the handler runs for one event (default 5).
	HandlerAttempts int
	// OnStatus is told about connections, disconnects and handler retries.
	OnStatus func(StreamStatus)
	// OnReconnect is called after each failed connection Stream will retry, with the failures
	// in a row, the error and the wait before the next attempt.
	OnReconnect func(attempt int, err error, wait time.Duration)
}

// Stream follows one payment session on the payor WebSocket (/ws/payment?token=<payment
// session JWT>&format=event_v1), calling handler for each event (invoice.*, invoice_payment.*,
// payment_quote.updated, …) one at a time. conn is PaymentAddress.WSConnection: its Token
// authenticates (no API key or session header is sent, so it is browser-safe) and its WSURL,
// when present, is where the stream connects; otherwise the client's WebSocket host and
// conn.Endpoint (default PayorStreamPath).
//
// It shares Client.Stream's engine: reconnects with jittered backoff (growing until a connection
// is stable, honouring a refused upgrade's Retry-After), pings and an idle timeout, a terminal
// ws_error or refused upgrade returned as *StreamError, each event id delivered once, handler
// retries and *HandlerError, *ReconnectError with MaxConsecutiveFailures. One difference: Pepay
// documents no since= resume for the payor stream, so a reconnect goes on live and events sent
// while disconnected are not replayed.
// After a StreamConnected report that follows a StreamDisconnected, call PaymentStatus to catch
// up. The token belongs to the quote: when Pepay refuses it (401, TOKEN_EXPIRED), Stream returns
// the *StreamError; CreatePaymentAddress again for a fresh WSConnection.
func (p *PayorClient) Stream(ctx context.Context, conn WSConnection, params PayorStreamParams, handler func(ctx context.Context, e *Event) error) error {
	if handler == nil {
		return errors.New("pepay: nil stream handler")
	}
	if strings.TrimSpace(conn.Token) == "" {
		return &paykit.ValidationError{Field: "ws_connection.token", Reason: "must not be empty"}
	}
	t := streamTuning{
		DedupeWindow: params.DedupeWindow, PingInterval: params.PingInterval, IdleTimeout: params.IdleTimeout,
		MinBackoff: params.MinBackoff, MaxBackoff: params.MaxBackoff, StableAfter: params.StableAfter,
		MaxConsecutiveFailures: params.MaxConsecutiveFailures, HandlerAttempts: params.HandlerAttempts,
		OnStatus: params.OnStatus, OnReconnect: params.OnReconnect,
	}
	if err := t.validate("PayorStreamParams"); err != nil {
		return err
	}
	target, q, err := p.payorStreamURL(conn)
	if err != nil {
		return err
	}
	spec := streamSpec{
		kind:    "payor",
		url:     target,
		query:   q,
		secrets: p.secrets,
		auth:    staticTokenAuth(conn.Token),
	}
	return runStream(ctx, p.ws, spec, t, streamClock{}, "", handler)
}

// payorStreamURL returns the stream URL without its query, and the query ws_url carried.
func (p *PayorClient) payorStreamURL(conn WSConnection) (string, url.Values, error) {
	if conn.WSURL == "" {
		path := conn.Endpoint
		if path == "" {
			path = PayorStreamPath
		}
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
			return "", nil, &paykit.ValidationError{Field: "ws_connection.endpoint", Reason: "must be a path such as /ws/payment"}
		}
		return p.wsBase + path, url.Values{}, nil
	}
	u, err := url.Parse(wsScheme(conn.WSURL))
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" || u.User != nil {
		return "", nil, &paykit.ValidationError{Field: "ws_connection.ws_url", Reason: "must be a ws:// or wss:// URL"}
	}
	q := u.Query()
	q.Del("token")
	q.Del("format")
	u.RawQuery, u.Fragment = "", ""
	return u.String(), q, nil
}
