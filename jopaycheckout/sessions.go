package jopaycheckout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
)

// CreateSessionParams describes a checkout session. Give exactly one of the two documented body
// styles: LineItems, or AmountCents with Currency.
type CreateSessionParams struct {
	// LineItems are the products bought (the body style of the current API page, "line_items").
	// All items must share one currency: a session has a single amount and currency.
	LineItems []LineItem
	// AmountCents is the total in minor units (the other documented body style,
	// "amount_cents"), used with Currency and optionally BillingDetails.
	AmountCents int64
	// Currency is the three-letter ISO code of AmountCents ("eur", "usd", "gbp"); sent lower-case.
	Currency string
	// BillingDetails are optional invoice details (documented with the amount_cents style).
	BillingDetails *BillingDetails

	// SuccessURL is where JoPay sends the buyer after payment, with "?session_id=<id>"
	// appended. Required: an absolute http(s) URL without a fragment (the appended query would
	// land in the fragment and never reach your server).
	SuccessURL string
	// CancelURL is where JoPay sends a buyer who cancels. Required: an absolute http(s) URL.
	CancelURL string
	// CustomerEmail receives the invoice. Optional.
	CustomerEmail string
	// Metadata is returned in webhooks: put your order id here. Optional; keys must not be empty.
	Metadata map[string]string

	// IdempotencyKey is sent only by a client built WithIdempotencyHeader (and generated there
	// when empty). JoPay Checkout documents no idempotency mechanism, so without that option a
	// non-empty key is refused with a paykit.ValidationError instead of being silently dropped.
	IdempotencyKey string
}

// LineItem is one product in a line_items session.
type LineItem struct {
	// Name is shown to the buyer. Required.
	Name string `json:"name"`
	// Amount is the unit price in minor units (cents). Must be positive.
	Amount int64 `json:"amount"`
	// Currency is the three-letter ISO code ("eur"); sent lower-case.
	Currency string `json:"currency"`
	// Quantity is how many units are bought. Must be at least 1.
	Quantity int64 `json:"quantity"`
}

// BillingDetails are the buyer's invoice details.
type BillingDetails struct {
	// Name is the person or company invoiced.
	Name string `json:"name,omitempty"`
	// Address is the billing address as one text.
	Address string `json:"address,omitempty"`
	// TaxID is the buyer's tax or VAT number.
	TaxID string `json:"tax_id,omitempty"`
}

// createSessionBody is the JSON sent to POST /sessions.
type createSessionBody struct {
	LineItems      []LineItem        `json:"line_items,omitempty"`
	AmountCents    int64             `json:"amount_cents,omitempty"`
	Currency       string            `json:"currency,omitempty"`
	BillingDetails *BillingDetails   `json:"billing_details,omitempty"`
	CustomerEmail  string            `json:"customer_email,omitempty"`
	SuccessURL     string            `json:"success_url"`
	CancelURL      string            `json:"cancel_url"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// Total returns the amount the buyer will pay in minor units: AmountCents, or the sum of the
// line items' Amount × Quantity. ok is false when the params are invalid (see Validate).
func (p CreateSessionParams) Total() (total int64, ok bool) {
	if p.Validate() != nil {
		return 0, false
	}
	if len(p.LineItems) == 0 {
		return p.AmountCents, true
	}
	for _, it := range p.LineItems {
		total += it.Amount * it.Quantity // Validate has ruled out overflow
	}
	return total, true
}

// Validate checks the params without sending anything. It returns a *paykit.ValidationError naming the
// first offending field.
func (p CreateSessionParams) Validate() error {
	bad := func(field, reason string) error { return &paykit.ValidationError{Field: field, Reason: reason} }
	switch {
	case len(p.LineItems) > 0 && (p.AmountCents != 0 || p.Currency != "" || p.BillingDetails != nil):
		return bad("line_items", "give either line_items or amount_cents with currency, not both")
	case len(p.LineItems) == 0 && p.AmountCents == 0 && p.Currency == "":
		return bad("line_items", "required: give line_items, or amount_cents with currency")
	}
	if len(p.LineItems) > 0 {
		var total int64
		for i, it := range p.LineItems {
			field := "line_items[" + strconv.Itoa(i) + "]."
			switch {
			case strings.TrimSpace(it.Name) == "":
				return bad(field+"name", "required")
			case it.Amount <= 0:
				return bad(field+"amount", "must be a positive number of cents")
			case it.Quantity < 1:
				return bad(field+"quantity", "must be at least 1")
			}
			if err := checkCurrency(field+"currency", it.Currency); err != nil {
				return err
			}
			if !strings.EqualFold(it.Currency, p.LineItems[0].Currency) {
				return bad(field+"currency", "all line items must share one currency")
			}
			if it.Amount > math.MaxInt64/it.Quantity || it.Amount*it.Quantity > math.MaxInt64-total {
				return bad(field+"amount", "session total overflows")
			}
			total += it.Amount * it.Quantity
		}
	} else {
		if p.AmountCents <= 0 {
			return bad("amount_cents", "must be a positive number of cents")
		}
		if err := checkCurrency("currency", p.Currency); err != nil {
			return err
		}
	}
	if err := checkRedirectURL("success_url", p.SuccessURL, true); err != nil {
		return err
	}
	if err := checkRedirectURL("cancel_url", p.CancelURL, false); err != nil {
		return err
	}
	if p.CustomerEmail != "" {
		a, err := mail.ParseAddress(p.CustomerEmail)
		if err != nil || a.Address != p.CustomerEmail {
			return bad("customer_email", "must be a plain email address (name@example.com)")
		}
	}
	for k := range p.Metadata {
		if k == "" {
			return bad("metadata", "keys must not be empty")
		}
	}
	return nil
}

func checkCurrency(field, c string) error {
	if c == "" {
		return &paykit.ValidationError{Field: field, Reason: "required"}
	}
	if len(c) != 3 || !isLetters(c) {
		return &paykit.ValidationError{Field: field, Reason: "must be a three-letter ISO 4217 code such as eur"}
	}
	return nil
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// checkRedirectURL requires an absolute http(s) URL with a host. The success URL must not carry
// a fragment: JoPay appends "?session_id=…", which would then never reach the server.
func checkRedirectURL(field, raw string, success bool) error {
	if raw == "" {
		return &paykit.ValidationError{Field: field, Reason: "required"}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &paykit.ValidationError{Field: field, Reason: "must be an absolute http or https URL"}
	}
	if success && (u.Fragment != "" || strings.HasSuffix(raw, "#")) {
		return &paykit.ValidationError{Field: field, Reason: "must not have a fragment: the appended ?session_id would end up in it"}
	}
	return nil
}

func (p CreateSessionParams) body() createSessionBody {
	b := createSessionBody{
		AmountCents:    p.AmountCents,
		Currency:       strings.ToLower(p.Currency),
		BillingDetails: p.BillingDetails,
		CustomerEmail:  p.CustomerEmail,
		SuccessURL:     p.SuccessURL,
		CancelURL:      p.CancelURL,
		Metadata:       p.Metadata,
	}
	if len(p.LineItems) > 0 {
		b.LineItems = make([]LineItem, len(p.LineItems))
		for i, it := range p.LineItems {
			it.Currency = strings.ToLower(it.Currency)
			b.LineItems[i] = it
		}
	}
	return b
}

// CreateSession creates a checkout session; redirect the buyer to the returned Session.URL.
//
// Invalid params fail with a *paykit.ValidationError before anything is sent. The create is not
// retried once it may have reached JoPay (there is no documented idempotency mechanism): such a
// failure wraps paykit.ErrUnknownOutcome. A session may then exist, but nobody has its URL, so
// nobody can pay it and it expires unpaid after an hour; calling CreateSession again for the
// same order is safe. See the package documentation, and WithIdempotencyHeader.
//
// paykit.WithIdempotencyKey is accepted only on a client built WithIdempotencyHeader, which
// sends the key in that header; it wins over p.IdempotencyKey and must have the same format
// (32–64 characters of [A-Za-z0-9_-]). On any other client it is refused with a
// *paykit.ValidationError, as a non-empty p.IdempotencyKey is. paykit.ResponseInfo's
// IdempotencyKey reports the key sent.
//
// A 2xx answer without a session URL returns the decoded session together with an error
// wrapping paykit.ErrInvalidResponse, so the id is not lost.
func (c *Client) CreateSession(ctx context.Context, p CreateSessionParams, opts ...paykit.CallOption) (*Session, error) {
	cc, err := paykit.ResolveCallOptions(opts...)
	if err != nil {
		return nil, err
	}
	if cc.IdempotencyKey != "" {
		if err := c.checkCallKey(cc.IdempotencyKey); err != nil {
			return nil, err
		}
		p.IdempotencyKey = cc.IdempotencyKey
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	key := p.IdempotencyKey
	switch {
	case c.idemHeader == "" && key != "":
		return nil, &paykit.ValidationError{Field: "idempotency_key",
			Reason: "JoPay Checkout documents no idempotency mechanism; build the client WithIdempotencyHeader once JoPay confirms one"}
	case c.idemHeader != "" && key == "":
		key = idempotency.New()
	case c.idemHeader != "":
		if err := idempotency.Validate(key); err != nil {
			return nil, &paykit.ValidationError{Field: "idempotency_key", Reason: "must be 32–64 characters of [A-Za-z0-9_-]", Err: err}
		}
	}
	var s Session
	err = c.t.Do(ctx, transport.Request{
		Method:            http.MethodPost,
		Path:              "sessions",
		Route:             "sessions",
		Body:              p.body(),
		IdempotencyKey:    key,
		IdempotencyHeader: c.idemHeader,
		Options:           opts,
	}, &s)
	if err != nil {
		return nil, err
	}
	if s.ID == "" {
		return nil, fmt.Errorf("jopaycheckout: POST /sessions: %w: no session id in the response", paykit.ErrInvalidResponse)
	}
	if s.URL == "" {
		return &s, fmt.Errorf("jopaycheckout: POST /sessions: %w: session %s has no url or checkout_url", paykit.ErrInvalidResponse, s.ID)
	}
	return &s, nil
}

// GetSession retrieves a session, typically on the success page with the id from
// SessionIDFromRedirect. It is retried on connection errors, 429 and 5xx. An unknown id is a
// *paykit.Error with Status 404. It takes no idempotency key.
func (c *Client) GetSession(ctx context.Context, id string, opts ...paykit.CallOption) (*Session, error) {
	if reason := sessionIDProblem(id); reason != "" {
		return nil, &paykit.ValidationError{Field: "id", Reason: reason, Err: ErrInvalidSessionID}
	}
	seg, err := transport.PathSegment("id", id)
	if err != nil {
		return nil, err
	}
	var s Session
	if err := c.t.Do(ctx, transport.Request{Method: http.MethodGet, Path: "sessions/" + seg, Route: "sessions/{id}", Options: opts}, &s); err != nil {
		return nil, err
	}
	if s.ID == "" {
		return nil, fmt.Errorf("jopaycheckout: GET /sessions/{id}: %w: no session id in the response", paykit.ErrInvalidResponse)
	}
	return &s, nil
}

// maxSessionIDLen bounds a session id; real ones are "cs_" and a few dozen characters.
const maxSessionIDLen = 255

// ValidateSessionID reports whether id looks like a session id: 1–255 characters of
// [A-Za-z0-9_-]. Ids from redirects are buyer-controlled; this keeps them from smuggling path
// segments or query strings into API calls. It returns a *paykit.ValidationError for field
// "session_id" that wraps ErrInvalidSessionID.
func ValidateSessionID(id string) error {
	if reason := sessionIDProblem(id); reason != "" {
		return &paykit.ValidationError{Field: "session_id", Reason: reason, Err: ErrInvalidSessionID}
	}
	return nil
}

func sessionIDProblem(id string) string {
	if id == "" {
		return "required"
	}
	if len(id) > maxSessionIDLen {
		return "longer than " + strconv.Itoa(maxSessionIDLen) + " characters"
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return "only letters, digits, '_' and '-' are allowed"
		}
	}
	return ""
}

// SessionStatus is a session's state. Unknown values pass through unchanged.
type SessionStatus string

// Session statuses. Version B of the API page calls an unpaid session "pending"; it is decoded
// as StatusOpen (Session.RawStatus keeps "pending").
const (
	// StatusOpen: awaiting payment.
	StatusOpen SessionStatus = "open"
	// StatusCompleted: paid. Fulfil the order.
	StatusCompleted SessionStatus = "completed"
	// StatusExpired: not paid within the session lifetime (one hour).
	StatusExpired SessionStatus = "expired"
)

// IsPaid reports whether the status is completed: the session was paid.
func (s SessionStatus) IsPaid() bool { return s == StatusCompleted }

// IsTerminal reports whether the session can no longer change: completed or expired.
func (s SessionStatus) IsTerminal() bool { return s == StatusCompleted || s == StatusExpired }

// normalizeStatus maps the documented spellings onto the SessionStatus constants.
func normalizeStatus(raw string) SessionStatus {
	switch s := strings.ToLower(strings.TrimSpace(raw)); s {
	case "pending", "open":
		return StatusOpen
	case "completed", "expired":
		return SessionStatus(s)
	}
	return SessionStatus(raw)
}

// Session is a checkout session as returned by CreateSession and GetSession and carried in
// webhook events. It decodes both published versions of the API.
type Session struct {
	// ID is the session id ("cs_…").
	ID string
	// URL is the hosted checkout page to redirect the buyer to ("url" or "checkout_url").
	URL string
	// Status is the normalized status ("pending" becomes StatusOpen).
	Status SessionStatus
	// RawStatus is the status exactly as JoPay sent it.
	RawStatus string
	// AmountCents is the total in minor units.
	AmountCents int64
	// Currency is the lower-case ISO currency code as sent ("eur").
	Currency string
	// CustomerEmail is the buyer's email, when known.
	CustomerEmail string
	// Metadata is the metadata given at creation. Non-string values are kept as their JSON text.
	Metadata map[string]string
	// ExpiresAt is when an unpaid session expires (one hour after creation).
	ExpiresAt time.Time
	// CreatedAt is when the session was created, when sent.
	CreatedAt time.Time
	// CompletedAt is when the session was paid, when sent.
	CompletedAt time.Time
}

// IsPaid reports whether the session was paid (status completed). Fulfil only on this (or on a
// checkout.session.completed event), never on the success redirect alone.
func (s *Session) IsPaid() bool { return s != nil && s.Status.IsPaid() }

// IsTerminal reports whether the session can no longer change: completed or expired.
func (s *Session) IsTerminal() bool { return s != nil && s.Status.IsTerminal() }

// OrderID returns metadata.order_id (MetadataOrderID), or "".
func (s *Session) OrderID() string { return s.Metadata[MetadataOrderID] }

// sessionJSON is the wire form: both versions' field names, tolerant primitive types.
type sessionJSON struct {
	ID            jsonx.ID    `json:"id"`
	URL           string      `json:"url,omitempty"`
	CheckoutURL   string      `json:"checkout_url,omitempty"`
	Status        string      `json:"status,omitempty"`
	AmountCents   jsonx.Int64 `json:"amount_cents"`
	Currency      string      `json:"currency,omitempty"`
	CustomerEmail string      `json:"customer_email,omitempty"`
	Metadata      metadata    `json:"metadata,omitempty"`
	ExpiresAt     *jsonx.Time `json:"expires_at,omitempty"`
	CreatedAt     *jsonx.Time `json:"created_at,omitempty"`
	CompletedAt   *jsonx.Time `json:"completed_at,omitempty"`
}

// UnmarshalJSON decodes a session in either published shape: url or checkout_url, status
// open/pending/completed/expired (others pass through), ids and amounts as strings or numbers,
// times as RFC 3339 or unix seconds/milliseconds.
func (s *Session) UnmarshalJSON(b []byte) error {
	var w sessionJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = Session{
		ID:            string(w.ID),
		URL:           w.URL,
		Status:        normalizeStatus(w.Status),
		RawStatus:     w.Status,
		AmountCents:   int64(w.AmountCents),
		Currency:      w.Currency,
		CustomerEmail: w.CustomerEmail,
		Metadata:      map[string]string(w.Metadata),
		ExpiresAt:     timeOf(w.ExpiresAt),
		CreatedAt:     timeOf(w.CreatedAt),
		CompletedAt:   timeOf(w.CompletedAt),
	}
	if s.URL == "" {
		s.URL = w.CheckoutURL
	}
	return nil
}

// MarshalJSON writes the session in the API's field names (url, status as received), so a
// stored session decodes back to the same value.
func (s Session) MarshalJSON() ([]byte, error) {
	status := s.RawStatus
	if status == "" {
		status = string(s.Status)
	}
	return json.Marshal(sessionJSON{
		ID:            jsonx.ID(s.ID),
		URL:           s.URL,
		Status:        status,
		AmountCents:   jsonx.Int64(s.AmountCents),
		Currency:      s.Currency,
		CustomerEmail: s.CustomerEmail,
		Metadata:      metadata(s.Metadata),
		ExpiresAt:     timePtr(s.ExpiresAt),
		CreatedAt:     timePtr(s.CreatedAt),
		CompletedAt:   timePtr(s.CompletedAt),
	})
}

func timeOf(t *jsonx.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

func timePtr(t time.Time) *jsonx.Time {
	if t.IsZero() {
		return nil
	}
	return &jsonx.Time{Time: t}
}

// metadata decodes a JSON object whose values JoPay documents as strings but that a merchant
// may have sent as numbers or booleans: non-string values keep their JSON text, null becomes "".
type metadata map[string]string

func (m *metadata) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*m = nil
		return nil
	}
	out := make(metadata, len(raw))
	for k, v := range raw {
		var s string
		switch {
		case string(v) == "null":
		case len(v) > 0 && v[0] == '"':
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
		default:
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return err
			}
			s = buf.String()
		}
		out[k] = s
	}
	*m = out
	return nil
}
