package jopay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	// No client-side rate limit: the default (60 requests/min) would make the suite take minutes.
	base := []jopay.Option{jopay.WithBaseURL(srv.URL + "/api/v1"), jopay.WithRetryWait(time.Millisecond, 5*time.Millisecond), jopay.WithRateLimiter(nil)}
	c, err := jopay.NewClient(testKey, append(base, opts...)...)
	require.NoError(t, err)
	return c, mux
}

// checkRequest asserts method, the standard headers, and the JSON body (nil: no body).
func checkRequest(t *testing.T, r *http.Request, method string, wantBody map[string]any) {
	t.Helper()
	assert.Equal(t, method, r.Method, "method")
	assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"), "Authorization")
	ua := r.Header.Get("User-Agent")
	assert.True(t, strings.HasPrefix(ua, "paykit-go/"+paykit.Version), "User-Agent = %q", ua)
	assert.Contains(t, ua, "jopay", "User-Agent")
	assert.Equal(t, "application/json", r.Header.Get("Accept"), "Accept")
	body, _ := io.ReadAll(r.Body)
	if wantBody == nil {
		assert.Empty(t, body, "unexpected body")
		assert.Empty(t, r.Header.Get("Content-Type"), "Content-Type")
		return
	}
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"), "Content-Type")
	var got map[string]any
	// checkRequest runs in the server's handler goroutine: assert and return, never require.
	if !assert.NoError(t, json.Unmarshal(body, &got), "body is not JSON: %s", body) {
		return
	}
	assert.Empty(t, cmp.Diff(wantBody, got), "body mismatch (-want +got)")
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
				require.ErrorContains(t, err, tc.wantErr)
				if tc.key != "" {
					require.NotContains(t, err.Error(), tc.key, "error leaks the key")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantURL, c.BaseURL(), "BaseURL")
		})
	}
}

func TestKeyMode(t *testing.T) {
	for key, want := range map[string]jopay.Mode{
		"jo_test_abc": jopay.ModeTest, "jo_live_abc": jopay.ModeLive, "jo_other": jopay.ModeUnknown, "JO_TEST_x": jopay.ModeUnknown,
	} {
		assert.Equal(t, want, jopay.KeyMode(key), "KeyMode(%q)", key)
	}
	c, err := jopay.NewClient("jo_live_abc", jopay.WithSlug("acme"))
	require.NoError(t, err)
	assert.Equal(t, jopay.ModeLive, c.Mode(), "Mode")
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
		assert.Empty(t, r.Header.Get("Idempotency-Key"), "JoPay takes the key in the body, not a header")
		apitest.ServeFixture(t, w, http.StatusOK, "request_object.json")
	})
	got, err := c.CreateRequest(context.Background(), jopay.CreateRequestParams{
		MerchantID: "b4d5c6e7-1f20-4a3b-8c4d-5e6f70819203", FiatAmountInt: 275, FiatCurrencyCode: "usd",
		Memo: "Order #A-1001", IdempotencyKey: key,
		Metadata: map[string]string{"order_id": "A-1001", "customer_id": "C-77"},
	})
	require.NoError(t, err)
	want := *documentedRequest
	want.IdempotencyKey = key
	assert.Empty(t, cmp.Diff(&want, got), "request mismatch (-want +got)")
	assert.Equal(t, "2.750000", got.Amount.USDC().String(), "USDC")
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
		assert.Empty(t, cmp.Diff(want, m), "body (-want +got)")
		apitest.ServeFixture(t, w, http.StatusOK, "request_object.json")
	})
	got, err := c.CreateRequest(context.Background(), jopay.CreateRequestParams{
		MerchantID: "m1", FiatAmountInt: 125000, PaymentMode: jopay.PaymentModeInvoice,
		CustomerName: "Acme GmbH", CustomerEmail: "billing@acme.example", ExpiryMinutes: 43200,
	})
	require.NoError(t, err)
	require.NoError(t, idempotency.Validate(sentKey), "generated key %q", sentKey)
	assert.Equal(t, sentKey, got.IdempotencyKey, "result key")
}

func TestGetRequest(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodGet, nil)
		assert.Equal(t, documentedRequest.ID, r.PathValue("id"), "id")
		apitest.ServeFixture(t, w, http.StatusOK, "request_object.json")
	})
	got, err := c.GetRequest(context.Background(), documentedRequest.ID)
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff(documentedRequest, got), "(-want +got)")
}

func TestGetRequestEscapesID(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/v1/requests/a%2Fb%3Fc", r.URL.EscapedPath(), "path")
		apitest.ServeFixture(t, w, http.StatusOK, "request_object.json")
	})
	_, err := c.GetRequest(context.Background(), "a/b?c")
	require.NoError(t, err)
	for _, id := range []string{"", ".", ".."} {
		var ve *paykit.ValidationError
		_, err := c.GetRequest(context.Background(), id)
		if assert.ErrorAs(t, err, &ve, "GetRequest(%q)", id) {
			assert.Equal(t, "request_id", ve.Field, "GetRequest(%q): ValidationError field", id)
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
	require.NoError(t, err)
	assert.Equal(t, jopay.StatusCancelled, got.Status, "status")
	assert.True(t, got.Status.IsTerminal(), "status = %q", got.Status)
	assert.Equal(t, 2, calls, "calls (one retry)")
}

func TestListRequestsPageQuery(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodGet, nil)
		want := map[string][]string{
			"merchant_id": {"m1"}, "status": {"opened"}, "proof_status": {"verified"},
			"since": {"2026-05-01T00:00:00Z"}, "until": {"2026-05-02T00:00:00.5Z"}, "limit": {"100"}, "cursor": {"c1"},
		}
		assert.Empty(t, cmp.Diff(want, map[string][]string(r.URL.Query())), "query (-want +got)")
		apitest.ServeFixture(t, w, http.StatusOK, "request_list_page.json")
	})
	page, err := c.ListRequestsPage(context.Background(), jopay.ListRequestsParams{
		MerchantID: "m1", Status: jopay.StatusOpened, ProofStatus: jopay.ProofStatusVerified,
		Since: time.Date(2026, 5, 1, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
		Until: time.Date(2026, 5, 2, 0, 0, 0, 5e8, time.UTC), Limit: 100, Cursor: "c1",
	})
	require.NoError(t, err)
	require.Len(t, page.Data, 2, "page = %+v", page)
	require.False(t, page.HasMore, "page = %+v", page)
	require.Empty(t, page.NextCursor, "page = %+v", page)
	assert.Equal(t, int64(1999), page.Data[1].Amount.FiatInt, "second = %+v", page.Data[1])
	assert.Equal(t, "A-1002", page.Data[1].Metadata["order_id"], "second = %+v", page.Data[1])
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
	require.NoError(t, err)
	want := &jopay.Merchant{ID: "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70812", OnboardingStatus: jopay.OnboardingIncomplete,
		OnboardingURL: "https://jopay.app/onboarding/3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70812"}
	assert.Empty(t, cmp.Diff(want, got), "(-want +got)")
}

func TestMerchantsListAndGet(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("GET /api/v1/merchants", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodGet, nil)
		apitest.ServeFixture(t, w, http.StatusOK, "merchant_list.json")
	})
	mux.HandleFunc("GET /api/v1/merchants/{id}", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodGet, nil)
		assert.Equal(t, "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70812", r.PathValue("id"), "id")
		apitest.ServeFixture(t, w, http.StatusOK, "merchant_created.json")
	})
	list, err := c.ListMerchants(context.Background())
	require.NoError(t, err)
	want := []*jopay.Merchant{
		{ID: "b4d5c6e7-1f20-4a3b-8c4d-5e6f70819203", DisplayName: "Fake Coffee", Country: "US", OnboardingStatus: "complete"},
		{ID: "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70812", BusinessName: "Tea House", OnboardingStatus: "incomplete"},
	}
	assert.Empty(t, cmp.Diff(want, list), "(-want +got)")
	m, err := c.GetMerchant(context.Background(), "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f70812")
	require.NoError(t, err, "GetMerchant = %+v", m)
	require.Equal(t, "incomplete", m.OnboardingStatus, "GetMerchant = %+v, %v", m, err)
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
		require.Error(t, err, "want an error")
		var apiErr *paykit.Error
		require.ErrorAs(t, err, &apiErr)
		assert.NotContains(t, err.Error(), testKey, "key leaked in error: %v / %s", err, apiErr.Body)
		assert.False(t, bytes.Contains(apiErr.Body, []byte(testKey)), "key leaked in error: %v / %s", err, apiErr.Body)
	}
	assert.NotContains(t, logs.String(), testKey, "key leaked in logs")
	assert.Contains(t, logs.String(), "/requests", "expected attempt logs")
}
