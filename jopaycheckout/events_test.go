package jopaycheckout_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/webhook"
)

// The seed's webhook payload, decoded field by field.
func TestParseEventSeedPayload(t *testing.T) {
	payload := apitest.Fixture(t, "webhook_session_completed.json")
	got, err := jopaycheckout.ParseEvent(payload)
	if err != nil {
		t.Fatal(err)
	}
	want := &jopaycheckout.Event{
		Type: jopaycheckout.EventSessionCompleted,
		Data: jopaycheckout.Session{
			ID: "cs_a1b2c3d4e5f6", Status: jopaycheckout.StatusCompleted, RawStatus: "completed",
			AmountCents: 2500, Currency: "eur", CustomerEmail: "customer@example.com",
			Metadata:    map[string]string{"order_id": "12345"},
			CompletedAt: mustTime(t, "2025-01-10T12:05:00Z"),
		},
		CreatedAt: mustTime(t, "2025-01-10T12:05:01Z"),
		Raw:       payload,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event mismatch (-want +got):\n%s", diff)
	}
	if !got.IsPaid() {
		t.Error("IsPaid = false for the completed seed event")
	}
	if got.OrderID() != "12345" || got.Data.OrderID() != "12345" {
		t.Errorf("OrderID = %q", got.OrderID())
	}
	payload[0] = ' ' // Raw is a copy
	if got.Raw[0] != '{' {
		t.Error("Raw aliases the caller's buffer")
	}
}

func TestParseEventTable(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		typ     jopaycheckout.EventType
		paid    bool
		known   bool
		id      string
		wantErr bool
	}{
		{name: "spec example without created_at", payload: string(apitest.Fixture(t, "webhook_spec_example.json")), typ: jopaycheckout.EventSessionCompleted, paid: true, known: true, id: "cs_9f3b2a"},
		{name: "expired", payload: `{"event":"checkout.session.expired","data":{"id":"cs_1","status":"expired"}}`, typ: jopaycheckout.EventSessionExpired, known: true, id: "cs_1"},
		{name: "payment failed, session still pending", payload: `{"event":"checkout.payment.failed","data":{"id":"cs_1","status":"pending"}}`, typ: jopaycheckout.EventPaymentFailed, known: true, id: "cs_1"},
		{name: "completed without status", payload: `{"event":"checkout.session.completed","data":{"id":"cs_1"}}`, typ: jopaycheckout.EventSessionCompleted, paid: true, known: true, id: "cs_1"},
		{name: "completed but status contradicts", payload: `{"event":"checkout.session.completed","data":{"id":"cs_1","status":"expired"}}`, typ: jopaycheckout.EventSessionCompleted, known: true, id: "cs_1"},
		{name: "unknown type passes through", payload: `{"event":"checkout.session.refunded","data":{"id":"cs_1","status":"refunded"}}`, typ: "checkout.session.refunded", id: "cs_1"},
		{name: "unknown type without data", payload: `{"event":"account.updated"}`, typ: "account.updated"},
		{name: "unknown type with odd data", payload: `{"event":"x.y","data":[1,2]}`, typ: "x.y"},
		{name: "numeric created_at", payload: `{"event":"checkout.session.expired","data":{"id":"cs_1"},"created_at":1736510701}`, typ: jopaycheckout.EventSessionExpired, known: true, id: "cs_1"},
		{name: "not JSON", payload: `event=checkout.session.completed`, wantErr: true},
		{name: "empty", payload: ``, wantErr: true},
		{name: "array", payload: `[{"event":"checkout.session.completed"}]`, wantErr: true},
		{name: "null", payload: `null`, wantErr: true},
		{name: "no event", payload: `{"data":{"id":"cs_1"}}`, wantErr: true},
		{name: "empty event", payload: `{"event":"","data":{"id":"cs_1"}}`, wantErr: true},
		{name: "event not a string", payload: `{"event":7,"data":{"id":"cs_1"}}`, wantErr: true},
		{name: "known without data", payload: `{"event":"checkout.session.completed"}`, wantErr: true},
		{name: "known with null data", payload: `{"event":"checkout.session.completed","data":null}`, wantErr: true},
		{name: "known without id", payload: `{"event":"checkout.session.completed","data":{"status":"completed"}}`, wantErr: true},
		{name: "known with bad amount", payload: `{"event":"checkout.session.completed","data":{"id":"cs_1","amount_cents":1.5}}`, wantErr: true},
		{name: "known with data not an object", payload: `{"event":"checkout.payment.failed","data":"cs_1"}`, wantErr: true},
		{name: "invalid UTF-8", payload: "{\"event\":\"checkout.session.expired\",\"data\":{\"id\":\"cs_1\",\"currency\":\"\xff\"}}", wantErr: true},
		{name: "trailing garbage", payload: `{"event":"checkout.session.expired","data":{"id":"cs_1"}} x`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := jopaycheckout.ParseEvent([]byte(tt.payload))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseEvent succeeded: %+v", e)
				}
				if !errors.Is(err, jopaycheckout.ErrInvalidEvent) || !errors.Is(err, webhook.ErrInvalidPayload) {
					t.Errorf("err = %v, want ErrInvalidEvent and webhook.ErrInvalidPayload", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Type != tt.typ || e.IsPaid() != tt.paid || e.Type.IsKnown() != tt.known || e.Data.ID != tt.id {
				t.Errorf("got type %q paid %v known %v id %q", e.Type, e.IsPaid(), e.Type.IsKnown(), e.Data.ID)
			}
			if string(e.Raw) != tt.payload {
				t.Errorf("Raw = %s", e.Raw)
			}
		})
	}
}

func TestEventDedupeKey(t *testing.T) {
	parse := func(s string) *jopaycheckout.Event {
		t.Helper()
		e, err := jopaycheckout.ParseEvent([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	completed1 := parse(`{"event":"checkout.session.completed","data":{"id":"cs_1"},"created_at":"2025-01-10T12:05:01Z"}`)
	completed1Again := parse(`{"event":"checkout.session.completed","data":{"id":"cs_1"},"created_at":"2025-01-10T12:06:30Z"}`)
	completed2 := parse(`{"event":"checkout.session.completed","data":{"id":"cs_2"}}`)
	expired1 := parse(`{"event":"checkout.session.expired","data":{"id":"cs_1"}}`)
	failedA := parse(`{"event":"checkout.payment.failed","data":{"id":"cs_1"},"created_at":"2025-01-10T12:01:00Z"}`)
	failedA2 := parse(`{"event":"checkout.payment.failed","data":{"id":"cs_1"},"created_at":"2025-01-10T12:01:00Z"}`)
	failedB := parse(`{"event":"checkout.payment.failed","data":{"id":"cs_1"},"created_at":"2025-01-10T12:02:00Z"}`)

	if jopaycheckout.DedupeKey(completed1) != jopaycheckout.DedupeKey(completed1Again) {
		t.Error("two deliveries of one session's completion have different keys")
	}
	if jopaycheckout.DedupeKey(completed1) != "jopaycheckout:cs_1:checkout.session.completed" {
		t.Errorf("key = %q", jopaycheckout.DedupeKey(completed1))
	}
	distinct := []*jopaycheckout.Event{completed1, completed2, expired1, failedA, failedB}
	seen := map[string]bool{}
	for _, e := range distinct {
		if seen[jopaycheckout.DedupeKey(e)] {
			t.Errorf("key %q shared by distinct events", jopaycheckout.DedupeKey(e))
		}
		seen[jopaycheckout.DedupeKey(e)] = true
	}
	if jopaycheckout.DedupeKey(failedA) != jopaycheckout.DedupeKey(failedA2) {
		t.Error("a redelivered payment.failed body got a new key")
	}
	if !strings.HasPrefix(jopaycheckout.DedupeKey(failedA), "jopaycheckout:cs_1:checkout.payment.failed:") {
		t.Errorf("failed key = %q", jopaycheckout.DedupeKey(failedA))
	}
	// Components are escaped: a colon in a session id cannot make two events share a key.
	odd := parse(`{"event":"checkout.session.completed","data":{"id":"cs:1%"}}`)
	if got := jopaycheckout.DedupeKey(odd); got != "jopaycheckout:cs%3A1%25:checkout.session.completed" {
		t.Errorf("escaped key = %q", got)
	}
	a := &jopaycheckout.Event{Type: "x:y", Data: jopaycheckout.Session{ID: "cs"}, Raw: []byte(`{}`)}
	b := &jopaycheckout.Event{Type: "y", Data: jopaycheckout.Session{ID: "cs:x"}, Raw: []byte(`{}`)}
	if jopaycheckout.DedupeKey(a) == jopaycheckout.DedupeKey(b) {
		t.Errorf("keys collide: %q", jopaycheckout.DedupeKey(a))
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add(apitest.Fixture(f, "webhook_session_completed.json"))
	f.Add(apitest.Fixture(f, "webhook_spec_example.json"))
	f.Add([]byte(`{"event":"checkout.payment.failed","data":{"id":"cs_1","status":"pending","amount_cents":"100","metadata":{"a":1}},"created_at":1736510701}`))
	f.Add([]byte(`{"event":"checkout.session.expired","data":{"id":12,"expires_at":"2025-01-10"}}`))
	f.Add([]byte(`{"event":"x","data":null}`))
	f.Add([]byte(`{"event":"checkout.session.completed","data":{"id":""}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := jopaycheckout.ParseEvent(payload)
		if err != nil {
			if e != nil {
				t.Fatal("event returned with an error")
			}
			if !errors.Is(err, webhook.ErrInvalidPayload) {
				t.Fatalf("error does not wrap ErrInvalidPayload: %v", err)
			}
			return
		}
		if e.Type == "" {
			t.Fatal("parsed event without a type")
		}
		if e.Type.IsKnown() && e.Data.ID == "" {
			t.Fatal("known event without a session id")
		}
		if string(e.Raw) != string(payload) {
			t.Fatal("Raw differs from the payload")
		}
		if jopaycheckout.DedupeKey(e) == "" {
			t.Fatal("empty dedupe key")
		}
		if e.IsPaid() && e.Type != jopaycheckout.EventSessionCompleted {
			t.Fatal("paid without a completed event")
		}
	})
}
