package jopaycheckout_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/webhook"
)

// The seed's webhook payload, decoded field by field.
func TestParseEventSeedPayload(t *testing.T) {
	payload := apitest.Fixture(t, "webhook_session_completed.json")
	got, err := jopaycheckout.ParseEvent(payload)
	require.NoError(t, err)
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
	assert.Empty(t, cmp.Diff(want, got), "event mismatch (-want +got)")
	assert.True(t, got.IsPaid(), "IsPaid = false for the completed seed event")
	assert.Equal(t, "12345", got.OrderID(), "OrderID")
	assert.Equal(t, "12345", got.Data.OrderID(), "OrderID = %q", got.OrderID())
	payload[0] = ' ' // Raw is a copy
	assert.Equal(t, byte('{'), got.Raw[0], "Raw aliases the caller's buffer")
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
				require.Error(t, err, "ParseEvent succeeded: %+v", e)
				assert.ErrorIs(t, err, jopaycheckout.ErrInvalidEvent)
				assert.ErrorIs(t, err, webhook.ErrInvalidPayload)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.typ, e.Type, "type")
			assert.Equal(t, tt.paid, e.IsPaid(), "IsPaid")
			assert.Equal(t, tt.known, e.Type.IsKnown(), "IsKnown")
			assert.Equal(t, tt.id, e.Data.ID, "id")
			assert.Equal(t, tt.payload, string(e.Raw), "Raw")
		})
	}
}

func TestEventDedupeKey(t *testing.T) {
	parse := func(s string) *jopaycheckout.Event {
		t.Helper()
		e, err := jopaycheckout.ParseEvent([]byte(s))
		require.NoError(t, err)
		return e
	}
	completed1 := parse(`{"event":"checkout.session.completed","data":{"id":"cs_1"},"created_at":"2025-01-10T12:05:01Z"}`)
	completed1Again := parse(`{"event":"checkout.session.completed","data":{"id":"cs_1"},"created_at":"2025-01-10T12:06:30Z"}`)
	completed2 := parse(`{"event":"checkout.session.completed","data":{"id":"cs_2"}}`)
	expired1 := parse(`{"event":"checkout.session.expired","data":{"id":"cs_1"}}`)
	failedA := parse(`{"event":"checkout.payment.failed","data":{"id":"cs_1"},"created_at":"2025-01-10T12:01:00Z"}`)
	failedA2 := parse(`{"event":"checkout.payment.failed","data":{"id":"cs_1"},"created_at":"2025-01-10T12:01:00Z"}`)
	failedB := parse(`{"event":"checkout.payment.failed","data":{"id":"cs_1"},"created_at":"2025-01-10T12:02:00Z"}`)

	assert.Equal(t, jopaycheckout.DedupeKey(completed1), jopaycheckout.DedupeKey(completed1Again), "two deliveries of one session's completion have different keys")
	assert.Equal(t, "jopaycheckout:cs_1:checkout.session.completed", jopaycheckout.DedupeKey(completed1), "key")
	distinct := []*jopaycheckout.Event{completed1, completed2, expired1, failedA, failedB}
	seen := map[string]bool{}
	for _, e := range distinct {
		assert.False(t, seen[jopaycheckout.DedupeKey(e)], "key %q shared by distinct events", jopaycheckout.DedupeKey(e))
		seen[jopaycheckout.DedupeKey(e)] = true
	}
	assert.Equal(t, jopaycheckout.DedupeKey(failedA), jopaycheckout.DedupeKey(failedA2), "a redelivered payment.failed body got a new key")
	assert.True(t, strings.HasPrefix(jopaycheckout.DedupeKey(failedA), "jopaycheckout:cs_1:checkout.payment.failed:"), "failed key = %q", jopaycheckout.DedupeKey(failedA))
	// Components are escaped: a colon in a session id cannot make two events share a key.
	odd := parse(`{"event":"checkout.session.completed","data":{"id":"cs:1%"}}`)
	assert.Equal(t, "jopaycheckout:cs%3A1%25:checkout.session.completed", jopaycheckout.DedupeKey(odd), "escaped key")
	a := &jopaycheckout.Event{Type: "x:y", Data: jopaycheckout.Session{ID: "cs"}, Raw: []byte(`{}`)}
	b := &jopaycheckout.Event{Type: "y", Data: jopaycheckout.Session{ID: "cs:x"}, Raw: []byte(`{}`)}
	assert.NotEqual(t, jopaycheckout.DedupeKey(a), jopaycheckout.DedupeKey(b), "keys collide")
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
			require.Nil(t, e, "event returned with an error")
			require.ErrorIs(t, err, webhook.ErrInvalidPayload, "error does not wrap ErrInvalidPayload")
			return
		}
		require.NotEmpty(t, e.Type, "parsed event without a type")
		if e.Type.IsKnown() {
			require.NotEmpty(t, e.Data.ID, "known event without a session id")
		}
		require.Equal(t, string(payload), string(e.Raw), "Raw differs from the payload")
		require.NotEmpty(t, jopaycheckout.DedupeKey(e), "empty dedupe key")
		if e.IsPaid() {
			require.Equal(t, jopaycheckout.EventSessionCompleted, e.Type, "paid without a completed event")
		}
	})
}
