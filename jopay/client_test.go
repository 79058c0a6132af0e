package jopay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/jopay"
)

const testKey = "jo_test_k3y_0123456789abcdef"

// setup starts a mux-backed server and a client pointed at it, go-github style.
func setup(t *testing.T, opts ...jopay.Option) (*jopay.Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := []jopay.Option{jopay.WithBaseURL(srv.URL + "/api/v1"), jopay.WithRetryWait(time.Millisecond, 5*time.Millisecond)}
	c, err := jopay.NewClient(testKey, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, mux
}

// checkRequest asserts method, the standard headers, and the JSON body (nil: no body).
func checkRequest(t *testing.T, r *http.Request, method string, wantBody map[string]any) {
	t.Helper()
	if r.Method != method {
		t.Errorf("method = %s, want %s", r.Method, method)
	}
	if got, want := r.Header.Get("Authorization"), "Bearer "+testKey; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "paykit-go/"+paykit.Version) || !strings.Contains(ua, "jopay") {
		t.Errorf("User-Agent = %q", ua)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	body, _ := io.ReadAll(r.Body)
	if wantBody == nil {
		if len(body) != 0 {
			t.Errorf("unexpected body %s", body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "" {
			t.Errorf("Content-Type = %q on a request without body", ct)
		}
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if diff := cmp.Diff(wantBody, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

// documentedRequest is testdata/request_object.json decoded by hand.
var documentedRequest = &jopay.PaymentRequest{
	ID:          "7b2e9c1a-4d3f-4e8b-9a6c-1f2e3d4c5b6a",
	Status:      jopay.StatusRequested,
	ProofStatus: jopay.ProofStatusNone,
	PayPageURL:  "https://pay.jopay.app/7b2e9c1a-4d3f-4e8b-9a6c-1f2e3d4c5b6a",
	CreatedAt:   time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC),
	ExpiresAt:   time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC),
	Amount:      jopay.Amount{FiatInt: 275, FiatCode: "USD", USDCMicro: 2_750_000},
	MerchantID:  "b4d5c6e7-1f20-4a3b-8c4d-5e6f70819203",
	Metadata:    map[string]string{"order_id": "A-1001", "customer_id": "C-77"},
}

func TestNewClient(t *testing.T) {
	cases := []struct {
		name    string
		key     string
		opts    []jopay.Option
		wantErr string
		wantURL string
	}{
		{"slug", testKey, []jopay.Option{jopay.WithSlug("acme-shop")}, "", "https://acme-shop.jopay.app/api/v1"},
		{"base URL", testKey, []jopay.Option{jopay.WithBaseURL(jopay.AdminBaseURL + "/")}, "", "https://admin.jopay.app/api/v1"},
		{"empty key", "", []jopay.Option{jopay.WithSlug("acme")}, "empty API key", ""},
		{"blank key", "   ", []jopay.Option{jopay.WithSlug("acme")}, "empty API key", ""},
		{"key with newline", "jo_test_x\r\nX-Evil: 1", []jopay.Option{jopay.WithSlug("acme")}, "whitespace", ""},
		{"no host option", testKey, nil, "WithSlug(slug) or WithBaseURL(url) is required", ""},
		{"both", testKey, []jopay.Option{jopay.WithSlug("a"), jopay.WithBaseURL("https://x.test")}, "not both", ""},
		{"slug with dot", testKey, []jopay.Option{jopay.WithSlug("evil.com/x")}, "invalid slug", ""},
		{"slug upper", testKey, []jopay.Option{jopay.WithSlug("Acme")}, "invalid slug", ""},
		{"slug leading hyphen", testKey, []jopay.Option{jopay.WithSlug("-acme")}, "invalid slug", ""},
		{"slug too long", testKey, []jopay.Option{jopay.WithSlug(strings.Repeat("a", 64))}, "invalid slug", ""},
		{"bad base URL", testKey, []jopay.Option{jopay.WithBaseURL("ftp://x")}, "scheme", ""},
		{"retries", testKey, []jopay.Option{jopay.WithSlug("a"), jopay.WithMaxRetries(11)}, "max retries", ""},
		{"nil http client", testKey, []jopay.Option{jopay.WithSlug("a"), jopay.WithHTTPClient(nil)}, "nil *http.Client", ""},
		{"nil logger", testKey, []jopay.Option{jopay.WithSlug("a"), jopay.WithLogger(nil)}, "nil *slog.Logger", ""},
		{"bad user agent", testKey, []jopay.Option{jopay.WithSlug("a"), jopay.WithUserAgent("x\ny")}, "user agent", ""},
		{"unknown prefix accepted", "sk_other_123456", []jopay.Option{jopay.WithSlug("acme")}, "", "https://acme.jopay.app/api/v1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := jopay.NewClient(tc.key, tc.opts...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				if tc.key != "" && strings.Contains(err.Error(), tc.key) {
					t.Fatalf("error leaks the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.BaseURL(); got != tc.wantURL {
				t.Errorf("BaseURL = %q, want %q", got, tc.wantURL)
			}
		})
	}
}

func TestKeyMode(t *testing.T) {
	for key, want := range map[string]jopay.Mode{
		"jo_test_abc": jopay.ModeTest, "jo_live_abc": jopay.ModeLive, "jo_other": jopay.ModeUnknown, "JO_TEST_x": jopay.ModeUnknown,
	} {
		if got := jopay.KeyMode(key); got != want {
			t.Errorf("KeyMode(%q) = %q, want %q", key, got, want)
		}
	}
	c, err := jopay.NewClient("jo_live_abc", jopay.WithSlug("acme"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode() != jopay.ModeLive {
		t.Errorf("Mode = %q", c.Mode())
	}
}

func TestCreateRequest(t *testing.T) {
	c, mux := setup(t)
	key := idempotency.Key("checkout", "A-1001")
	mux.HandleFunc("/api/v1/requests/create", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodPost, map[string]any{
			"merchant_id":        "b4d5c6e7-1f20-4a3b-8c4d-5e6f70819203",
			"fiat_amount_int":    float64(275),
			"fiat_currency_code": "USD",
			"memo":               "Order #A-1001",
			"idempotency_key":    key,
			"metadata":           map[string]any{"order_id": "A-1001", "customer_id": "C-77"},
		})
		if r.Header.Get("Idempotency-Key") != "" {
			t.Error("JoPay takes the key in the body, not a header")
		}
		apitest.ServeFixture(t, w, http.StatusOK, "request_object.json")
	})
	got, err := c.CreateRequest(context.Background(), jopay.CreateRequestParams{
		MerchantID: "b4d5c6e7-1f20-4a3b-8c4d-5e6f70819203", FiatAmountInt: 275, FiatCurrencyCode: "usd",
		Memo: "Order #A-1001", IdempotencyKey: key,
		Metadata: map[string]string{"order_id": "A-1001", "customer_id": "C-77"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := *documentedRequest
	want.IdempotencyKey = key
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("request mismatch (-want +got):\n%s", diff)
	}
	if got.Amount.USDC().String() != "2.750000" {
		t.Errorf("USDC = %s", got.Amount.USDC())
	}
}

func TestCreateRequestInvoiceBody(t *testing.T) {
	c, mux := setup(t)
	var sentKey string
	mux.HandleFunc("/api/v1/requests/create", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		sentKey, _ = m["idempotency_key"].(string)
		delete(m, "idempotency_key")
		want := map[string]any{
			"merchant_id": "m1", "fiat_amount_int": float64(125000), "payment_mode": "invoice",
			"customer_name": "Acme GmbH", "customer_email": "billing@acme.example", "expiry_minutes": float64(43200),
		}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
		apitest.ServeFixture(t, w, http.StatusOK, "request_object.json")
	})
	got, err := c.CreateRequest(context.Background(), jopay.CreateRequestParams{
		MerchantID: "m1", FiatAmountInt: 125000, PaymentMode: jopay.PaymentModeInvoice,
		CustomerName: "Acme GmbH", CustomerEmail: "billing@acme.example", ExpiryMinutes: 43200,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := idempotency.Validate(sentKey); err != nil {
		t.Fatalf("generated key %q: %v", sentKey, err)
	}
	if got.IdempotencyKey != sentKey {
		t.Errorf("result key %q, sent %q", got.IdempotencyKey, sentKey)
	}
}

func TestGetRequest(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodGet, nil)
		if got := r.PathValue("id"); got != documentedRequest.ID {
			t.Errorf("id = %q", got)
		}
		apitest.ServeFixture(t, w, http.StatusOK, "request_object.json")
	})
	got, err := c.GetRequest(context.Background(), documentedRequest.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(documentedRequest, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGetRequestEscapesID(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if got, want := r.URL.EscapedPath(), "/api/v1/requests/a%2Fb%3Fc"; got != want {
			t.Errorf("path = %q, want %q", got, want)
		}
		apitest.ServeFixture(t, w, http.StatusOK, "request_object.json")
	})
	if _, err := c.GetRequest(context.Background(), "a/b?c"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", ".", ".."} {
		var ve *paykit.ValidationError
		if _, err := c.GetRequest(context.Background(), id); !errors.As(err, &ve) || ve.Field != "request_id" {
			t.Errorf("GetRequest(%q) err = %v, want ValidationError on request_id", id, err)
		}
	}
}

func TestCancelRequest(t *testing.T) {
	c, mux := setup(t)
	calls := 0
	mux.HandleFunc("/api/v1/requests/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodPost, nil)
		if calls++; calls == 1 {
			w.WriteHeader(http.StatusBadGateway) // cancel is idempotent: the client retries it
			return
		}
		b := bytes.Replace(apitest.Fixture(t, "request_object.json"), []byte(`"status": "requested"`), []byte(`"status": "cancelled"`), 1)
		_, _ = w.Write(b)
	})
	got, err := c.CancelRequest(context.Background(), documentedRequest.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != jopay.StatusCancelled || !got.Status.IsTerminal() {
		t.Errorf("status = %q", got.Status)
	}
	if calls != 2 {
		t.Errorf("calls = %d, want 2 (one retry)", calls)
	}
}

func TestListRequestsPageQuery(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodGet, nil)
		want := map[string][]string{
			"merchant_id": {"m1"}, "status": {"opened"}, "proof_status": {"verified"},
			"since": {"2026-05-01T00:00:00Z"}, "until": {"2026-05-02T00:00:00.5Z"}, "limit": {"100"}, "cursor": {"c1"},
		}
		if diff := cmp.Diff(want, map[string][]string(r.URL.Query())); diff != "" {
			t.Errorf("query (-want +got):\n%s", diff)
		}
		apitest.ServeFixture(t, w, http.StatusOK, "request_list_page.json")
	})
	page, err := c.ListRequestsPage(context.Background(), jopay.ListRequestsParams{
		MerchantID: "m1", Status: jopay.StatusOpened, ProofStatus: jopay.ProofStatusVerified,
		Since: time.Date(2026, 5, 1, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
		Until: time.Date(2026, 5, 2, 0, 0, 0, 5e8, time.UTC), Limit: 100, Cursor: "c1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || page.HasMore || page.NextCursor != "" {
		t.Fatalf("page = %+v", page)
	}
	if page.Data[1].Amount.FiatInt != 1999 || page.Data[1].Metadata["order_id"] != "A-1002" {
		t.Errorf("second = %+v", page.Data[1])
	}
}

func TestCreateMerchant(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/merchants", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodPost, map[string]any{
			"email": "owner@tea.example", "business_name": "Tea House", "country": "DE",
			"display_currency": "EUR", "account_type": "business",
		})
		apitest.ServeFixture(t, w, http.StatusOK, "merchant_created.json")
	})
	got, err := c.CreateMerchant(context.Background(), jopay.CreateMerchantParams{
		Email: "owner@tea.example", BusinessName: "Tea House", Country: "de", DisplayCurrency: "eur", AccountType: "business",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &jopay.Merchant{ID: "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70812", OnboardingStatus: jopay.OnboardingIncomplete,
		OnboardingURL: "https://jopay.app/onboarding/3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70812"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMerchantsListAndGet(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v1/merchants", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodGet, nil)
		apitest.ServeFixture(t, w, http.StatusOK, "merchant_list.json")
	})
	mux.HandleFunc("GET /api/v1/merchants/{id}", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodGet, nil)
		if r.PathValue("id") != "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70812" {
			t.Errorf("id = %q", r.PathValue("id"))
		}
		apitest.ServeFixture(t, w, http.StatusOK, "merchant_created.json")
	})
	list, err := c.ListMerchants(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []*jopay.Merchant{
		{ID: "b4d5c6e7-1f20-4a3b-8c4d-5e6f70819203", DisplayName: "Fake Coffee", Country: "US", OnboardingStatus: "complete"},
		{ID: "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70812", BusinessName: "Tea House", OnboardingStatus: "incomplete"},
	}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	m, err := c.GetMerchant(context.Background(), "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70812")
	if err != nil || m.OnboardingStatus != "incomplete" {
		t.Fatalf("GetMerchant = %+v, %v", m, err)
	}
}

// TestNoSecretInErrorsOrLogs drives failures through every path that formats an error or a
// log line and checks the API key never appears.
func TestNoSecretInErrorsOrLogs(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux := setup(t, jopay.WithLogger(logger), jopay.WithMaxRetries(1))
	mux.HandleFunc("/api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		// A hostile or buggy upstream echoing the credential back.
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"ok":false,"error":"unauthorized","message":"bad key ` + testKey + `"}`))
	})
	mux.HandleFunc("/api/v1/requests", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`<html>proxy error for Bearer ` + testKey + `</html>`))
	})
	var errs []error
	_, err := c.GetRequest(context.Background(), "r1")
	errs = append(errs, err)
	for _, err := range c.ListRequests(context.Background(), jopay.ListRequestsParams{}) {
		errs = append(errs, err)
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("want an error")
		}
		var apiErr *paykit.Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("err %v is not *paykit.Error", err)
		}
		if strings.Contains(err.Error(), testKey) || bytes.Contains(apiErr.Body, []byte(testKey)) {
			t.Errorf("key leaked in error: %v / %s", err, apiErr.Body)
		}
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("key leaked in logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "/requests") {
		t.Errorf("expected attempt logs, got:\n%s", logs.String())
	}
}
