package pepay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/paykit-go/paykit/webhook"
)

// The documented webhook example (PROVIDERS.md §4.6).
func TestParseEvent_documentedExample(t *testing.T) {
	e, err := pepay.ParseEvent(apitest.Fixture(t, "webhook_event.json"))
	require.NoError(t, err)
	want := &pepay.Event{
		ID: "evt_1767225600120-7", Object: "event", APIVersion: "2025-12-16", Created: time.Unix(1767225600, 0).UTC(),
		Type: pepay.EventInvoiceUpdated, Livemode: true, PendingWebhooks: 1,
		Data: pepay.EventData{
			Object:             json.RawMessage(`{"object":"invoice","id":"3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43","status":"paid","amount":25000,"amount_unit":"usd_millis","environment":"mainnet"}`),
			PreviousAttributes: json.RawMessage(`{"status":"unpaid"}`),
		},
	}
	assert.Empty(t, cmp.Diff(want, e, cmpOpts...), "envelope (-want +got)")
	wantInv := &pepay.Invoice{Object: "invoice", ID: "3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43", Status: pepay.StatusPaid,
		Amount: 25000, AmountDecimal: paykit.MustDecimal("25.000"), AmountUnit: "usd_millis", Environment: pepay.EnvironmentMainnet}
	assert.Empty(t, cmp.Diff(wantInv, e.Invoice(), cmpOpts...), "Invoice (-want +got)")
	assert.Nil(t, e.InvoicePayment(), "typed views wrong: payment=%v type=%q invoice=%q", e.InvoicePayment(), e.ObjectType(), e.InvoiceID())
	assert.Equal(t, pepay.ObjectInvoice, e.ObjectType(), "typed views wrong: payment=%v type=%q invoice=%q", e.InvoicePayment(), e.ObjectType(), e.InvoiceID())
	assert.Equal(t, wantInv.ID, e.InvoiceID(), "typed views wrong: payment=%v type=%q invoice=%q", e.InvoicePayment(), e.ObjectType(), e.InvoiceID())
	prev, err := e.PreviousAttributes()
	require.NoError(t, err, "previous attributes = %v, %v", prev, err)
	assert.Equal(t, `"unpaid"`, string(prev["status"]), "previous attributes = %v, %v", prev, err)
}

func TestParseEvent_paymentAndUnknown(t *testing.T) {
	e, err := pepay.ParseEvent([]byte(`{"id":"evt_1-2","object":"event","created":"2026-01-01T00:00:00Z","type":"invoice_payment.updated","livemode":"false","pending_webhooks":"0",
		"request":{"id":"req_9","idempotency_key":"k"},
		"data":{"object":{"object":"invoice_payment","id":77,"invoice_id":"inv_1","status":"confirmed","settlement_status":"settled","settlement":{"summary_status":"settled","stage":"final","merchant_settlement_id":5}}}}`))
	require.NoError(t, err)
	p := e.InvoicePayment()
	require.NotNil(t, p, "payment = %+v", p)
	require.Equal(t, "77", p.ID, "payment = %+v", p)
	require.Equal(t, "inv_1", p.InvoiceID, "payment = %+v", p)
	require.Equal(t, "5", p.Settlement.MerchantSettlementID, "payment = %+v", p)
	require.Nil(t, e.Invoice(), "payment = %+v", p)
	assert.Equal(t, "inv_1", e.InvoiceID(), "event = %+v", e)
	assert.Equal(t, "req_9", e.Request.ID, "event = %+v", e)
	assert.Equal(t, "k", e.Request.IdempotencyKey, "event = %+v", e)
	assert.True(t, e.Created.Equal(mustTime(t, "2026-01-01T00:00:00Z")), "event = %+v", e)
	// Unknown types and objects pass through.
	e, err = pepay.ParseEvent([]byte(`{"id":"evt_9-9","object":"event","type":"commerce.order.updated","data":{"object":{"object":"commerce_order","id":"o1"}}}`))
	require.NoError(t, err, "unknown object: %+v, %v", e, err)
	assert.Equal(t, pepay.EventCommerceOrderUpdated, e.Type, "unknown object: %+v, %v", e, err)
	assert.Equal(t, "commerce_order", e.ObjectType(), "unknown object: %+v, %v", e, err)
	assert.Nil(t, e.Invoice(), "unknown object: %+v, %v", e, err)
	assert.Empty(t, e.InvoiceID(), "unknown object: %+v, %v", e, err)
	e, err = pepay.ParseEvent([]byte(`{"id":"evt_9-10","type":"payment_quote.updated","data":{}}`))
	require.NoError(t, err, "unknown type: %v", err)
	assert.Equal(t, pepay.EventType("payment_quote.updated"), e.Type, "unknown type: %v", err)
}

func TestParseEvent_invalid(t *testing.T) {
	for _, in := range []string{
		``, `null`, `[]`, `"evt"`, `{}`, `{"id":""}`, `{"id":"evt_1","object":"invoice"}`,
		`{"id":"evt_1","data":{"object":{"object":"invoice","amount":"1.5"}}}`,
		`{"id":"evt_1","data":{"object":{"object":"invoice_payment","status":7}}}`,
		`{"id":"evt_1","created":"yesterday"}`, `{"id":"evt_1"`,
	} {
		_, err := pepay.ParseEvent([]byte(in))
		assert.ErrorIs(t, err, pepay.ErrInvalidEvent, "ParseEvent(%q) = %v, want ErrInvalidEvent and webhook.ErrInvalidPayload", in, err)
		assert.ErrorIs(t, err, webhook.ErrInvalidPayload, "ParseEvent(%q) = %v, want ErrInvalidEvent and webhook.ErrInvalidPayload", in, err)
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
			require.ErrorIs(t, err, pepay.ErrInvalidEvent, "error %v does not wrap ErrInvalidEvent", err)
			return
		}
		require.NotEmpty(t, e.ID, "accepted an event without id")
		// The typed views never panic and agree with ObjectType.
		require.Equal(t, e.ObjectType() == pepay.ObjectInvoice, e.Invoice() != nil, "Invoice() and ObjectType disagree for %q", payload)
		_ = e.InvoicePayment()
		_ = e.InvoiceID()
		// Re-encoding and parsing again keeps the id and type.
		b, err := json.Marshal(e)
		require.NoError(t, err)
		e2, err := pepay.ParseEvent(b)
		require.NoError(t, err, "round trip: %v, %+v", err, e2)
		require.Equal(t, e.ID, e2.ID, "round trip: %v, %+v", err, e2)
		require.Equal(t, e.Type, e2.Type, "round trip: %v, %+v", err, e2)
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
		assert.Equal(t, tc.want, compareEventIDs(tc.a, tc.b), "compareEventIDs(%q, %q)", tc.a, tc.b)
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
		require.NoError(t, err)
		got = append(got, e.ID+" "+string(e.Type))
	}
	want := []string{"evt_1767225600300-9 invoice_payment.updated", "evt_1767225600120-7 invoice.updated", "evt_1767225000000-1 invoice.created"}
	assert.Empty(t, cmp.Diff(want, got), "(-want +got)")
	page, err := c.ListEventsPage(context.Background(), pepay.ListEventsParams{Types: []string{"a,b"}})
	assert.Nil(t, page, "comma in type accepted: %v", err)
	assert.ErrorAs(t, err, new(*paykit.ValidationError), "comma in type accepted: %v", err)
}

func TestGetEvent_wrapped(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v1/events/{id}", func(w http.ResponseWriter, r *http.Request) {
		testMerchantAuth(t, r)
		assert.Equal(t, "evt_1767225600120-7", r.PathValue("id"), "id")
		_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "data": json.RawMessage(apitest.Fixture(t, "webhook_event.json"))})
	})
	e, err := c.GetEvent(context.Background(), "evt_1767225600120-7")
	require.NoError(t, err, "GetEvent = %+v, %v", e, err)
	require.Equal(t, "evt_1767225600120-7", e.ID, "GetEvent = %+v, %v", e, err)
	require.Equal(t, pepay.StatusPaid, e.Invoice().Status, "GetEvent = %+v, %v", e, err)
}

func TestSuccessFalseIsAPIError(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v1/events/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"success":false,"error":{"code":"EVENT_NOT_FOUND","message":"gone"}}`)
	})
	_, err := c.GetEvent(context.Background(), "evt_1-1")
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr, "err = %#v", err)
	require.Equal(t, "EVENT_NOT_FOUND", apiErr.Code, "err = %#v", err)
	require.Equal(t, 200, apiErr.Status, "err = %#v", err)
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
		require.NoError(t, err)
		ids = append(ids, id)
	}
	log := srv.Events()
	from := log[2].ID // processed up to the third event
	var got []string
	added := false
	for e, err := range c.EventsAfter(context.Background(), from, pepay.ListEventsParams{Limit: 2}) {
		require.NoError(t, err)
		got = append(got, e.ID)
		if !added { // an event created mid-walk is still delivered, last
			added = true
			_, err := srv.Pay(ctx, ids[0])
			require.NoError(t, err)
		}
	}
	var want []string
	for _, e := range srv.Events()[3:] {
		want = append(want, e.ID)
	}
	assert.Empty(t, cmp.Diff(want, got), "EventsAfter (-want +got)")
	// The walk used ending_before only, moving forward page by page.
	var cursors []string
	for _, r := range srv.Calls() {
		if r.Path == "/api/v1/events" {
			cursors = append(cursors, r.Query.Get("ending_before"))
			assert.Empty(t, r.Query.Get("starting_after"), "starting_after used")
		}
	}
	assert.Equal(t, from, cursors[0], "cursors = %q", cursors)
	assert.Len(t, cursors, 5, "cursors = %q", cursors)
	// Filters apply; an unknown cursor is Pepay's 404.
	n := 0
	for e, err := range c.EventsAfter(context.Background(), from, pepay.ListEventsParams{Types: []string{"invoice_payment.*"}}) {
		require.NoError(t, err, "filtered: %v %v", e, err)
		require.Equal(t, pepay.ObjectInvoicePayment, e.ObjectType(), "filtered: %v %v", e, err)
		n++
	}
	assert.Equal(t, 2, n, "payment events after, want 2")
	for _, err := range c.EventsAfter(context.Background(), "evt_1-1", pepay.ListEventsParams{}) {
		assert.True(t, paykit.IsStatus(err, http.StatusNotFound), "unknown cursor: %v", err)
	}
	for _, err := range c.EventsAfter(context.Background(), "", pepay.ListEventsParams{}) {
		assert.ErrorAs(t, err, new(*paykit.ValidationError), "empty cursor")
	}
}
