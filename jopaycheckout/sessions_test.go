package jopaycheckout_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/jopaycheckout"
)

// The documented request (line_items) and version B's documented response.
func TestCreateSessionLineItems(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/api/checkout/v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, http.MethodPost)
		testHeaders(t, r, true)
		assert.Empty(t, r.Header.Get("Idempotency-Key"), "undocumented Idempotency-Key sent")
		apitest.JSONBody(t, r, apitest.Fixture(t, "create_request_line_items.json"))
		apitest.ServeFixture(t, w, http.StatusOK, "create_response_version_b.json")
	})
	got, err := c.CreateSession(context.Background(), jopaycheckout.CreateSessionParams{
		LineItems:     []jopaycheckout.LineItem{{Name: "Premium Coffee Beans", Amount: 2500, Currency: "EUR", Quantity: 1}},
		CustomerEmail: "customer@example.com",
		SuccessURL:    "https://yoursite.com/success",
		CancelURL:     "https://yoursite.com/cancel",
		Metadata:      map[string]string{"order_id": "12345"},
	})
	require.NoError(t, err)
	want := &jopaycheckout.Session{
		ID:          "cs_a1b2c3d4e5f6",
		URL:         "https://jopay.me/checkout/cs_a1b2c3d4e5f6",
		Status:      jopaycheckout.StatusOpen,
		RawStatus:   "pending",
		AmountCents: 2500,
		Currency:    "eur",
		ExpiresAt:   mustTime(t, "2025-01-10T13:00:00Z"),
	}
	assert.Empty(t, cmp.Diff(want, got), "session mismatch (-want +got)")
}

// Version A: amount_cents + currency + billing_details, answered with url and "open".
func TestCreateSessionAmount(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/api/checkout/v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, http.MethodPost)
		testHeaders(t, r, true)
		apitest.JSONBody(t, r, apitest.Fixture(t, "create_request_amount.json"))
		apitest.ServeFixture(t, w, http.StatusCreated, "create_response_version_a.json")
	})
	got, err := c.CreateSession(context.Background(), jopaycheckout.CreateSessionParams{
		AmountCents:    4200,
		Currency:       "eur",
		BillingDetails: &jopaycheckout.BillingDetails{Name: "Ana Silva", Address: "Rua Augusta 1, Lisboa", TaxID: "PT123456789"},
		CustomerEmail:  "ana@example.org",
		SuccessURL:     "https://shop.example/success",
		CancelURL:      "https://shop.example/cancel",
		Metadata:       map[string]string{"cart": "C-77"},
	})
	require.NoError(t, err)
	want := &jopaycheckout.Session{
		ID:          "cs_9f3b2a",
		URL:         "https://jopay.me/checkout/cs_9f3b2a",
		Status:      jopaycheckout.StatusOpen,
		RawStatus:   "open",
		AmountCents: 4200,
		Currency:    "eur",
		ExpiresAt:   mustTime(t, "2025-01-10T13:00:00Z"),
	}
	assert.Empty(t, cmp.Diff(want, got), "session mismatch (-want +got)")
}

func TestGetSession(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/api/checkout/v1/sessions/cs_a1b2c3d4e5f6", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, http.MethodGet)
		testHeaders(t, r, false)
		b, _ := io.ReadAll(r.Body)
		assert.Empty(t, b, "GET carried a body")
		apitest.ServeFixture(t, w, http.StatusOK, "get_session_completed.json")
	})
	got, err := c.GetSession(context.Background(), "cs_a1b2c3d4e5f6")
	require.NoError(t, err)
	want := &jopaycheckout.Session{
		ID:            "cs_a1b2c3d4e5f6",
		URL:           "https://jopay.me/checkout/cs_a1b2c3d4e5f6",
		Status:        jopaycheckout.StatusCompleted,
		RawStatus:     "completed",
		AmountCents:   2500,
		Currency:      "eur",
		CustomerEmail: "customer@example.com",
		Metadata:      map[string]string{"order_id": "12345"},
		CreatedAt:     mustTime(t, "2025-01-10T12:00:00Z"),
		ExpiresAt:     mustTime(t, "2025-01-10T13:00:00Z"),
		CompletedAt:   mustTime(t, "2025-01-10T12:05:00Z"),
	}
	assert.Empty(t, cmp.Diff(want, got), "session mismatch (-want +got)")
	assert.True(t, got.IsPaid(), "IsPaid = false for a completed session")
}

func TestGetSessionErrors(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/api/checkout/v1/sessions/cs_missing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"session_not_found","message":"No such checkout session"}`))
	})
	mux.HandleFunc("/api/checkout/v1/sessions/cs_noid", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"status":"open"}`))
	})
	mux.HandleFunc("/api/checkout/v1/sessions/cs_html", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<html>oops</html>`))
	})
	ctx := context.Background()

	_, err := c.GetSession(ctx, "cs_missing")
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.Status, "error = %+v", apiErr)
	assert.Equal(t, "session_not_found", apiErr.Code, "error = %+v", apiErr)
	assert.Equal(t, "No such checkout session", apiErr.Message, "error = %+v", apiErr)
	assert.Equal(t, "jopaycheckout", apiErr.Provider, "error = %+v", apiErr)
	assert.Equal(t, "jopaycheckout: 404 session_not_found: No such checkout session", err.Error(), "Error()")

	_, err = c.GetSession(ctx, "cs_noid")
	assert.ErrorIs(t, err, paykit.ErrInvalidResponse, "response without id")
	_, err = c.GetSession(ctx, "cs_html")
	assert.ErrorIs(t, err, paykit.ErrInvalidResponse, "non-JSON 200")
	for _, id := range []string{"", "../admin", "cs_1?x=1", "cs 1", "cs_1/2", strings.Repeat("a", 256)} {
		_, err := c.GetSession(ctx, id)
		var ve *paykit.ValidationError
		if assert.ErrorAs(t, err, &ve, "GetSession(%q): want ValidationError for id", id) {
			assert.Equal(t, "id", ve.Field, "GetSession(%q): ValidationError field", id)
		}
		assert.ErrorIs(t, err, jopaycheckout.ErrInvalidSessionID, "GetSession(%q)", id)
	}
}

func TestCreateSessionResponseProblems(t *testing.T) {
	mux, c := setup(t)
	body := `{"id":"cs_nourl","status":"open"}`
	mux.HandleFunc("/api/checkout/v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(body))
	})
	p := validParams()
	s, err := c.CreateSession(context.Background(), p)
	assert.ErrorIs(t, err, paykit.ErrInvalidResponse, "no URL")
	if assert.NotNil(t, s, "no URL: want the session") {
		assert.Equal(t, "cs_nourl", s.ID, "no URL: session")
	}
	body = `{"checkout_url":"https://x/y","status":"open"}`
	s, err = c.CreateSession(context.Background(), p)
	assert.ErrorIs(t, err, paykit.ErrInvalidResponse, "no id")
	assert.Nil(t, s, "no id: session")
}

func TestCreateSessionAPIError(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/api/checkout/v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req_77")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_currency","message":"currency must be eur, usd or gbp"}`))
	})
	_, err := c.CreateSession(context.Background(), validParams())
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "invalid_currency", apiErr.Code, "err = %v (%+v)", err, apiErr)
	require.Equal(t, "req_77", apiErr.RequestID, "err = %v (%+v)", err, apiErr)
	require.False(t, apiErr.Retryable(), "err = %v (%+v)", err, apiErr)
	assert.NotErrorIs(t, err, paykit.ErrUnknownOutcome, "a 400 is a definite answer, not an unknown outcome")
}

func validParams() jopaycheckout.CreateSessionParams {
	return jopaycheckout.CreateSessionParams{
		LineItems:  []jopaycheckout.LineItem{{Name: "Coffee", Amount: 2500, Currency: "eur", Quantity: 2}},
		SuccessURL: "https://shop.example/success",
		CancelURL:  "https://shop.example/cancel",
	}
}

func TestCreateSessionValidation(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(p *jopaycheckout.CreateSessionParams)
		field  string
		reason string
	}{
		{"neither style", func(p *jopaycheckout.CreateSessionParams) { p.LineItems = nil }, "line_items", "required"},
		{"both styles", func(p *jopaycheckout.CreateSessionParams) { p.AmountCents, p.Currency = 100, "eur" }, "line_items", "not both"},
		{"billing details with line items", func(p *jopaycheckout.CreateSessionParams) {
			p.BillingDetails = &jopaycheckout.BillingDetails{Name: "A"}
		}, "line_items", "not both"},
		{"item without name", func(p *jopaycheckout.CreateSessionParams) { p.LineItems[0].Name = " " }, "line_items[0].name", "required"},
		{"item amount zero", func(p *jopaycheckout.CreateSessionParams) { p.LineItems[0].Amount = 0 }, "line_items[0].amount", "positive"},
		{"item amount negative", func(p *jopaycheckout.CreateSessionParams) { p.LineItems[0].Amount = -5 }, "line_items[0].amount", "positive"},
		{"item quantity zero", func(p *jopaycheckout.CreateSessionParams) { p.LineItems[0].Quantity = 0 }, "line_items[0].quantity", "at least 1"},
		{"item currency missing", func(p *jopaycheckout.CreateSessionParams) { p.LineItems[0].Currency = "" }, "line_items[0].currency", "required"},
		{"item currency bad", func(p *jopaycheckout.CreateSessionParams) { p.LineItems[0].Currency = "eu1" }, "line_items[0].currency", "three-letter"},
		{"mixed currencies", func(p *jopaycheckout.CreateSessionParams) {
			p.LineItems = append(p.LineItems, jopaycheckout.LineItem{Name: "Mug", Amount: 900, Currency: "usd", Quantity: 1})
		}, "line_items[1].currency", "one currency"},
		{"total overflow", func(p *jopaycheckout.CreateSessionParams) {
			p.LineItems = append(p.LineItems, jopaycheckout.LineItem{Name: "Gold", Amount: 1 << 62, Currency: "eur", Quantity: 2})
		}, "line_items[1].amount", "overflows"},
		{"amount style without currency", func(p *jopaycheckout.CreateSessionParams) { p.LineItems, p.AmountCents = nil, 100 }, "currency", "required"},
		{"amount style zero amount", func(p *jopaycheckout.CreateSessionParams) { p.LineItems, p.Currency = nil, "eur" }, "amount_cents", "positive"},
		{"amount style negative", func(p *jopaycheckout.CreateSessionParams) { p.LineItems, p.AmountCents, p.Currency = nil, -1, "eur" }, "amount_cents", "positive"},
		{"success URL missing", func(p *jopaycheckout.CreateSessionParams) { p.SuccessURL = "" }, "success_url", "required"},
		{"success URL relative", func(p *jopaycheckout.CreateSessionParams) { p.SuccessURL = "/success" }, "success_url", "absolute"},
		{"success URL ftp", func(p *jopaycheckout.CreateSessionParams) { p.SuccessURL = "ftp://shop.example/s" }, "success_url", "absolute"},
		{"success URL with fragment", func(p *jopaycheckout.CreateSessionParams) { p.SuccessURL = "https://shop.example/#/done" }, "success_url", "fragment"},
		{"cancel URL missing", func(p *jopaycheckout.CreateSessionParams) { p.CancelURL = "" }, "cancel_url", "required"},
		{"cancel URL no host", func(p *jopaycheckout.CreateSessionParams) { p.CancelURL = "https:///cancel" }, "cancel_url", "absolute"},
		{"bad email", func(p *jopaycheckout.CreateSessionParams) { p.CustomerEmail = "not-an-email" }, "customer_email", "email"},
		{"email with display name", func(p *jopaycheckout.CreateSessionParams) { p.CustomerEmail = "Ana <ana@example.org>" }, "customer_email", "plain"},
		{"empty metadata key", func(p *jopaycheckout.CreateSessionParams) { p.Metadata = map[string]string{"": "x"} }, "metadata", "empty"},
		{"idempotency key without header option", func(p *jopaycheckout.CreateSessionParams) {
			p.IdempotencyKey = "order-12345-attempt-1-aaaaaaaaaaaaaaaa"
		}, "idempotency_key", "WithIdempotencyHeader"},
	}
	calls := 0
	mux, c := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { calls++ })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validParams()
			tt.edit(&p)
			_, err := c.CreateSession(context.Background(), p)
			var ve *paykit.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field, "field")
			assert.Contains(t, ve.Reason, tt.reason, "reason")
		})
	}
	assert.Equal(t, 0, calls, "requests were sent for invalid params")
}

func TestCreateSessionParamsTotal(t *testing.T) {
	p := validParams()
	p.LineItems = append(p.LineItems, jopaycheckout.LineItem{Name: "Mug", Amount: 900, Currency: "EUR", Quantity: 3})
	got, ok := p.Total()
	assert.True(t, ok, "Total = %d, %v", got, ok)
	assert.Equal(t, int64(2*2500+3*900), got, "Total")
	a := jopaycheckout.CreateSessionParams{AmountCents: 4200, Currency: "eur", SuccessURL: "https://a.example/s", CancelURL: "https://a.example/c"}
	got, ok = a.Total()
	assert.True(t, ok, "Total = %d, %v", got, ok)
	assert.Equal(t, int64(4200), got, "Total")
	_, ok = (jopaycheckout.CreateSessionParams{}).Total()
	assert.False(t, ok, "Total of invalid params reported ok")
}

// With WithIdempotencyHeader, the key travels in that header (generated when empty).
func TestCreateSessionIdempotencyHeader(t *testing.T) {
	mux, c := setup(t, jopaycheckout.WithIdempotencyHeader("Idempotency-Key"))
	var keys []string
	mux.HandleFunc("/api/checkout/v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		apitest.ServeFixture(t, w, http.StatusOK, "create_response_version_b.json")
	})
	p := validParams()
	p.IdempotencyKey = "order-12345-0123456789abcdef0123456789"
	_, err := c.CreateSession(context.Background(), p)
	require.NoError(t, err)
	p.IdempotencyKey = ""
	_, err = c.CreateSession(context.Background(), p)
	require.NoError(t, err)
	if assert.Len(t, keys, 2, "keys sent = %q", keys) {
		assert.Equal(t, "order-12345-0123456789abcdef0123456789", keys[0], "caller's key")
		assert.GreaterOrEqual(t, len(keys[1]), 32, "generated key %q", keys[1])
	}
	p.IdempotencyKey = "short"
	_, err = c.CreateSession(context.Background(), p)
	var ve *paykit.ValidationError
	if assert.ErrorAs(t, err, &ve, "short key") {
		assert.Equal(t, "idempotency_key", ve.Field, "short key: err = %v", err)
	}
}

func TestValidateSessionID(t *testing.T) {
	for _, id := range []string{"cs_a1b2c3d4e5f6", "cs_fake_000001", "CS-1", strings.Repeat("a", 255)} {
		assert.NoError(t, jopaycheckout.ValidateSessionID(id), "ValidateSessionID(%q)", id)
	}
	for _, id := range []string{"", "..", "cs_1.2", "cs/1", "cs%2F1", "cs_1\n", "çs_1", strings.Repeat("a", 256)} {
		err := jopaycheckout.ValidateSessionID(id)
		var ve *paykit.ValidationError
		if assert.ErrorAs(t, err, &ve, "ValidateSessionID(%q)", id) {
			assert.Equal(t, "session_id", ve.Field, "ValidateSessionID(%q) = %v", id, err)
		}
		assert.ErrorIs(t, err, jopaycheckout.ErrInvalidSessionID, "ValidateSessionID(%q)", id)
	}
}

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
			require.NoError(t, json.Unmarshal([]byte(tt.json), &got))
			assert.Empty(t, cmp.Diff(tt.want, got), "mismatch (-want +got)")
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
		assert.Error(t, json.Unmarshal([]byte(in), &s), "%s decoded without error: %+v", in, s)
	}
}

func TestSessionJSONRoundTrip(t *testing.T) {
	in := jopaycheckout.Session{
		ID: "cs_1", URL: "https://jopay.me/checkout/cs_1", Status: jopaycheckout.StatusOpen, RawStatus: "pending",
		AmountCents: 2500, Currency: "eur", CustomerEmail: "a@b.example", Metadata: map[string]string{"order_id": "1"},
		ExpiresAt: mustTime(t, "2025-01-10T13:00:00Z"), CreatedAt: mustTime(t, "2025-01-10T12:00:00Z"),
	}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	const want = `{"id":"cs_1","url":"https://jopay.me/checkout/cs_1","status":"pending","amount_cents":2500,"currency":"eur","customer_email":"a@b.example","metadata":{"order_id":"1"},"expires_at":"2025-01-10T13:00:00Z","created_at":"2025-01-10T12:00:00Z"}`
	assert.Equal(t, want, string(b), "Marshal")
	var out jopaycheckout.Session
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Empty(t, cmp.Diff(in, out), "round trip (-in +out)")
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
		assert.Equal(t, want, s.IsPaid(), "%+v.IsPaid()", s)
	}
}
