package jopaycheckout_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paykit-go/paykit/jopaycheckout"
)

func TestSessionDecodesTolerantly(t *testing.T) {
	tests := []struct {
		name string
		json string
		want jopaycheckout.Session
	}{
		{
			"version A",
			`{"id":"cs_1","url":"https://jopay.me/checkout/cs_1","status":"open","amount_cents":100,"currency":"usd"}`,
			jopaycheckout.Session{ID: "cs_1", URL: "https://jopay.me/checkout/cs_1", Status: jopaycheckout.StatusOpen, RawStatus: "open", AmountCents: 100, Currency: "usd"},
		},
		{
			"version B pending maps to open",
			`{"id":"cs_1","checkout_url":"https://jopay.me/checkout/cs_1","status":"pending","amount_cents":100,"currency":"usd"}`,
			jopaycheckout.Session{ID: "cs_1", URL: "https://jopay.me/checkout/cs_1", Status: jopaycheckout.StatusOpen, RawStatus: "pending", AmountCents: 100, Currency: "usd"},
		},
		{
			"url preferred when both are sent",
			`{"id":"cs_1","url":"https://a/1","checkout_url":"https://b/1","status":"expired"}`,
			jopaycheckout.Session{ID: "cs_1", URL: "https://a/1", Status: jopaycheckout.StatusExpired, RawStatus: "expired"},
		},
		{
			"numbers as strings, unix times, numeric id",
			`{"id":12345,"status":"completed","amount_cents":"2500","expires_at":1736514000,"created_at":"1736510400","completed_at":1736510700000}`,
			jopaycheckout.Session{ID: "12345", Status: jopaycheckout.StatusCompleted, RawStatus: "completed", AmountCents: 2500,
				ExpiresAt: time.Unix(1736514000, 0).UTC(), CreatedAt: time.Unix(1736510400, 0).UTC(), CompletedAt: time.Unix(1736510700, 0).UTC()},
		},
		{
			"unknown status passes through",
			`{"id":"cs_1","status":"refunded"}`,
			jopaycheckout.Session{ID: "cs_1", Status: "refunded", RawStatus: "refunded"},
		},
		{
			"status case and nulls",
			`{"id":"cs_1","status":"COMPLETED","customer_email":null,"completed_at":null,"metadata":null}`,
			jopaycheckout.Session{ID: "cs_1", Status: jopaycheckout.StatusCompleted, RawStatus: "COMPLETED"},
		},
		{
			"metadata values that are not strings",
			`{"id":"cs_1","metadata":{"order_id":12345,"gift":true,"note":null,"tags":[ "a", "b" ],"s":"x"}}`,
			jopaycheckout.Session{ID: "cs_1", Metadata: map[string]string{"order_id": "12345", "gift": "true", "note": "", "tags": `["a","b"]`, "s": "x"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got jopaycheckout.Session
			if err := json.Unmarshal([]byte(tt.json), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSessionDecodeErrors(t *testing.T) {
	for _, in := range []string{
		`{"id":"cs_1","amount_cents":25.5}`,
		`{"id":"cs_1","amount_cents":"lots"}`,
		`{"id":"cs_1","expires_at":"tomorrow"}`,
		`{"id":{"x":1}}`,
		`{"id":"cs_1","metadata":"order=1"}`,
		`[]`,
	} {
		var s jopaycheckout.Session
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("%s decoded without error: %+v", in, s)
		}
	}
}

func TestSessionJSONRoundTrip(t *testing.T) {
	in := jopaycheckout.Session{
		ID: "cs_1", URL: "https://jopay.me/checkout/cs_1", Status: jopaycheckout.StatusOpen, RawStatus: "pending",
		AmountCents: 2500, Currency: "eur", CustomerEmail: "a@b.example", Metadata: map[string]string{"order_id": "1"},
		ExpiresAt: mustTime(t, "2025-01-10T13:00:00Z"), CreatedAt: mustTime(t, "2025-01-10T12:00:00Z"),
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":"cs_1","url":"https://jopay.me/checkout/cs_1","status":"pending","amount_cents":2500,"currency":"eur","customer_email":"a@b.example","metadata":{"order_id":"1"},"expires_at":"2025-01-10T13:00:00Z","created_at":"2025-01-10T12:00:00Z"}`
	if string(b) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", b, want)
	}
	var out jopaycheckout.Session
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
}

func TestSessionIsPaid(t *testing.T) {
	var nilSession *jopaycheckout.Session
	for s, want := range map[*jopaycheckout.Session]bool{
		{Status: jopaycheckout.StatusCompleted}: true,
		{Status: jopaycheckout.StatusOpen}:      false,
		{Status: jopaycheckout.StatusExpired}:   false,
		{Status: "refunded"}:                    false,
		nilSession:                              false,
	} {
		if got := s.IsPaid(); got != want {
			t.Errorf("%+v.IsPaid() = %v", s, got)
		}
	}
}
