package jopaycheckouttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/webhook"
)

// Errors of the lifecycle helpers.
var (
	// ErrNotFound means no session has the id.
	ErrNotFound = errors.New("jopaycheckouttest: no such session")
	// ErrInvalidState means the transition is not allowed: the session is already completed or
	// expired.
	ErrInvalidState = errors.New("jopaycheckouttest: transition not allowed")
)

// SetWebhook registers the endpoint that receives webhooks and the secret they are signed
// with ("" url: deliver nothing). It plays the part of Admin → Settings → Checkout Webhook.
func (s *Server) SetWebhook(url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookURL, s.hookSecret = url, secret
}

// Pay plays the buyer paying an open session in full: the session is completed and
// checkout.session.completed delivered. It returns once the delivery finished, with its record
// (nil when no webhook is registered).
func (s *Server) Pay(ctx context.Context, id string) (*Delivery, error) {
	return s.transition(ctx, id, jopaycheckout.EventSessionCompleted)
}

// Fail records a failed payment attempt on an open session and delivers checkout.payment.failed.
// The session stays open: the buyer may try again.
func (s *Server) Fail(ctx context.Context, id string) (*Delivery, error) {
	return s.transition(ctx, id, jopaycheckout.EventPaymentFailed)
}

// Expire expires an open session now, before its hour is up, and delivers
// checkout.session.expired.
func (s *Server) Expire(ctx context.Context, id string) (*Delivery, error) {
	return s.transition(ctx, id, jopaycheckout.EventSessionExpired)
}

// ExpireDue expires every open session whose hour has passed on the server's clock and delivers
// checkout.session.expired for each (also for sessions already seen as expired by a GET but not
// yet announced). It returns the deliveries made.
func (s *Server) ExpireDue(ctx context.Context) []*Delivery {
	s.mu.Lock()
	var due []*session
	var bodies [][]byte
	for _, id := range s.order {
		sess := s.sessions[id]
		s.expireIfDue(sess)
		if sess.status == "expired" && !sess.expiredNotified {
			sess.expiredNotified = true
			due = append(due, sess)
			bodies = append(bodies, s.eventBody(sess, jopaycheckout.EventSessionExpired))
		}
	}
	s.mu.Unlock()
	var out []*Delivery
	for i, b := range bodies {
		if d := s.deliver(ctx, jopaycheckout.EventSessionExpired, due[i].id, b); d != nil {
			out = append(out, d)
		}
	}
	return out
}

func (s *Server) transition(ctx context.Context, id string, typ jopaycheckout.EventType) (*Delivery, error) {
	s.mu.Lock()
	sess, ok := s.sessions[id]
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	s.expireIfDue(sess)
	if sess.status != "open" {
		status := sess.status
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s is %s", ErrInvalidState, id, status)
	}
	now := s.cfg.now().UTC().Truncate(time.Second)
	switch typ {
	case jopaycheckout.EventSessionCompleted:
		sess.status, sess.completedAt = "completed", now
	case jopaycheckout.EventSessionExpired:
		sess.status, sess.expiredNotified = "expired", true
		if now.Before(sess.expiresAt) {
			sess.expiresAt = now
		}
	case jopaycheckout.EventPaymentFailed:
		sess.failedAttempts++
	}
	body := s.eventBody(sess, typ)
	s.mu.Unlock()
	return s.deliver(ctx, typ, id, body), nil
}

// eventJSON is the webhook envelope; data follows the documented payload (no URL).
type eventJSON struct {
	Event     string    `json:"event"`
	Data      eventData `json:"data"`
	CreatedAt string    `json:"created_at"`
}

type eventData struct {
	ID            string            `json:"id"`
	Status        string            `json:"status"`
	AmountCents   int64             `json:"amount_cents"`
	Currency      string            `json:"currency"`
	CustomerEmail string            `json:"customer_email,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	CompletedAt   string            `json:"completed_at,omitempty"`
	// FailedAttempts makes each checkout.payment.failed payload distinct, as a real attempt id
	// or time would. Not documented.
	FailedAttempts int `json:"failed_attempts,omitempty"`
}

// eventBody renders the webhook payload for sess; s.mu must be held.
func (s *Server) eventBody(sess *session, typ jopaycheckout.EventType) []byte {
	r := s.render(sess)
	ev := eventJSON{
		Event: string(typ),
		Data: eventData{
			ID: sess.id, Status: r.Status, AmountCents: sess.amountCents, Currency: sess.currency,
			CustomerEmail: sess.email, Metadata: sess.metadata, CompletedAt: r.CompletedAt,
		},
		CreatedAt: s.cfg.now().UTC().Format(time.RFC3339),
	}
	if typ == jopaycheckout.EventPaymentFailed {
		ev.Data.FailedAttempts = sess.failedAttempts
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic("jopaycheckouttest: encoding an event: " + err.Error()) // plain structs cannot fail
	}
	return b
}

// deliver posts body to the registered webhook, signed afresh on every attempt, and records
// the Delivery. It returns nil when no webhook is registered.
func (s *Server) deliver(ctx context.Context, typ jopaycheckout.EventType, sessionID string, body []byte) *Delivery {
	s.mu.Lock()
	url, secret := s.hookURL, s.hookSecret
	s.mu.Unlock()
	if url == "" {
		return nil
	}
	sign := func(b []byte, now time.Time) http.Header {
		h := http.Header{}
		if secret != "" {
			h.Set(jopaycheckout.SignatureHeader, webhook.SignTimestamp(secret, now, b))
		}
		return h
	}
	fd := s.cfg.deliverer.Deliver(ctx, url, body, sign)
	attempts := make([]Attempt, len(fd.Attempts))
	for i, a := range fd.Attempts {
		attempts[i] = Attempt(a)
	}
	d := &Delivery{
		Event: typ, SessionID: sessionID,
		URL: fd.URL, Body: fd.Body, Header: fd.Header, Attempts: attempts,
		Delivered: fd.Delivered, Abandoned: fd.Abandoned,
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	return d
}

// Deliveries returns every webhook delivery made so far, oldest first.
func (s *Server) Deliveries() []*Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Delivery(nil), s.deliveries...)
}

// Redeliver sends the latest delivered body of event for the session again, signed with the
// current time, as JoPay does when it redelivers: the receiver must not act on it twice. It
// records a new Delivery (nil when no webhook is registered) and fails with ErrNotFound when
// that event was never sent.
func (s *Server) Redeliver(ctx context.Context, sessionID string, event jopaycheckout.EventType) (*Delivery, error) {
	s.mu.Lock()
	var body []byte
	for i := len(s.deliveries) - 1; i >= 0; i-- {
		if d := s.deliveries[i]; d.SessionID == sessionID && d.Event == event {
			body = d.Body
			break
		}
	}
	s.mu.Unlock()
	if body == nil {
		return nil, fmt.Errorf("%w: no %s event was sent for %s", ErrNotFound, event, sessionID)
	}
	return s.deliver(ctx, event, sessionID, body), nil
}
