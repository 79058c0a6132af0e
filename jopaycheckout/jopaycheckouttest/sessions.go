package jopaycheckouttest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// session is the server's state for one checkout session.
type session struct {
	id              string
	lineItems       []lineItemIn
	amountCents     int64
	currency        string
	billing         json.RawMessage
	successURL      string
	cancelURL       string
	email           string
	metadata        map[string]string
	status          string // open, completed, expired
	createdAt       time.Time
	expiresAt       time.Time
	completedAt     time.Time
	expiredNotified bool
	failedAttempts  int
}

// Session is a snapshot of a session's server-side state, for assertions.
type Session struct {
	// ID is the session id, e.g. "cs_fake_000001".
	ID string
	// Status is "open", "completed" or "expired": the state, whatever words the Version answers
	// with.
	Status string
	// AmountCents is the total in minor units (the line items' sum, or amount_cents).
	AmountCents int64
	// Currency is the lower-case currency code.
	Currency string
	// LineItems is the number of line items; 0 for the amount_cents style.
	LineItems int
	// CustomerEmail is the customer_email sent at creation ("" when none).
	CustomerEmail string
	// Metadata is the metadata sent at creation.
	Metadata map[string]string
	// SuccessURL is where the hosted page sends the buyer after paying.
	SuccessURL string
	// CancelURL is where the hosted page sends the buyer who cancels.
	CancelURL string
	// CreatedAt is when the session was created, on the server's clock.
	CreatedAt time.Time
	// ExpiresAt is when the session expires (or expired, when Expire cut it short).
	ExpiresAt time.Time
	// CompletedAt is when the session was paid (zero while unpaid).
	CompletedAt time.Time
	// FailedAttempts counts the failed payment attempts (Fail, or ?action=fail on the hosted
	// page).
	FailedAttempts int
}

type lineItemIn struct {
	Name     string      `json:"name"`
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
	Quantity json.Number `json:"quantity"`
}

type createIn struct {
	LineItems      []lineItemIn      `json:"line_items"`
	AmountCents    *json.Number      `json:"amount_cents"`
	Currency       string            `json:"currency"`
	BillingDetails json.RawMessage   `json:"billing_details"`
	SuccessURL     string            `json:"success_url"`
	CancelURL      string            `json:"cancel_url"`
	CustomerEmail  string            `json:"customer_email"`
	Metadata       map[string]string `json:"metadata"`
}

// sessionOut is a session as the API answers it; which URL field and which word for "open"
// depend on the Version.
type sessionOut struct {
	ID            string            `json:"id"`
	URL           string            `json:"url,omitempty"`
	CheckoutURL   string            `json:"checkout_url,omitempty"`
	Status        string            `json:"status"`
	AmountCents   int64             `json:"amount_cents"`
	Currency      string            `json:"currency"`
	CustomerEmail string            `json:"customer_email,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	ExpiresAt     string            `json:"expires_at"`
	CreatedAt     string            `json:"created_at"`
	CompletedAt   string            `json:"completed_at,omitempty"`
}

type idemEntry struct {
	bodyHash  [32]byte
	sessionID string
}

const maxBody = 1 << 20

// serveAPI routes POST /sessions and GET /sessions/{id} behind Bearer auth.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "unauthorized", "Invalid or missing API key")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, APIPath)
	switch {
	case rest == "/sessions":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Use POST to create a session")
			return
		}
		s.createSession(w, r)
	case strings.HasPrefix(rest, "/sessions/") && !strings.Contains(rest[len("/sessions/"):], "/"):
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Use GET to retrieve a session")
			return
		}
		s.getSession(w, rest[len("/sessions/"):])
	default:
		writeError(w, http.StatusNotFound, "not_found", "No such endpoint")
	}
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	key, ok := strings.CutPrefix(h, "Bearer ")
	return ok && s.cfg.keys[key]
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(raw) > maxBody {
		writeError(w, http.StatusBadRequest, "invalid_json", "Body unreadable or larger than 1 MiB")
		return
	}
	var in createIn
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "Body must be a JSON object")
		return
	}
	sess, code, msg := s.validate(&in)
	if code != "" {
		writeError(w, http.StatusBadRequest, code, msg)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	key := ""
	if s.cfg.idemHeader != "" {
		key = r.Header.Get(s.cfg.idemHeader)
	}
	hash := sha256.Sum256(raw)
	if key != "" {
		if prev, ok := s.idem[key]; ok {
			if prev.bodyHash != hash {
				writeError(w, http.StatusConflict, "idempotency_conflict", "Idempotency key reused with a different body")
				return
			}
			w.Header().Set("Idempotent-Replayed", "true")
			writeJSON(w, http.StatusOK, s.render(s.sessions[prev.sessionID]))
			return
		}
	}
	s.seq++
	now := s.cfg.now().UTC().Truncate(time.Second)
	sess.id = fmt.Sprintf("cs_fake_%06d", s.seq)
	sess.status = "open"
	sess.createdAt = now
	sess.expiresAt = now.Add(SessionTTL)
	s.sessions[sess.id] = sess
	s.order = append(s.order, sess.id)
	if key != "" {
		s.idem[key] = idemEntry{bodyHash: hash, sessionID: sess.id}
	}
	writeJSON(w, http.StatusOK, s.render(sess))
}

// validate applies the documented rules. JoPay documents the error envelope but not every code:
// the codes are the fake's own names; currencies are accepted in any case and stored lower-case.
func (s *Server) validate(in *createIn) (*session, string, string) {
	hasItems, hasAmount := len(in.LineItems) > 0, in.AmountCents != nil || in.Currency != ""
	sess := &session{email: in.CustomerEmail, metadata: in.Metadata, billing: in.BillingDetails}
	switch {
	case hasItems && hasAmount:
		return nil, "conflicting_amount", "Send line_items or amount_cents with currency, not both"
	case !hasItems && !hasAmount:
		return nil, "missing_amount", "line_items or amount_cents is required"
	case hasItems:
		var total int64
		for i, it := range in.LineItems {
			amount, err1 := it.Amount.Int64()
			qty, err2 := it.Quantity.Int64()
			switch {
			case strings.TrimSpace(it.Name) == "":
				return nil, "missing_name", fmt.Sprintf("line_items[%d].name is required", i)
			case err1 != nil || amount <= 0:
				return nil, "invalid_amount", fmt.Sprintf("line_items[%d].amount must be a positive integer of cents", i)
			case err2 != nil || qty < 1:
				return nil, "invalid_quantity", fmt.Sprintf("line_items[%d].quantity must be a positive integer", i)
			case !isCurrency(it.Currency):
				return nil, "invalid_currency", fmt.Sprintf("line_items[%d].currency must be a three-letter ISO code", i)
			case !strings.EqualFold(it.Currency, in.LineItems[0].Currency):
				return nil, "currency_mismatch", "All line items must use the same currency"
			case amount > (1<<62)/qty || total+amount*qty > 1<<62:
				return nil, "invalid_amount", "Total is too large"
			}
			total += amount * qty
		}
		sess.lineItems, sess.amountCents, sess.currency = in.LineItems, total, strings.ToLower(in.LineItems[0].Currency)
	default:
		var amount int64
		var err error
		if in.AmountCents != nil {
			amount, err = in.AmountCents.Int64()
		}
		switch {
		case in.AmountCents == nil || err != nil || amount <= 0:
			return nil, "invalid_amount", "amount_cents must be a positive integer"
		case !isCurrency(in.Currency):
			return nil, "invalid_currency", "currency must be a three-letter ISO code such as eur"
		}
		sess.amountCents, sess.currency = amount, strings.ToLower(in.Currency)
	}
	if code, msg := checkURL("success_url", in.SuccessURL); code != "" {
		return nil, code, msg
	}
	if code, msg := checkURL("cancel_url", in.CancelURL); code != "" {
		return nil, code, msg
	}
	if in.CustomerEmail != "" {
		if a, err := mail.ParseAddress(in.CustomerEmail); err != nil || a.Address != in.CustomerEmail {
			return nil, "invalid_email", "customer_email is not an email address"
		}
	}
	sess.successURL, sess.cancelURL = in.SuccessURL, in.CancelURL
	return sess, "", ""
}

func isCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if l := c[i] | 0x20; l < 'a' || l > 'z' {
			return false
		}
	}
	return true
}

func checkURL(field, raw string) (string, string) {
	if raw == "" {
		return "missing_" + field, field + " is required"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "invalid_" + field, field + " must be an absolute http(s) URL"
	}
	return "", ""
}

func (s *Server) getSession(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		writeError(w, http.StatusNotFound, "session_not_found", "No such checkout session")
		return
	}
	writeJSON(w, http.StatusOK, s.render(sess))
}

// render is the API view of sess; s.mu must be held. It applies lazy expiry first.
func (s *Server) render(sess *session) sessionOut {
	s.expireIfDue(sess)
	out := sessionOut{
		ID:            sess.id,
		Status:        sess.status,
		AmountCents:   sess.amountCents,
		Currency:      sess.currency,
		CustomerEmail: sess.email,
		Metadata:      sess.metadata,
		ExpiresAt:     sess.expiresAt.Format(time.RFC3339),
		CreatedAt:     sess.createdAt.Format(time.RFC3339),
	}
	if !sess.completedAt.IsZero() {
		out.CompletedAt = sess.completedAt.Format(time.RFC3339)
	}
	page := s.URL + "/checkout/" + sess.id
	if s.version == VersionA {
		out.URL = page
	} else {
		out.CheckoutURL = page
		if out.Status == "open" {
			out.Status = "pending"
		}
	}
	return out
}

// expireIfDue marks an open session past its expiry as expired; s.mu must be held.
func (s *Server) expireIfDue(sess *session) {
	if sess.status == "open" && !s.cfg.now().Before(sess.expiresAt) {
		sess.status = "expired"
	}
}

// Sessions returns snapshots of every session, in creation order.
func (s *Server) Sessions() []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Session, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.snapshot(s.sessions[id]))
	}
	return out
}

// Session returns a snapshot of one session.
func (s *Server) Session(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return Session{}, false
	}
	return s.snapshot(sess), true
}

func (s *Server) snapshot(sess *session) Session {
	s.expireIfDue(sess)
	md := make(map[string]string, len(sess.metadata))
	for k, v := range sess.metadata {
		md[k] = v
	}
	return Session{
		ID: sess.id, Status: sess.status, AmountCents: sess.amountCents, Currency: sess.currency,
		LineItems: len(sess.lineItems), CustomerEmail: sess.email, Metadata: md,
		SuccessURL: sess.successURL, CancelURL: sess.cancelURL,
		CreatedAt: sess.createdAt, ExpiresAt: sess.expiresAt, CompletedAt: sess.completedAt,
		FailedAttempts: sess.failedAttempts,
	}
}
