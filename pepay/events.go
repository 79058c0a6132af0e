package pepay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
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
	// ID is the event id, "evt_<ms>-<seq>", as the body carries it (a number's digits when sent
	// as a number). ParseEvent requires it. It is the dedupe key of NewWebhookHandler and
	// Stream; for a webhook it comes from the signed body, never from X-Pepay-Event-ID.
	ID string `json:"id"`
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

const eventsPath = "events"

// ListEventsParams filters and pages the events API. All fields are optional.
type ListEventsParams struct {
	// Types keeps events whose type matches any entry: exact names or prefix wildcards
	// ("invoice.*", "invoice_payment.*").
	Types []string
	// CreatedGTE and CreatedLTE bound the creation time (inclusive, whole seconds).
	CreatedGTE, CreatedLTE time.Time
	// Limit is the page size, 1–100 (Pepay's default is 10; EventsAfter uses 100).
	Limit int
	// StartingAfter returns events older than this id; EndingBefore events newer than it. Give
	// at most one.
	StartingAfter, EndingBefore string
	// InvoiceID keeps one invoice's events.
	InvoiceID string
	// Environment overrides the client's WithEnvironment.
	Environment Environment
}

// ListEventsPage returns one page of events, newest first. HasMore reports whether more events
// exist past this page in the direction of the cursor (older, or newer with EndingBefore);
// NextCursor is the id to pass as StartingAfter (or, walking newer, as EndingBefore) for the
// next page.
func (c *Client) ListEventsPage(ctx context.Context, p ListEventsParams, opts ...paykit.CallOption) (*paykit.Page[*Event], error) {
	q, err := c.eventQuery(p)
	if err != nil {
		return nil, err
	}
	newer := p.EndingBefore != "" && p.StartingAfter == ""
	req := transport.Request{Method: http.MethodGet, Path: eventsPath, Route: eventsPath, Query: q, Options: opts}
	return listPage(ctx, c.t, req, func(e *Event) string { return e.ID }, newer)
}

// ListEvents iterates over events matching p, newest first, fetching pages lazily (next page:
// starting_after=<last id>). To catch up after downtime in the order events happened, use
// EventsAfter instead. opts apply to every page request; a paykit.WithResponseInfo receives the
// latest page's info.
func (c *Client) ListEvents(ctx context.Context, p ListEventsParams, opts ...paykit.CallOption) iter.Seq2[*Event, error] {
	if p.EndingBefore != "" {
		return errSeq[*Event](&paykit.ValidationError{Field: "ending_before", Reason: "ListEvents walks towards older events; use EventsAfter for newer ones"})
	}
	return paginate(func(cursor string) (*paykit.Page[*Event], error) {
		q := p
		if cursor != "" {
			q.StartingAfter = cursor
		}
		return c.ListEventsPage(ctx, q, opts...)
	})
}

// IsPaid reports whether the event carries an invoice that is paid in full (data.object is an
// invoice with status paid). Events about payments and other objects are never paid.
func (e *Event) IsPaid() bool { return e.Invoice().IsPaid() }

// IsTerminal reports whether the event carries an invoice that can no longer change (paid,
// expired or canceled).
func (e *Event) IsTerminal() bool { return e.Invoice().IsTerminal() }

// OrderID returns the event's invoice's metadata.order_id (MetadataOrderID), or "" when
// data.object is not an invoice or has none.
func (e *Event) OrderID() string { return e.Invoice().OrderID() }

// GetEvent retrieves one event.
func (c *Client) GetEvent(ctx context.Context, id string, opts ...paykit.CallOption) (*Event, error) {
	seg, err := idSegment("event_id", id)
	if err != nil {
		return nil, err
	}
	var out Event
	req := transport.Request{Method: http.MethodGet, Path: eventsPath + "/" + seg, Route: eventsPath + "/{id}", Options: opts}
	if err := doRequest(ctx, c.t, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EventsAfter is the recovery helper: it yields every event newer than lastEventID (the last
// one you processed) in the order they happened, oldest first, until it has caught up with the
// newest event. p filters as in ListEvents; its cursors must be empty and its Limit defaults to
// 100.
//
// How: Pepay lists events newest first and its cursors are Stripe-style. ending_before=<id>
// returns the page of events immediately newer than <id> (still listed newest first) and
// has_more says whether even newer ones exist. So each page is reversed and yielded, and the
// next request uses ending_before=<newest id of the page>, walking forward in time without
// skipping or repeating anything: events created while the walk runs are picked up by its
// later pages. (Walking starting_after from the top instead would have to buffer everything
// before yielding the oldest.) An id seen twice is yielded once; a page that does not move the
// cursor ends the walk with paykit.ErrPaginationStuck. If lastEventID is older than Pepay's event
// retention the first request fails with Pepay's error: reconcile with GetInvoice then.
//
// opts apply to every page request; a paykit.WithResponseInfo receives the latest page's info.
func (c *Client) EventsAfter(ctx context.Context, lastEventID string, p ListEventsParams, opts ...paykit.CallOption) iter.Seq2[*Event, error] {
	if err := checkID("ending_before", lastEventID); err != nil {
		return errSeq[*Event](err)
	}
	if p.StartingAfter != "" || p.EndingBefore != "" {
		return errSeq[*Event](&paykit.ValidationError{Field: "starting_after", Reason: "EventsAfter sets the cursor itself; leave StartingAfter and EndingBefore empty"})
	}
	if p.Limit == 0 {
		p.Limit = maxPageSize
	}
	return func(yield func(*Event, error) bool) {
		cursor := lastEventID
		seen := map[string]struct{}{lastEventID: {}}
		for {
			q := p
			q.EndingBefore = cursor
			page, err := c.ListEventsPage(ctx, q, opts...)
			if err != nil {
				yield(nil, err)
				return
			}
			fresh := 0
			for i := len(page.Data) - 1; i >= 0; i-- { // newest first on the wire: reverse
				e := page.Data[i]
				if _, dup := seen[e.ID]; dup {
					continue
				}
				seen[e.ID] = struct{}{}
				fresh++
				if !yield(e, nil) {
					return
				}
			}
			if !page.HasMore {
				return
			}
			if fresh == 0 || page.Data[0].ID == cursor {
				yield(nil, fmt.Errorf("%w: ending_before=%s returned no new events", paykit.ErrPaginationStuck, cursor))
				return
			}
			cursor = page.Data[0].ID
		}
	}
}

func (c *Client) eventQuery(p ListEventsParams) (url.Values, error) {
	q := url.Values{}
	if err := setLimit(q, p.Limit); err != nil {
		return nil, err
	}
	if p.StartingAfter != "" && p.EndingBefore != "" {
		return nil, &paykit.ValidationError{Field: "starting_after", Reason: "give starting_after or ending_before, not both"}
	}
	setIf(q, "starting_after", p.StartingAfter)
	setIf(q, "ending_before", p.EndingBefore)
	if len(p.Types) > 0 {
		for _, t := range p.Types {
			if t == "" || strings.ContainsAny(t, ", ") {
				return nil, &paykit.ValidationError{Field: "type", Reason: "event types must be non-empty and contain no comma or space"}
			}
		}
		q.Set("type", strings.Join(p.Types, ","))
	}
	if !p.CreatedGTE.IsZero() {
		q.Set("created[gte]", strconv.FormatInt(p.CreatedGTE.Unix(), 10))
	}
	if !p.CreatedLTE.IsZero() {
		q.Set("created[lte]", strconv.FormatInt(p.CreatedLTE.Unix(), 10))
	}
	setIf(q, "invoice_id", p.InvoiceID)
	c.setEnv(q, p.Environment)
	return q, nil
}
