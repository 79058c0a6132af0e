package jopaycheckout_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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
		if v := r.Header.Get("Idempotency-Key"); v != "" {
			t.Errorf("undocumented Idempotency-Key sent: %q", v)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	want := &jopaycheckout.Session{
		ID:          "cs_a1b2c3d4e5f6",
		URL:         "https://jopay.me/checkout/cs_a1b2c3d4e5f6",
		Status:      jopaycheckout.StatusOpen,
		RawStatus:   "pending",
		AmountCents: 2500,
		Currency:    "eur",
		ExpiresAt:   mustTime(t, "2025-01-10T13:00:00Z"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session mismatch (-want +got):\n%s", diff)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	want := &jopaycheckout.Session{
		ID:          "cs_9f3b2a",
		URL:         "https://jopay.me/checkout/cs_9f3b2a",
		Status:      jopaycheckout.StatusOpen,
		RawStatus:   "open",
		AmountCents: 4200,
		Currency:    "eur",
		ExpiresAt:   mustTime(t, "2025-01-10T13:00:00Z"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session mismatch (-want +got):\n%s", diff)
	}
}

func TestGetSession(t *testing.T) {
	mux, c := setup(t)
	mux.HandleFunc("/api/checkout/v1/sessions/cs_a1b2c3d4e5f6", func(w http.ResponseWriter, r *http.Request) {
		apitest.Method(t, r, http.MethodGet)
		testHeaders(t, r, false)
		if b, _ := io.ReadAll(r.Body); len(b) != 0 {
			t.Errorf("GET carried a body: %s", b)
		}
		apitest.ServeFixture(t, w, http.StatusOK, "get_session_completed.json")
	})
	got, err := c.GetSession(context.Background(), "cs_a1b2c3d4e5f6")
	if err != nil {
		t.Fatal(err)
	}
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
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session mismatch (-want +got):\n%s", diff)
	}
	if !got.IsPaid() {
		t.Error("IsPaid = false for a completed session")
	}
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
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if apiErr.Status != 404 || apiErr.Code != "session_not_found" || apiErr.Message != "No such checkout session" || apiErr.Provider != "jopaycheckout" {
		t.Errorf("error = %+v", apiErr)
	}
	if got := err.Error(); got != "jopaycheckout: 404 session_not_found: No such checkout session" {
		t.Errorf("Error() = %q", got)
	}

	if _, err := c.GetSession(ctx, "cs_noid"); !errors.Is(err, paykit.ErrInvalidResponse) {
		t.Errorf("response without id: err = %v", err)
	}
	if _, err := c.GetSession(ctx, "cs_html"); !errors.Is(err, paykit.ErrInvalidResponse) {
		t.Errorf("non-JSON 200: err = %v", err)
	}
	for _, id := range []string{"", "../admin", "cs_1?x=1", "cs 1", "cs_1/2", strings.Repeat("a", 256)} {
		_, err := c.GetSession(ctx, id)
		var ve *paykit.ValidationError
		if !errors.As(err, &ve) || ve.Field != "id" || !errors.Is(err, jopaycheckout.ErrInvalidSessionID) {
			t.Errorf("GetSession(%q): err = %v, want ValidationError for id", id, err)
		}
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
	if !errors.Is(err, paykit.ErrInvalidResponse) || s == nil || s.ID != "cs_nourl" {
		t.Errorf("no URL: session %v, err %v; want the session and ErrInvalidResponse", s, err)
	}
	body = `{"checkout_url":"https://x/y","status":"open"}`
	if s, err := c.CreateSession(context.Background(), p); !errors.Is(err, paykit.ErrInvalidResponse) || s != nil {
		t.Errorf("no id: session %v, err %v", s, err)
	}
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
	if !errors.As(err, &apiErr) || apiErr.Code != "invalid_currency" || apiErr.RequestID != "req_77" || apiErr.Retryable() {
		t.Fatalf("err = %v (%+v)", err, apiErr)
	}
	if errors.Is(err, paykit.ErrUnknownOutcome) {
		t.Error("a 400 is a definite answer, not an unknown outcome")
	}
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
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if ve.Field != tt.field || !strings.Contains(ve.Reason, tt.reason) {
				t.Errorf("got field %q reason %q; want field %q reason containing %q", ve.Field, ve.Reason, tt.field, tt.reason)
			}
		})
	}
	if calls != 0 {
		t.Errorf("%d requests were sent for invalid params", calls)
	}
}

func TestCreateSessionParamsTotal(t *testing.T) {
	p := validParams()
	p.LineItems = append(p.LineItems, jopaycheckout.LineItem{Name: "Mug", Amount: 900, Currency: "EUR", Quantity: 3})
	if got, ok := p.Total(); !ok || got != 2*2500+3*900 {
		t.Errorf("Total = %d, %v", got, ok)
	}
	a := jopaycheckout.CreateSessionParams{AmountCents: 4200, Currency: "eur", SuccessURL: "https://a.example/s", CancelURL: "https://a.example/c"}
	if got, ok := a.Total(); !ok || got != 4200 {
		t.Errorf("Total = %d, %v", got, ok)
	}
	if _, ok := (jopaycheckout.CreateSessionParams{}).Total(); ok {
		t.Error("Total of invalid params reported ok")
	}
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
	if _, err := c.CreateSession(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	p.IdempotencyKey = ""
	if _, err := c.CreateSession(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "order-12345-0123456789abcdef0123456789" || len(keys[1]) < 32 {
		t.Errorf("keys sent = %q", keys)
	}
	p.IdempotencyKey = "short"
	_, err := c.CreateSession(context.Background(), p)
	var ve *paykit.ValidationError
	if !errors.As(err, &ve) || ve.Field != "idempotency_key" {
		t.Errorf("short key: err = %v", err)
	}
}

func TestValidateSessionID(t *testing.T) {
	for _, id := range []string{"cs_a1b2c3d4e5f6", "cs_fake_000001", "CS-1", strings.Repeat("a", 255)} {
		if err := jopaycheckout.ValidateSessionID(id); err != nil {
			t.Errorf("ValidateSessionID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", "..", "cs_1.2", "cs/1", "cs%2F1", "cs_1\n", "çs_1", strings.Repeat("a", 256)} {
		err := jopaycheckout.ValidateSessionID(id)
		var ve *paykit.ValidationError
		if !errors.As(err, &ve) || ve.Field != "session_id" || !errors.Is(err, jopaycheckout.ErrInvalidSessionID) {
			t.Errorf("ValidateSessionID(%q) = %v", id, err)
		}
	}
}
