package jopaycheckout

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/paykit-go/paykit/internal/jsonx"
)

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
func (s *Session) IsPaid() bool { return s != nil && s.Status == StatusCompleted }

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
