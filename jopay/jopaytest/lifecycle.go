package jopaytest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/paykit-go/paykit/internal/fakeserver"
	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/webhook"
)

// Errors of the lifecycle helpers.
var (
	// ErrNotFound means no request (in either mode) has the id.
	ErrNotFound = errors.New("jopaytest: no such request")
	// ErrInvalidState means the transition is not allowed from the request's current state.
	ErrInvalidState = errors.New("jopaytest: transition not allowed")
)

// Attempt is one attempt of a webhook Delivery.
type Attempt struct {
	// At is when the attempt was made, on the server's clock; its signature is made for it.
	At time.Time
	// Status is the HTTP status the receiver answered, or 0 when no answer arrived.
	Status int
	// Err is the transport error when no answer arrived, nil otherwise.
	Err error
}

// Delivery records one webhook event sent to the registered URL, with every attempt. JoPay
// retries 5xx, 429 and transport errors, and abandons other 4xx answers.
type Delivery struct {
	// Event is the event type, e.g. jopay.EventProofVerified.
	Event jopay.EventType
	// RequestID is the payment request the event is about (the payload's request_id).
	RequestID string
	// DeliveryID is the payload's delivery_id, new for every delivery.
	DeliveryID string
	// URL is where the webhook was posted.
	URL string
	// Body is the payload, identical in every attempt.
	Body []byte
	// Header holds the headers of the last attempt, X-JoPay-Signature included.
	Header http.Header
	// Attempts lists every attempt, oldest first.
	Attempts []Attempt
	// Delivered is true when an attempt was answered 2xx.
	Delivered bool
	// Abandoned is true when the receiver answered a 4xx other than 429, which JoPay does not
	// retry.
	Abandoned bool
}

// newDelivery converts the shared delivery record.
func newDelivery(event jopay.EventType, requestID, deliveryID string, d fakeserver.Delivery) *Delivery {
	attempts := make([]Attempt, len(d.Attempts))
	for i, a := range d.Attempts {
		attempts[i] = Attempt(a)
	}
	return &Delivery{Event: event, RequestID: requestID, DeliveryID: deliveryID, URL: d.URL, Body: d.Body,
		Header: d.Header, Attempts: attempts, Delivered: d.Delivered, Abandoned: d.Abandoned}
}

// SetWebhook registers the partner's webhook URL and signing secret (use WebhookSecret or your
// own). Lifecycle helpers deliver to it; with no URL set they only change state.
func (s *Server) SetWebhook(url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL, s.secret = url, secret
}

// Deliveries returns every webhook delivery so far, oldest first.
func (s *Server) Deliveries() []*Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// PaymentRequest returns a snapshot of the stored payment request (either mode), with lazy
// expiry applied, and whether it exists.
func (s *Server) PaymentRequest(id string) (*jopay.PaymentRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.find(id)
	if r == nil {
		return nil, false
	}
	r.refresh(s.now())
	return r.snapshot(), true
}

// PaymentRequests returns snapshots of every stored payment request of both modes, oldest
// first per mode (sandbox first).
func (s *Server) PaymentRequests() []*jopay.PaymentRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*jopay.PaymentRequest
	now := s.now()
	for _, m := range []jopay.Mode{jopay.ModeTest, jopay.ModeLive} {
		for _, r := range s.spaces[m].rows {
			r.refresh(now)
			out = append(out, r.snapshot())
		}
	}
	return out
}

func (s *Server) find(id string) *request {
	for _, m := range []jopay.Mode{jopay.ModeTest, jopay.ModeLive} {
		if r, ok := s.spaces[m].byID[id]; ok {
			return r
		}
	}
	return nil
}

// Open marks the request opened, as when the customer loads the pay page.
func (s *Server) Open(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.find(id)
	if r == nil {
		return ErrNotFound
	}
	r.refresh(s.now())
	if !r.Status.IsOpen() {
		return fmt.Errorf("%w: request is %s", ErrInvalidState, r.Status)
	}
	r.Status = jopay.StatusOpened
	return nil
}

// Expire makes an unpaid open request expire now (as if its expires_at passed). JoPay has no
// expiry event, so no webhook is sent and the Delivery is always nil; the signature is the one
// Expire has in every paykit fake server.
func (s *Server) Expire(ctx context.Context, id string) (*Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.find(id)
	if r == nil {
		return nil, ErrNotFound
	}
	r.refresh(s.now())
	if !r.Status.IsOpen() || r.ProofStatus != jopay.ProofStatusNone {
		return nil, fmt.Errorf("%w: cannot expire a request that is %s with proof %s", ErrInvalidState, r.Status, r.ProofStatus)
	}
	r.Status = jopay.StatusExpired
	r.ExpiresAt = msTime(s.now())
	return nil, nil
}

// AttachProof records a submitted transaction (proof_status attached) and delivers
// payment.proof_attached. The returned Delivery is nil when no webhook is registered.
func (s *Server) AttachProof(ctx context.Context, id, txHash string) (*Delivery, error) {
	s.mu.Lock()
	r := s.find(id)
	if r == nil {
		s.mu.Unlock()
		return nil, ErrNotFound
	}
	r.refresh(s.now())
	if !r.Status.IsOpen() || r.ProofStatus != jopay.ProofStatusNone && r.ProofStatus != jopay.ProofStatusMismatch {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: cannot attach a proof to a request that is %s with proof %s", ErrInvalidState, r.Status, r.ProofStatus)
	}
	if txHash == "" {
		txHash = fakeHash("tx:" + id)
	}
	r.ProofStatus, r.ProofSource, r.TxHash = jopay.ProofStatusAttached, "customer", txHash
	r.PayerAddress = "0x" + fakeHash("payer:" + id)[2:42]
	body, url, secret := s.eventLocked(r, jopay.EventProofAttached)
	s.mu.Unlock()
	return s.deliver(ctx, jopay.EventProofAttached, r.ID, body, url, secret), nil
}

// VerifyProof marks the attached proof verified on-chain (the request is paid) and delivers
// payment.proof_verified.
func (s *Server) VerifyProof(ctx context.Context, id string) (*Delivery, error) {
	s.mu.Lock()
	r := s.find(id)
	if r == nil {
		s.mu.Unlock()
		return nil, ErrNotFound
	}
	if r.ProofStatus != jopay.ProofStatusAttached {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: proof is %s, not attached", ErrInvalidState, r.ProofStatus)
	}
	r.ProofStatus, r.ProofSource = jopay.ProofStatusVerified, "trails_on_chain"
	body, url, secret := s.eventLocked(r, jopay.EventProofVerified)
	s.mu.Unlock()
	return s.deliver(ctx, jopay.EventProofVerified, r.ID, body, url, secret), nil
}

// Pay is AttachProof with a generated transaction hash followed by VerifyProof: the customer
// paid in full and the chain confirmed it. It returns once both webhooks were delivered (or
// given up on), with the payment.proof_verified Delivery (nil when no webhook is registered).
func (s *Server) Pay(ctx context.Context, id string) (*Delivery, error) {
	if _, err := s.AttachProof(ctx, id, ""); err != nil {
		return nil, err
	}
	return s.VerifyProof(ctx, id)
}

// Redeliver sends the request's event again, as JoPay does when it did not get a timely 2xx:
// same event, a new delivery_id (JoPay calls delivery ids unique per attempt), signed afresh.
func (s *Server) Redeliver(ctx context.Context, id string, event jopay.EventType) (*Delivery, error) {
	s.mu.Lock()
	r := s.find(id)
	if r == nil {
		s.mu.Unlock()
		return nil, ErrNotFound
	}
	body, url, secret := s.eventLocked(r, event)
	s.mu.Unlock()
	return s.deliver(ctx, event, id, body, url, secret), nil
}

// wireEvent is the documented webhook payload.
type wireEvent struct {
	Event        string            `json:"event"`
	DeliveryID   string            `json:"delivery_id"`
	PartnerID    string            `json:"partner_id"`
	RequestID    string            `json:"request_id"`
	MerchantID   string            `json:"merchant_id"`
	ProofStatus  string            `json:"proof_status"`
	ProofSource  *string           `json:"proof_source"`
	TxHash       *string           `json:"tx_hash"`
	PayerAddress *string           `json:"payer_address"`
	Timestamp    string            `json:"timestamp"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// eventLocked builds the payload for r; the caller holds s.mu.
func (s *Server) eventLocked(r *request, event jopay.EventType) (body []byte, url, secret string) {
	e := wireEvent{
		Event: string(event), DeliveryID: newUUID(), PartnerID: PartnerID, RequestID: r.ID,
		MerchantID: r.MerchantID, ProofStatus: string(r.ProofStatus), Timestamp: formatTime(s.now()),
		ProofSource: nullable(r.ProofSource), TxHash: nullable(r.TxHash), PayerAddress: nullable(r.PayerAddress),
		Metadata: r.Metadata,
	}
	body, _ = json.Marshal(e)
	return body, s.webhookURL, s.secret
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deliver posts body with JoPay's signature and retry rule, and records it.
func (s *Server) deliver(ctx context.Context, event jopay.EventType, requestID string, body []byte, url, secret string) *Delivery {
	if url == "" {
		return nil
	}
	var e wireEvent
	_ = json.Unmarshal(body, &e)
	d := s.deliverer
	rec := newDelivery(event, requestID, e.DeliveryID, d.Deliver(ctx, url, body, Signer(secret)))
	s.mu.Lock()
	s.deliveries = append(s.deliveries, rec)
	s.mu.Unlock()
	return rec
}

// Signer returns the function that signs a delivery attempt the way JoPay does:
// "X-JoPay-Signature: v1=<hex HMAC-SHA256 of "<t>.<body>">,t=<unix seconds>" (v1 first).
func Signer(secret string) func(body []byte, now time.Time) http.Header {
	return func(body []byte, now time.Time) http.Header {
		h := http.Header{}
		h.Set(jopay.SignatureHeader, SignatureHeader(secret, now, body))
		return h
	}
}

// SignatureHeader returns the X-JoPay-Signature value for body signed with secret at t, for
// tests that post webhooks themselves.
func SignatureHeader(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "v1=" + webhook.Sign(secret, ts, body) + ",t=" + ts
}

// fakeHash returns a deterministic 0x-prefixed 32-byte hex string derived from input.
func fakeHash(input string) string {
	sum := sha256.Sum256([]byte(input))
	return "0x" + hex.EncodeToString(sum[:])
}
