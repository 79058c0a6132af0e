package pepaytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/paykit-go/paykit/pepay"
)

// APIVersion is the api_version the fake stamps on events.
const APIVersion = "2025-12-16"

// eventRec is one logged event with what the filters need.
type eventRec struct {
	id          string
	typ         pepay.EventType
	created     int64 // unix seconds
	invoiceID   string
	customerID  string
	invoiceType pepay.InvoiceType
	env         pepay.Environment
	// orderID, wallet and walletNetwork are set on commerce.order.* events.
	orderID       string
	wallet        string
	walletNetwork string
	body          []byte // the event JSON, as sent on every channel
	// delivered is closed once the webhook delivery finished (nil: not queued); delivery is its
	// record, set before, under Server.mu.
	delivered chan struct{}
	delivery  *Delivery
}

type eventRequest struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

type wireEvent struct {
	ID              string        `json:"id"`
	Object          string        `json:"object"`
	APIVersion      string        `json:"api_version"`
	Created         int64         `json:"created"`
	Type            string        `json:"type"`
	Livemode        bool          `json:"livemode"`
	PendingWebhooks int           `json:"pending_webhooks"`
	Request         *eventRequest `json:"request"`
	Data            wireEventData `json:"data"`
}

type wireEventData struct {
	Object             any            `json:"object"`
	PreviousAttributes map[string]any `json:"previous_attributes,omitempty"`
}

// appendLocked logs an event, wakes the streams and queues the webhook. s.mu must be held.
func (s *Server) appendLocked(typ pepay.EventType, object any, prev map[string]any, req *eventRequest, inv *invoice) *eventRec {
	s.seq++
	now := s.now()
	rec := &eventRec{
		id:      fmt.Sprintf("evt_%d-%d", now.UnixMilli(), s.seq),
		typ:     typ,
		created: now.Unix(),
		env:     s.env,
	}
	if inv != nil {
		rec.invoiceID, rec.customerID, rec.invoiceType, rec.env = inv.id, inv.customerID, inv.invoiceType, inv.env
	}
	if req == nil {
		req = &eventRequest{}
	}
	pending := 0
	if s.hook.url != "" {
		pending = 1
	}
	rec.body, _ = json.Marshal(wireEvent{
		ID: rec.id, Object: "event", APIVersion: APIVersion, Created: rec.created, Type: string(typ),
		Livemode: rec.env == pepay.EnvironmentMainnet, PendingWebhooks: pending, Request: req,
		Data: wireEventData{Object: object, PreviousAttributes: prev},
	})
	s.eventIdx[rec.id] = len(s.events)
	s.events = append(s.events, rec)
	close(s.changed)
	s.changed = make(chan struct{})
	s.hook.enqueueLocked(rec)
	return rec
}

// Events returns the event log, oldest first, parsed as the client would.
func (s *Server) Events() []*pepay.Event {
	s.mu.Lock()
	recs := append([]*eventRec(nil), s.events...)
	s.mu.Unlock()
	out := make([]*pepay.Event, 0, len(recs))
	for _, r := range recs {
		e, err := pepay.ParseEvent(r.body)
		if err != nil {
			panic("pepaytest: logged an unparsable event: " + err.Error())
		}
		out = append(out, e)
	}
	return out
}

// EventCount returns the number of logged events.
func (s *Server) EventCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// LastEventID returns the newest event id, or "".
func (s *Server) LastEventID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) == 0 {
		return ""
	}
	return s.events[len(s.events)-1].id
}

// EventPayload returns an event's JSON exactly as sent on every channel.
func (s *Server) EventPayload(id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.eventIdx[id]
	if !ok {
		return nil, false
	}
	return append([]byte(nil), s.events[i].body...), true
}

// eventFilter is a parsed events query or stream filter.
type eventFilter struct {
	stream      streamKind // which WebSocket, or streamNone for the events API
	types       []string
	gte, lte    int64 // 0: unbounded
	invoiceID   string
	customerID  string
	invoiceType string
	env         string
	// commerce stream filters
	orderID       string
	wallet        string
	walletNetwork string
}

// matchEventType reports whether typ matches pattern the way Pepay's type filters do: an exact
// name, "*" for everything, or a prefix wildcard such as "invoice.*" (which matches
// "invoice.updated" but not "invoice_payment.updated").
func matchEventType(pattern, typ string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasSuffix(pattern, ".*"):
		return strings.HasPrefix(typ, pattern[:len(pattern)-1])
	}
	return pattern == typ
}

// commerceEvent reports whether e belongs on the commerce stream rather than the merchant and
// payor streams.
func commerceEvent(e *eventRec) bool { return matchEventType("commerce.order.*", string(e.typ)) }

func (f *eventFilter) match(e *eventRec) bool {
	switch f.stream {
	case streamMerchant, streamPayor:
		if commerceEvent(e) {
			return false
		}
	case streamCommerce:
		if !commerceEvent(e) {
			return false
		}
	}
	if len(f.types) > 0 {
		ok := false
		for _, t := range f.types {
			if matchEventType(t, string(e.typ)) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	switch {
	case f.gte != 0 && e.created < f.gte,
		f.lte != 0 && e.created > f.lte,
		f.invoiceID != "" && e.invoiceID != f.invoiceID,
		f.customerID != "" && e.customerID != f.customerID,
		f.invoiceType != "" && string(e.invoiceType) != f.invoiceType,
		f.env != "" && string(e.env) != f.env,
		f.orderID != "" && e.orderID != f.orderID,
		f.wallet != "" && e.wallet != f.wallet,
		f.walletNetwork != "" && e.walletNetwork != f.walletNetwork:
		return false
	}
	return true
}

func splitTypes(v string) []string {
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error())
		return
	}
	f := eventFilter{types: splitTypes(q.Get("type")), invoiceID: q.Get("invoice_id"), env: q.Get("environment")}
	for k, dst := range map[string]*int64{"created[gte]": &f.gte, "created[lte]": &f.lte} {
		if v := q.Get(k); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", k+" must be an integer (unix seconds)")
				return
			}
			*dst = n
		}
	}
	after, before := q.Get("starting_after"), q.Get("ending_before")
	if after != "" && before != "" {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "starting_after and ending_before are mutually exclusive")
		return
	}
	s.mu.Lock()
	cursor := -1
	if c := after + before; c != "" {
		i, ok := s.eventIdx[c]
		if !ok {
			s.mu.Unlock()
			writeError(w, http.StatusNotFound, "NOT_FOUND", "no such event: "+c)
			return
		}
		cursor = i
	}
	var items []*eventRec
	for _, e := range s.events {
		if f.match(e) {
			items = append(items, e)
		}
	}
	idx := s.eventIdx
	page, more := pageOf(items, func(e *eventRec) int { return idx[e.id] }, limit, after != "", before != "", cursor)
	s.mu.Unlock()
	data := make([]json.RawMessage, len(page))
	for i, e := range page {
		data[i] = e.body
	}
	writeWrapped(w, http.StatusOK, map[string]any{"object": "list", "data": data, "has_more": more, "url": "/api/v1/events"})
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	body, ok := s.EventPayload(r.PathValue("eventId"))
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such event")
		return
	}
	writeWrapped(w, http.StatusOK, json.RawMessage(body))
}

// LoggedEvent summarizes one logged event without parsing it.
type LoggedEvent struct {
	// ID is the event's id ("evt_<ms>-<seq>").
	ID string
	// Type is the event type, e.g. pepay.EventInvoiceUpdated.
	Type pepay.EventType
	// InvoiceID is the invoice the event is about ("" for events about none, such as test.ping).
	InvoiceID string
}

// EventLog returns a summary of every logged event, oldest first; cheaper than Events for
// large logs.
func (s *Server) EventLog() []LoggedEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LoggedEvent, len(s.events))
	for i, e := range s.events {
		out[i] = LoggedEvent{ID: e.id, Type: e.typ, InvoiceID: e.invoiceID}
	}
	return out
}
