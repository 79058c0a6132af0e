package pepay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/webhook"
)

// EventType is an event's "type". Unknown types pass through unchanged.
type EventType string

// Event types of Pepay's webhook catalogue. The status change is inside data.object (an
// invoice.updated event carries the paid invoice); the older "invoice.paid" style names seen on
// one docs page decode fine but are not sent by the current API.
const (
	EventInvoiceCreated        EventType = "invoice.created"
	EventInvoiceUpdated        EventType = "invoice.updated"
	EventInvoicePaymentCreated EventType = "invoice_payment.created"
	EventInvoicePaymentUpdated EventType = "invoice_payment.updated"
	EventCommerceOrderCreated  EventType = "commerce.order.created"
	EventCommerceOrderUpdated  EventType = "commerce.order.updated"
	EventTestPing              EventType = "test.ping"
	// EventPaymentQuoteUpdated is sent on the payor stream (PayorClient.Stream) when the quote
	// of a payment address changes; its data.object is not documented (raw JSON).
	EventPaymentQuoteUpdated EventType = "payment_quote.updated"
)

// Object types found in data.object.
const (
	ObjectInvoice        = "invoice"
	ObjectInvoicePayment = "invoice_payment"
)

// Event is Pepay's event envelope, shared by webhooks, the events API and the WebSocket
// (format=event_v1). Delivery is at-least-once on every channel: dedupe on ID (see
// webhook.Deduper, shared by NewWebhookHandler and Stream).
type Event struct {
	ID string `json:"id"` // "evt_<ms>-<seq>"
	// Object is the object type, "event" (or empty when Pepay omits it).
	Object string `json:"object"`
	// APIVersion is the API version as sent by Pepay, e.g. "2025-12-16".
	APIVersion string    `json:"api_version,omitempty"`
	Created    time.Time `json:"created"` // unix seconds on the wire
	// Type is the event type, e.g. EventInvoiceUpdated; unknown types pass through.
	Type EventType `json:"type"`
	// Livemode is true for mainnet events.
	Livemode bool `json:"livemode"`
	// PendingWebhooks is pending_webhooks as sent by Pepay (a number or string on the wire).
	PendingWebhooks int `json:"pending_webhooks"`
	// Request is the API request that caused the event; zero when there was none.
	Request EventRequest `json:"request"`
	// Data holds the resource the event is about (data.object) and what changed.
	Data EventData `json:"data"`

	objType string // data.object's "object", set by UnmarshalJSON
	invoice *Invoice
	payment *InvoicePayment
}

// EventRequest identifies the API request that caused the event, when there was one.
type EventRequest struct {
	// ID is the request's id; "" when absent.
	ID string `json:"id,omitempty"`
	// IdempotencyKey is the Idempotency-Key the request was sent with; "" when absent.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// EventData holds the resource the event is about, as raw JSON (use Event.Invoice or
// Event.InvoicePayment for the typed view), and the attributes that changed with their previous
// values.
type EventData struct {
	// Object is the resource as raw JSON, with its own "object" field (see Event.ObjectType).
	Object json.RawMessage `json:"object"`
	// PreviousAttributes maps changed attributes to their previous values, as raw JSON; empty
	// when absent (see Event.PreviousAttributes).
	PreviousAttributes json.RawMessage `json:"previous_attributes,omitempty"`
}

// ParseEvent decodes and checks an event payload (a webhook body, an events API item or a
// stream frame). It requires a JSON object with a non-empty id and, when present, "object":
// "event"; an invoice or invoice_payment in data.object must decode. Unknown event and object
// types pass through. Errors wrap ErrInvalidEvent and webhook.ErrInvalidPayload.
func ParseEvent(payload []byte) (*Event, error) {
	var e Event
	// UnmarshalJSON directly: it validates the input itself, and json.Unmarshal would validate
	// it a second time first.
	if err := e.UnmarshalJSON(payload); err != nil {
		if errors.Is(err, ErrInvalidEvent) {
			return nil, err
		}
		return nil, invalidEvent(err.Error())
	}
	return &e, nil
}

func invalidEvent(reason string) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalidEvent, webhook.ErrInvalidPayload, reason)
}

// UnmarshalJSON decodes the envelope tolerantly (created as unix seconds or RFC 3339,
// pending_webhooks as number or string) and decodes a known data.object eagerly, so a malformed
// invoice is reported here rather than later.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	*e = Event{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return invalidEvent("not a JSON object")
	}
	w := struct {
		*plain
		Created         jsonx.Time  `json:"created"`
		Livemode        jsonx.Bool  `json:"livemode"`
		PendingWebhooks jsonx.Int64 `json:"pending_webhooks"`
		ID              jsonx.ID    `json:"id"`
	}{plain: (*plain)(e)}
	if err := json.Unmarshal(b, &w); err != nil {
		return invalidEvent(err.Error())
	}
	e.ID, e.Created, e.Livemode = string(w.ID), w.Created.Time, bool(w.Livemode)
	e.PendingWebhooks = int(w.PendingWebhooks)
	if strings.TrimSpace(e.ID) == "" {
		return invalidEvent("no event id")
	}
	if e.Object != "" && e.Object != "event" {
		return invalidEvent("object is " + strconv.Quote(e.Object) + ", not \"event\"")
	}
	e.objType = probeObjectType(e.Data.Object)
	switch e.objType {
	case ObjectInvoice:
		var inv Invoice
		if err := inv.UnmarshalJSON(e.Data.Object); err != nil { // already validated with the envelope
			return invalidEvent("data.object invoice: " + err.Error())
		}
		e.invoice = &inv
	case ObjectInvoicePayment:
		var p InvoicePayment
		if err := p.UnmarshalJSON(e.Data.Object); err != nil {
			return invalidEvent("data.object invoice_payment: " + err.Error())
		}
		e.payment = &p
	}
	return nil
}

// ObjectType returns data.object's "object" field ("invoice", "invoice_payment", or another type
// Pepay adds), or "" when there is none.
func (e *Event) ObjectType() string {
	if e.objType != "" {
		return e.objType
	}
	return probeObjectType(e.Data.Object)
}

func probeObjectType(raw json.RawMessage) string { return objectField(raw) }

// Invoice returns data.object as an invoice, or nil when the event is about something else.
func (e *Event) Invoice() *Invoice {
	if e.invoice != nil {
		return e.invoice
	}
	if e.ObjectType() != ObjectInvoice {
		return nil
	}
	var inv Invoice
	if json.Unmarshal(e.Data.Object, &inv) != nil {
		return nil
	}
	return &inv
}

// InvoicePayment returns data.object as an invoice payment, or nil when the event is about
// something else.
func (e *Event) InvoicePayment() *InvoicePayment {
	if e.payment != nil {
		return e.payment
	}
	if e.ObjectType() != ObjectInvoicePayment {
		return nil
	}
	var p InvoicePayment
	if json.Unmarshal(e.Data.Object, &p) != nil {
		return nil
	}
	return &p
}

// InvoiceID returns the id of the invoice the event concerns (the invoice's id, or a payment's
// invoice_id), or "" for other objects. Events of one invoice are applied in order by it.
func (e *Event) InvoiceID() string {
	if inv := e.Invoice(); inv != nil {
		return inv.ID
	}
	if p := e.InvoicePayment(); p != nil {
		return p.InvoiceID
	}
	return ""
}

// PreviousAttributes decodes data.previous_attributes into a map (nil when absent).
func (e *Event) PreviousAttributes() (map[string]json.RawMessage, error) {
	if len(e.Data.PreviousAttributes) == 0 || string(e.Data.PreviousAttributes) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(e.Data.PreviousAttributes, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// MatchEventType reports whether typ matches pattern the way Pepay's type filters do: an exact
// name, "*" for everything, or a prefix wildcard such as "invoice.*" (which matches
// "invoice.updated" but not "invoice_payment.updated").
func MatchEventType(pattern, typ string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasSuffix(pattern, ".*"):
		return strings.HasPrefix(typ, pattern[:len(pattern)-1])
	}
	return pattern == typ
}

// CompareEventIDs orders two event ids of the documented form "evt_<ms>-<seq>" by time, then
// sequence: it returns -1, 0 or +1. Ids not of that form compare as strings.
func CompareEventIDs(a, b string) int {
	am, as, aok := splitEventID(a)
	bm, bs, bok := splitEventID(b)
	if aok && bok {
		switch {
		case am != bm:
			return cmpInt(am, bm)
		case as != bs:
			return cmpInt(as, bs)
		}
		return 0
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b int64) int {
	if a < b {
		return -1
	}
	return 1
}

func splitEventID(id string) (ms, seq int64, ok bool) {
	rest, found := strings.CutPrefix(id, "evt_")
	if !found {
		return 0, 0, false
	}
	m, s, found := strings.Cut(rest, "-")
	if !found {
		return 0, 0, false
	}
	var err1, err2 error
	ms, err1 = strconv.ParseInt(m, 10, 64)
	seq, err2 = strconv.ParseInt(s, 10, 64)
	return ms, seq, err1 == nil && err2 == nil
}
