package jopaycheckout

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

// EventType is a webhook event's "event" field. Types JoPay adds later pass through unchanged.
type EventType string

// Documented event types.
const (
	// EventSessionCompleted: the session was paid. Fulfil the order.
	EventSessionCompleted EventType = "checkout.session.completed"
	// EventSessionExpired: the session expired without payment.
	EventSessionExpired EventType = "checkout.session.expired"
	// EventPaymentFailed: a payment attempt failed. The session stays open; the buyer may try
	// again, so this event can arrive several times for one session.
	EventPaymentFailed EventType = "checkout.payment.failed"
)

// IsKnown reports whether t is one of the documented event types.
func (t EventType) IsKnown() bool {
	switch t {
	case EventSessionCompleted, EventSessionExpired, EventPaymentFailed:
		return true
	}
	return false
}

// Event is a JoPay Checkout webhook event:
//
//	{"event":"checkout.session.completed","data":{"id":"cs_…","status":"completed",…},"created_at":"…"}
type Event struct {
	// Type is the "event" field.
	Type EventType
	// Data is the session the event is about.
	Data Session
	// CreatedAt is when JoPay created the event, when sent.
	CreatedAt time.Time
	// Raw is the payload exactly as received (a copy), for fields this package does not model.
	Raw json.RawMessage
}

// IsPaid reports whether the event says the session was paid: a checkout.session.completed
// event whose session status, when present, is completed.
func (e *Event) IsPaid() bool {
	if e == nil || e.Type != EventSessionCompleted {
		return false
	}
	return e.Data.RawStatus == "" || e.Data.Status == StatusCompleted
}

// DedupeKey returns the key NewWebhookHandler dedupes deliveries on. It is built from the
// signed body only (the fields ParseEvent decoded from it, and Raw), never from a header or the
// signature's timestamp, so one signed body always has one key. Checkout payloads carry no
// event or delivery id, so the key is built from what identifies an occurrence:
//
//   - checkout.session.completed and checkout.session.expired happen at most once per session:
//     "jopaycheckout:<data.id>:<event>" identifies them whatever else a redelivery changes
//     (a new created_at, a new signature timestamp);
//   - checkout.payment.failed (and unknown types) can legitimately happen several times per
//     session, so the key also carries the first 16 bytes of the SHA-256 of the raw payload,
//     in hex: "jopaycheckout:<data.id>:<event>:<hash>". A redelivery of the same bytes is
//     skipped, a new failed attempt is not.
//
// ':' and '%' inside the session id and the event name are escaped as %3A and %25.
func DedupeKey(e *Event) string {
	key := "jopaycheckout:" + hookpreset.KeyPart(e.Data.ID) + ":" + hookpreset.KeyPart(string(e.Type))
	if e.Type == EventSessionCompleted || e.Type == EventSessionExpired {
		return key
	}
	sum := sha256.Sum256(e.Raw)
	return key + ":" + hex.EncodeToString(sum[:16])
}

// IsTerminal reports whether the event reports a session that can no longer change: completed
// (see IsPaid) or expired.
func (e *Event) IsTerminal() bool {
	return e != nil && (e.IsPaid() || e.Type == EventSessionExpired || e.Data.Status.IsTerminal())
}

// MetadataOrderID is the metadata key this package's examples put the merchant's order id in,
// as the API documentation's example does.
const MetadataOrderID = "order_id"

// OrderID returns the session's metadata.order_id, the usual correlation key, or "".
func (e *Event) OrderID() string { return e.Data.Metadata[MetadataOrderID] }

// eventJSON is the wire form of an event.
type eventJSON struct {
	Event     *string         `json:"event"`
	Data      json.RawMessage `json:"data"`
	CreatedAt jsonx.Time      `json:"created_at"`
}

// ParseEvent decodes a webhook payload. Verify the signature first (NewWebhookVerifier): the
// payload is untrusted until then.
//
// Unknown event types pass through with whatever session data decodes. Errors wrap both
// ErrInvalidEvent and webhook.ErrInvalidPayload: a body that is not a JSON object, an empty or
// missing "event", invalid UTF-8, or a documented event whose data is not a
// session with an id.
func ParseEvent(payload []byte) (*Event, error) {
	if !utf8.Valid(payload) {
		return nil, invalidEvent("not valid UTF-8")
	}
	var w eventJSON
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, invalidEvent("%v", err)
	}
	if bytes.TrimSpace(payload)[0] != '{' {
		return nil, invalidEvent("not a JSON object")
	}
	if w.Event == nil || *w.Event == "" {
		return nil, invalidEvent(`no "event" field`)
	}
	e := &Event{
		Type:      EventType(*w.Event),
		CreatedAt: w.CreatedAt.Time,
		Raw:       append(json.RawMessage(nil), payload...),
	}
	hasData := len(w.Data) > 0 && string(w.Data) != "null"
	var dataErr error
	if hasData {
		dataErr = json.Unmarshal(w.Data, &e.Data)
		if dataErr == nil && w.Data[0] != '{' {
			dataErr = fmt.Errorf("data is not an object")
		}
	}
	if e.Type.IsKnown() {
		switch {
		case !hasData:
			return nil, invalidEvent("%s without data", e.Type)
		case dataErr != nil:
			return nil, invalidEvent("%s data: %v", e.Type, dataErr)
		case e.Data.ID == "":
			return nil, invalidEvent("%s without a session id", e.Type)
		}
	} else if dataErr != nil {
		e.Data = Session{} // unknown type: keep the event, Raw has everything
	}
	return e, nil
}

func invalidEvent(format string, args ...any) error {
	return fmt.Errorf("%w: %w: "+format, append([]any{ErrInvalidEvent, webhook.ErrInvalidPayload}, args...)...)
}
