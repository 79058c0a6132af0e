package jopay

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/paykit-go/paykit/internal/hookpreset"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/webhook"
)

// EventType is a webhook event name. Types JoPay adds later pass through unchanged.
type EventType string

// Webhook event types.
const (
	// EventProofAttached: a transaction hash was submitted; not verified, not paid yet.
	EventProofAttached EventType = "payment.proof_attached"
	// EventProofVerified: the payment was verified on-chain — the only "paid" signal.
	EventProofVerified EventType = "payment.proof_verified"
)

// Event is a JoPay webhook delivery.
type Event struct {
	// Type is the event name ("payment.proof_verified").
	Type EventType
	// DeliveryID identifies the delivery; JoPay calls it unique per attempt, so a redelivery of
	// the same event may carry a new one (see DedupeKey).
	DeliveryID string
	// PartnerID is the partner the event belongs to.
	PartnerID string
	// RequestID is the payment request the event is about.
	RequestID string
	// MerchantID is the request's merchant.
	MerchantID string
	// ProofStatus is the request's proof status when the event was sent.
	ProofStatus ProofStatus
	// ProofSource says who supplied the proof ("trails_on_chain", "customer"); may be empty.
	ProofSource string
	// TxHash is the payment transaction hash; may be empty.
	TxHash string
	// PayerAddress is the paying wallet; may be empty.
	PayerAddress string
	// TrailsStatus is the verifier's state when sent (values unpublished); may be empty.
	TrailsStatus string
	// Timestamp is when JoPay emitted the event.
	Timestamp time.Time
	// Metadata is the request's create-time metadata, when the payload carries it.
	Metadata map[string]string
	// Raw is the payload exactly as received (the bytes the signature covers).
	Raw json.RawMessage
}

// IsPaid reports whether the event says the payment is verified: a payment.proof_verified
// event whose proof_status is verified. Fulfil orders on this, never on proof_attached.
func (e *Event) IsPaid() bool {
	return e.Type == EventProofVerified && e.ProofStatus == ProofStatusVerified
}

// IsTerminal reports whether the event reports a final proof state (verified): nothing about
// the request's payment changes after it.
func (e *Event) IsTerminal() bool { return e.ProofStatus.IsTerminal() }

// OrderID returns metadata.order_id, the correlation key the checkout pattern puts on requests.
func (e *Event) OrderID() string { return e.Metadata[MetadataOrderID] }

type wireEvent struct {
	Event        EventType    `json:"event"`
	DeliveryID   jsonx.ID     `json:"delivery_id"`
	PartnerID    jsonx.ID     `json:"partner_id"`
	RequestID    jsonx.ID     `json:"request_id"`
	MerchantID   jsonx.ID     `json:"merchant_id"`
	ProofStatus  ProofStatus  `json:"proof_status"`
	ProofSource  *string      `json:"proof_source"`
	TxHash       *string      `json:"tx_hash"`
	PayerAddress *string      `json:"payer_address"`
	TrailsStatus *string      `json:"trails_status"`
	Timestamp    jsonx.Time   `json:"timestamp"`
	Metadata     wireMetadata `json:"metadata"`
}

// ParseEvent decodes a webhook payload. Verify the signature first (NewWebhookVerifier): the
// payload is only trustworthy after that. Unknown event types and unknown fields are accepted.
// Errors wrap webhook.ErrInvalidPayload: not a JSON object, invalid UTF-8, no "event" name, or
// a field of the wrong type.
func ParseEvent(payload []byte) (*Event, error) {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: jopay event is not a JSON object", webhook.ErrInvalidPayload)
	}
	if !utf8.Valid(payload) {
		return nil, fmt.Errorf("%w: jopay event is not valid UTF-8", webhook.ErrInvalidPayload)
	}
	var w wireEvent
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("%w: jopay event: %v", webhook.ErrInvalidPayload, err)
	}
	if w.Event == "" {
		return nil, fmt.Errorf("%w: jopay event has no event name", webhook.ErrInvalidPayload)
	}
	return &Event{
		Type:         w.Event,
		DeliveryID:   string(w.DeliveryID),
		PartnerID:    string(w.PartnerID),
		RequestID:    string(w.RequestID),
		MerchantID:   string(w.MerchantID),
		ProofStatus:  w.ProofStatus,
		ProofSource:  deref(w.ProofSource),
		TxHash:       deref(w.TxHash),
		PayerAddress: deref(w.PayerAddress),
		TrailsStatus: deref(w.TrailsStatus),
		Timestamp:    w.Timestamp.Time,
		Metadata:     map[string]string(w.Metadata),
		Raw:          append(json.RawMessage(nil), payload...),
	}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// DedupeKey returns the key NewWebhookHandler dedupes deliveries on. It is built from the
// signed body only (the fields ParseEvent decoded from it, or Raw itself), never from a
// header or the signature's timestamp, so one signed body always has one key:
//
//   - "jopay:<request_id>:<event>:<tx_hash>" when the event names a request;
//   - "jopay:delivery:<delivery_id>" when it names no request but has a delivery id;
//   - "jopay:sha256:<hex SHA-256 of Raw>" when it has neither, so that a replay of the same
//     signed body within the timestamp tolerance is still a duplicate;
//   - "" (no dedupe) only for an Event with none of these, which ParseEvent never returns.
//
// ':' and '%' inside a component are escaped as %3A and %25, so the key identifies its parts.
//
// Why not delivery_id alone: JoPay calls delivery_id unique per delivery attempt, so a
// redelivery of an event already processed can arrive under a new delivery_id and would run
// the handler twice (an order shipped twice). An event name happens once per request — a
// request is verified once — so (request_id, event) identifies the business event. The tx hash
// is part of the key so that a second, different proof attached after a mismatch is not
// mistaken for a repeat of the first.
func DedupeKey(e *Event) string {
	switch {
	case e.RequestID != "":
		return "jopay:" + hookpreset.KeyPart(e.RequestID) + ":" + hookpreset.KeyPart(string(e.Type)) + ":" +
			hookpreset.KeyPart(e.TxHash)
	case e.DeliveryID != "":
		return "jopay:delivery:" + hookpreset.KeyPart(e.DeliveryID)
	case len(e.Raw) > 0:
		sum := sha256.Sum256(e.Raw)
		return "jopay:sha256:" + hex.EncodeToString(sum[:])
	}
	return ""
}
