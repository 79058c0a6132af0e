package pepay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/paykit-go/paykit/webhook"
)

// The documented webhook example (PROVIDERS.md §4.6).
func TestParseEvent_documentedExample(t *testing.T) {
	e, err := pepay.ParseEvent(apitest.Fixture(t, "webhook_event.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := &pepay.Event{
		ID: "evt_1767225600120-7", Object: "event", APIVersion: "2025-12-16", Created: time.Unix(1767225600, 0).UTC(),
		Type: pepay.EventInvoiceUpdated, Livemode: true, PendingWebhooks: 1,
		Data: pepay.EventData{
			Object:             json.RawMessage(`{"object":"invoice","id":"3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43","status":"paid","amount":25000,"amount_unit":"usd_millis","environment":"mainnet"}`),
			PreviousAttributes: json.RawMessage(`{"status":"unpaid"}`),
		},
	}
	if diff := cmp.Diff(want, e, cmpOpts...); diff != "" {
		t.Errorf("envelope (-want +got):\n%s", diff)
	}
	wantInv := &pepay.Invoice{Object: "invoice", ID: "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43", Status: pepay.StatusPaid,
		Amount: 25000, AmountDecimal: paykit.MustDecimal("25.000"), AmountUnit: "usd_millis", Environment: pepay.EnvironmentMainnet}
	if diff := cmp.Diff(wantInv, e.Invoice(), cmpOpts...); diff != "" {
		t.Errorf("Invoice() (-want +got):\n%s", diff)
	}
	if e.InvoicePayment() != nil || e.ObjectType() != pepay.ObjectInvoice || e.InvoiceID() != wantInv.ID {
		t.Errorf("typed views wrong: payment=%v type=%q invoice=%q", e.InvoicePayment(), e.ObjectType(), e.InvoiceID())
	}
	prev, err := e.PreviousAttributes()
	if err != nil || string(prev["status"]) != `"unpaid"` {
		t.Errorf("previous attributes = %v, %v", prev, err)
	}
}

func TestParseEvent_paymentAndUnknown(t *testing.T) {
	e, err := pepay.ParseEvent([]byte(`{"id":"evt_1-2","object":"event","created":"2026-01-01T00:00:00Z","type":"invoice_payment.updated","livemode":"false","pending_webhooks":"0",
		"request":{"id":"req_9","idempotency_key":"k"},
		"data":{"object":{"object":"invoice_payment","id":77,"invoice_id":"inv_1","status":"confirmed","settlement_status":"settled","settlement":{"summary_status":"settled","stage":"final","merchant_settlement_id":5}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	p := e.InvoicePayment()
	if p == nil || p.ID != "77" || p.InvoiceID != "inv_1" || p.Settlement.MerchantSettlementID != "5" || e.Invoice() != nil {
		t.Fatalf("payment = %+v", p)
	}
	if e.InvoiceID() != "inv_1" || e.Request.ID != "req_9" || e.Request.IdempotencyKey != "k" || !e.Created.Equal(mustTime(t, "2026-01-01T00:00:00Z")) {
		t.Errorf("event = %+v", e)
	}
	// Unknown types and objects pass through.
	e, err = pepay.ParseEvent([]byte(`{"id":"evt_9-9","object":"event","type":"commerce.order.updated","data":{"object":{"object":"commerce_order","id":"o1"}}}`))
	if err != nil || e.Type != pepay.EventCommerceOrderUpdated || e.ObjectType() != "commerce_order" || e.Invoice() != nil || e.InvoiceID() != "" {
		t.Errorf("unknown object: %+v, %v", e, err)
	}
	e, err = pepay.ParseEvent([]byte(`{"id":"evt_9-10","type":"payment_quote.updated","data":{}}`))
	if err != nil || e.Type != "payment_quote.updated" {
		t.Errorf("unknown type: %v", err)
	}
}

func TestParseEvent_invalid(t *testing.T) {
	for _, in := range []string{
		``, `null`, `[]`, `"evt"`, `{}`, `{"id":""}`, `{"id":"evt_1","object":"invoice"}`,
		`{"id":"evt_1","data":{"object":{"object":"invoice","amount":"1.5"}}}`,
		`{"id":"evt_1","data":{"object":{"object":"invoice_payment","status":7}}}`,
		`{"id":"evt_1","created":"yesterday"}`, `{"id":"evt_1"`,
	} {
		_, err := pepay.ParseEvent([]byte(in))
		if !errors.Is(err, pepay.ErrInvalidEvent) || !errors.Is(err, webhook.ErrInvalidPayload) {
			t.Errorf("ParseEvent(%q) = %v, want ErrInvalidEvent and webhook.ErrInvalidPayload", in, err)
		}
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add(apitest.Fixture(f, "webhook_event.json"))
	f.Add([]byte(`{"id":"evt_1-2","data":{"object":{"object":"invoice_payment","id":1}}}`))
	f.Add([]byte(`{"id":7,"created":"1767225600","livemode":1,"data":{"object":{"object":"invoice","status":"cancelled","metadata":"{\"a\":1}"}}}`))
	f.Add([]byte(`{"id":"x","data":{"object":null,"previous_attributes":null}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := pepay.ParseEvent(payload)
		if err != nil {
			if !errors.Is(err, pepay.ErrInvalidEvent) {
				t.Fatalf("error %v does not wrap ErrInvalidEvent", err)
			}
			return
		}
		if e.ID == "" {
			t.Fatal("accepted an event without id")
		}
		// The typed views never panic and agree with ObjectType.
		if (e.Invoice() != nil) != (e.ObjectType() == pepay.ObjectInvoice) {
			t.Fatalf("Invoice() and ObjectType disagree for %q", payload)
		}
		_ = e.InvoicePayment()
		_ = e.InvoiceID()
		// Re-encoding and parsing again keeps the id and type.
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := pepay.ParseEvent(b)
		if err != nil || e2.ID != e.ID || e2.Type != e.Type {
			t.Fatalf("round trip: %v, %+v", err, e2)
		}
	})
}

func TestCompareEventIDs(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"evt_1767225600120-7", "evt_1767225600120-8", -1},
		{"evt_1767225600120-10", "evt_1767225600120-9", 1},
		{"evt_999-1", "evt_1000-1", -1},
		{"evt_5-5", "evt_5-5", 0},
		{"abc", "abd", -1},
	} {
		if got := compareEventIDs(tc.a, tc.b); got != tc.want {
			t.Errorf("compareEventIDs(%q, %q) = %d", tc.a, tc.b, got)
		}
	}
}

// compareEventIDs orders two event ids of the documented form "evt_<ms>-<seq>" by time, then
// sequence: it returns -1, 0 or +1. Ids not of that form compare as strings.
func compareEventIDs(a, b string) int {
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

func TestListEvents_wrappedListAndQuery(t *testing.T) {
	c, mux := setup(t, pepay.WithEnvironment(pepay.EnvironmentMainnet))
	calls := 0
	mux.HandleFunc("GET /api/v1/events", func(w http.ResponseWriter, r *http.Request) {
		testMerchantAuth(t, r)
		calls++
		want := map[string]string{"type": "invoice.*,invoice_payment.updated", "created[gte]": "1767225000",
			"created[lte]": "1767229999", "limit": "3", "invoice_id": "inv_1", "environment": "mainnet"}
		if calls == 2 {
			want["starting_after"] = "evt_1767225000000-1"
			apitest.Query(t, r, want)
			fmt.Fprint(w, `{"success":true,"data":{"object":"list","data":[],"has_more":false}}`)
			return
		}
		apitest.Query(t, r, want)
		apitest.ServeFixture(t, w, http.StatusOK, "events_list.json")
	})
	var got []string
	for e, err := range c.ListEvents(context.Background(), pepay.ListEventsParams{
		Types: []string{"invoice.*", "invoice_payment.updated"}, CreatedGTE: time.Unix(1767225000, 0), CreatedLTE: time.Unix(1767229999, 0),
		Limit: 3, InvoiceID: "inv_1",
	}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.ID+" "+string(e.Type))
	}
	want := []string{"evt_1767225600300-9 invoice_payment.updated", "evt_1767225600120-7 invoice.updated", "evt_1767225000000-1 invoice.created"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	page, err := c.ListEventsPage(context.Background(), pepay.ListEventsParams{Types: []string{"a,b"}})
	if page != nil || !errors.As(err, new(*paykit.ValidationError)) {
		t.Errorf("comma in type accepted: %v", err)
	}
}

func TestGetEvent_wrapped(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v1/events/{id}", func(w http.ResponseWriter, r *http.Request) {
		testMerchantAuth(t, r)
		if r.PathValue("id") != "evt_1767225600120-7" {
			t.Errorf("id = %s", r.PathValue("id"))
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "data": json.RawMessage(apitest.Fixture(t, "webhook_event.json"))})
	})
	e, err := c.GetEvent(context.Background(), "evt_1767225600120-7")
	if err != nil || e.ID != "evt_1767225600120-7" || e.Invoice().Status != pepay.StatusPaid {
		t.Fatalf("GetEvent = %+v, %v", e, err)
	}
}

func TestSuccessFalseIsAPIError(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v1/events/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"success":false,"error":{"code":"EVENT_NOT_FOUND","message":"gone"}}`)
	})
	_, err := c.GetEvent(context.Background(), "evt_1-1")
	var apiErr *paykit.Error
	if !errors.As(err, &apiErr) || apiErr.Code != "EVENT_NOT_FOUND" || apiErr.Status != 200 {
		t.Fatalf("err = %#v", err)
	}
}

// EventsAfter walks ending_before forward and yields oldest first, including events that appear
// while it walks.
func TestEventsAfter_againstFake(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	var ids []string
	for i := range 9 {
		id, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.NewDecimal(int64(i+1), 0)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	log := srv.Events()
	from := log[2].ID // processed up to the third event
	var got []string
	added := false
	for e, err := range c.EventsAfter(context.Background(), from, pepay.ListEventsParams{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.ID)
		if !added { // an event created mid-walk is still delivered, last
			added = true
			if _, err := srv.Pay(ctx, ids[0]); err != nil {
				t.Fatal(err)
			}
		}
	}
	var want []string
	for _, e := range srv.Events()[3:] {
		want = append(want, e.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EventsAfter (-want +got):\n%s", diff)
	}
	// The walk used ending_before only, moving forward page by page.
	var cursors []string
	for _, r := range srv.Calls() {
		if r.Path == "/api/v1/events" {
			cursors = append(cursors, r.Query.Get("ending_before"))
			if r.Query.Get("starting_after") != "" {
				t.Error("starting_after used")
			}
		}
	}
	if cursors[0] != from || len(cursors) != 5 {
		t.Errorf("cursors = %q", cursors)
	}
	// Filters apply; an unknown cursor is Pepay's 404.
	n := 0
	for e, err := range c.EventsAfter(context.Background(), from, pepay.ListEventsParams{Types: []string{"invoice_payment.*"}}) {
		if err != nil || e.ObjectType() != pepay.ObjectInvoicePayment {
			t.Fatalf("filtered: %v %v", e, err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("payment events after = %d, want 2", n)
	}
	for _, err := range c.EventsAfter(context.Background(), "evt_1-1", pepay.ListEventsParams{}) {
		if !paykit.IsStatus(err, http.StatusNotFound) {
			t.Errorf("unknown cursor: %v", err)
		}
	}
	for _, err := range c.EventsAfter(context.Background(), "", pepay.ListEventsParams{}) {
		if !errors.As(err, new(*paykit.ValidationError)) {
			t.Errorf("empty cursor: %v", err)
		}
	}
}
