package jopaytest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/paykit-go/paykit"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
	"github.com/paykit-go/paykit/webhook"
)

// call sends a raw request to the fake and decodes the JSON answer.
func call(t *testing.T, srv *jopaytest.Server, key, method, path string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.BaseURL+path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

func valid() map[string]any {
	return map[string]any{"merchant_id": jopaytest.DefaultMerchantID, "fiat_amount_int": 2750}
}

func with(kv ...any) map[string]any {
	m := valid()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
			continue
		}
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestAuth(t *testing.T) {
	srv := jopaytest.NewServer(jopaytest.WithAdditionalAPIKey("jo_test_readonly_1", jopaytest.ScopeRequestsRead))
	defer srv.Close()
	for _, key := range []string{"", "jo_test_wrong", "Bearer"} {
		status, body, _ := call(t, srv, key, "GET", "/requests", nil)
		assert.Equal(t, 401, status, "key %q %v", key, body)
		assert.Equal(t, "unauthorized", body["error"], "key %q: %d %v", key, status, body)
		assert.Equal(t, false, body["ok"], "key %q: %d %v", key, status, body)
	}
	status, body, _ := call(t, srv, "jo_test_readonly_1", "POST", "/requests/create", valid())
	assert.Equal(t, 403, status, "scope %v", body)
	assert.Equal(t, "insufficient_scope", body["error"], "scope: %d %v", status, body)
	assert.Equal(t, "requests:write", body["required_scope"], "scope: %d %v", status, body)
	status, _, _ = call(t, srv, "jo_test_readonly_1", "GET", "/requests", nil)
	assert.Equal(t, 200, status, "read with read scope")
	srv.RevokeKey("jo_test_readonly_1")
	status, _, _ = call(t, srv, "jo_test_readonly_1", "GET", "/requests", nil)
	assert.Equal(t, 401, status, "revoked key")
}

func TestCreateValidationCodes(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	long := func(n int) string { return strings.Repeat("x", n) }
	many := map[string]string{}
	for i := 0; i < 21; i++ {
		many[string(rune('a'+i))] = "v"
	}
	cases := []struct {
		body map[string]any
		code string
	}{
		{with("merchant_id", nil), "invalid_merchant_id"},
		{with("merchant_id", "00000000-0000-4000-8000-000000000000"), "invalid_merchant_id"},
		{with("fiat_amount_int", nil), "invalid_fiat_amount"},
		{with("fiat_amount_int", 0), "invalid_fiat_amount"},
		{with("fiat_amount_int", 12.5), "invalid_fiat_amount"},
		{with("fiat_amount_int", "100"), "invalid_fiat_amount"},
		{with("fiat_amount_int", int64(2147483648)), "invalid_fiat_amount"},
		{with("fiat_currency_code", "usd"), "invalid_currency"},
		{with("fiat_currency_code", "EUR"), "currency_mismatch"},
		{with("memo", long(501)), "invalid_memo"},
		{with("idempotency_key", "short"), "invalid_idempotency_key"},
		{with("idempotency_key", long(31)+"!"), "invalid_idempotency_key"},
		{with("metadata", many), "metadata_too_many_keys"},
		{with("metadata", map[string]string{long(41): "v"}), "metadata_key_too_long"},
		{with("metadata", map[string]string{"k": long(501)}), "metadata_value_too_long"},
		{with("payment_mode", "layaway"), "invalid_payment_mode"},
		{with("customer_email", "nope"), "invalid_email"},
		{with("payment_mode", "invoice"), "customer_name_required"},
		{with("payment_mode", "invoice", "customer_name", " "), "customer_name_required"},
		{with("expiry_minutes", -1), "invalid_expiry_minutes"},
	}
	for _, tc := range cases {
		status, body, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", tc.body)
		assert.Equal(t, 400, status, "%v: %v", tc.body, body)
		assert.Equal(t, tc.code, body["error"], "%v: %d %v", tc.body, status, body)
		assert.Equal(t, false, body["ok"], "%v: %d %v", tc.body, status, body)
		if tc.code == "currency_mismatch" {
			assert.Equal(t, "USD", body["expected_fiat_code"], "currency_mismatch without expected_fiat_code: %v", body)
		}
	}
	assert.Empty(t, srv.PaymentRequests(), "requests stored by invalid creates")
	status, body, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create",
		with("fiat_currency_code", "USD", "memo", long(500), "payment_mode", "invoice", "customer_name", "Acme"))
	require.Equal(t, 200, status, "valid create %v", body)
	require.Equal(t, true, body["ok"], "valid create: %d %v", status, body)
}

func TestCreateResponseShape(t *testing.T) {
	at := time.Date(2026, 5, 2, 9, 0, 0, 123456789, time.UTC)
	srv := jopaytest.NewServer(jopaytest.WithClock(func() time.Time { return at }))
	defer srv.Close()
	status, body, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", with("metadata", map[string]string{"order_id": "A-1"}))
	require.Equal(t, 200, status, "%v", body)
	id := body["request_id"].(string)
	want := map[string]any{
		"ok": true, "request_id": id, "status": "requested", "proof_status": "none",
		"pay_page_url": srv.URL + "/pay/" + id,
		"created_at":   "2026-05-02T09:00:00.123Z", "expires_at": "2026-05-02T10:00:00.123Z",
		"amount":      map[string]any{"fiat_int": float64(2750), "fiat_code": "USD", "usdc_micro": "27500000"},
		"merchant_id": jopaytest.DefaultMerchantID, "metadata": map[string]any{"order_id": "A-1"},
		"payment_mode": "pos", "tx_hash": nil,
	}
	assert.Empty(t, cmp.Diff(want, body), "(-want +got)")
}

func TestIdempotentReplay(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	key := strings.Repeat("k", 64)
	_, first, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", with("idempotency_key", key))
	status, again, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", with("idempotency_key", key))
	assert.Equal(t, 200, status, "replay: %v", again)
	assert.Equal(t, first["request_id"], again["request_id"], "replay: %d %v", status, again)
	status, conflict, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", with("idempotency_key", key, "fiat_amount_int", 1))
	assert.Equal(t, 409, status, "conflict %v", conflict)
	assert.Equal(t, "idempotency_conflict", conflict["error"], "conflict: %d %v", status, conflict)
	// Keys are per mode: the same key in production data is a new request.
	status, live, _ := call(t, srv, jopaytest.LiveAPIKey, "POST", "/requests/create", with("idempotency_key", key))
	assert.Equal(t, 200, status, "live: %v", live)
	assert.NotEqual(t, first["request_id"], live["request_id"], "live: %d %v", status, live)
	assert.Len(t, srv.PaymentRequests(), 2, "requests")
}

func TestModeIsolation(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	_, created, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", valid())
	id := created["request_id"].(string)
	status, _, _ := call(t, srv, jopaytest.LiveAPIKey, "GET", "/requests/"+id, nil)
	assert.Equal(t, 404, status, "live key saw a sandbox request")
	_, list, _ := call(t, srv, jopaytest.LiveAPIKey, "GET", "/requests", nil)
	assert.Empty(t, list["requests"].([]any), "live list has")
}

func TestExpiryAndCancel(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	pos, _ := c.CreateRequest(ctx, jopay.CreateRequestParams{MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 100})
	inv, _ := c.CreateRequest(ctx, jopay.CreateRequestParams{MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 100,
		PaymentMode: jopay.PaymentModeInvoice, CustomerName: "Acme"})
	custom, _ := c.CreateRequest(ctx, jopay.CreateRequestParams{MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 100, ExpiryMinutes: 90})
	for r, want := range map[*jopay.PaymentRequest]time.Duration{pos: time.Hour, inv: 7 * 24 * time.Hour, custom: 90 * time.Minute} {
		assert.Equal(t, want, r.ExpiresAt.Sub(r.CreatedAt), "%s expiry", r.PaymentMode)
	}
	srv.Advance(61 * time.Minute)
	r, _ := c.GetRequest(ctx, pos.ID)
	assert.Equal(t, jopay.StatusExpired, r.Status, "pos after 61m")
	r, _ = c.GetRequest(ctx, custom.ID)
	assert.Equal(t, jopay.StatusRequested, r.Status, "90m request after 61m")
	_, err := c.CancelRequest(ctx, pos.ID)
	assert.True(t, isCode(err, jopay.CodeNotCancellable), "cancel expired: %v", err)
	got, err := c.CancelRequest(ctx, inv.ID)
	require.NoError(t, err, "cancel open invoice: %v", got)
	require.Equal(t, jopay.StatusCancelled, got.Status, "cancel open invoice: %v %v", got, err)
	again, err := c.CancelRequest(ctx, inv.ID)
	require.NoError(t, err, "second cancel: %v", again)
	assert.Equal(t, jopay.StatusCancelled, again.Status, "second cancel: %v", again)
	_, err = srv.Pay(ctx, inv.ID)
	assert.ErrorIs(t, err, jopaytest.ErrInvalidState, "paying a cancelled request")
	_, err = srv.Pay(ctx, custom.ID)
	require.NoError(t, err)
	_, err = c.CancelRequest(ctx, custom.ID)
	assert.True(t, isCode(err, jopay.CodeNotCancellable), "cancel paid: %v", err)
	srv.Advance(24 * time.Hour)
	r, _ = c.GetRequest(ctx, custom.ID)
	assert.NotEqual(t, jopay.StatusExpired, r.Status, "a paid request must not expire: %+v", r)
	assert.True(t, r.IsPaid(), "a paid request must not expire: %+v", r)
	_, err = srv.VerifyProof(ctx, pos.ID)
	assert.ErrorIs(t, err, jopaytest.ErrInvalidState, "verify without proof")
	_, err = srv.AttachProof(ctx, "nope", "")
	assert.ErrorIs(t, err, jopaytest.ErrNotFound, "unknown id")
}

func isCode(err error, code string) bool {
	var e *paykit.Error
	return errors.As(err, &e) && e.Code == code
}

func TestListRules(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	at := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
	srv.AddPaymentRequests(
		jopaytest.PaymentRequestFixture{CreatedAt: at, ProofStatus: jopay.ProofStatusVerified},
		jopaytest.PaymentRequestFixture{CreatedAt: at.Add(time.Second), ProofStatus: jopay.ProofStatusVerified, MerchantID: "other"},
		jopaytest.PaymentRequestFixture{CreatedAt: at.Add(2 * time.Second)},
	)
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "since=yesterday", "cursor=abc"} {
		status, body, _ := call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests?"+q, nil)
		assert.Equal(t, 400, status, "%s %v", q, body)
	}
	count := func(q string) (int, bool) {
		_, body, _ := call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests?"+q, nil)
		assert.Nil(t, body["next_cursor"], "next_cursor sent while off: %v", body)
		return len(body["requests"].([]any)), body["has_more"].(bool)
	}
	for q, want := range map[string]int{
		"": 3, "proof_status=verified": 2, "merchant_id=other": 1, "status=expired": 1,
		"since=2026-05-02T09:00:01Z": 2, "until=2026-05-02T09:00:01Z": 1, "since=2026-05-02T09:00:00.5Z&until=2026-05-02T09:00:02Z": 1,
	} {
		n, _ := count(q)
		assert.Equal(t, want, n, "%q", q)
	}
	n, more := count("limit=2")
	assert.Equal(t, 2, n, "limit=2, has_more %v", more)
	assert.True(t, more, "limit=2: %d, has_more %v", n, more)
	srv.SetExclusiveSince(true)
	n, _ = count("since=2026-05-02T09:00:01Z")
	assert.Equal(t, 1, n, "exclusive since")
}

func TestFaults(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	srv.FailNext(1, http.StatusServiceUnavailable, 1500*time.Millisecond)
	status, body, h := call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests", nil)
	assert.Equal(t, 503, status, " %v %v", body, h)
	assert.Equal(t, "2", h.Get("Retry-After"), "%d %v %v", status, body, h)
	assert.Equal(t, false, body["ok"], "%d %v %v", status, body, h)
	assert.Equal(t, "internal_error", body["error"], "%d %v %v", status, body, h)
	srv.FailNext(1, http.StatusTooManyRequests, 0)
	status, body, _ = call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests", nil)
	assert.Equal(t, 429, status, " %v", body)
	assert.Equal(t, "rate_limited", body["error"], "%d %v", status, body)
	srv.DropNext(1)
	// A POST with a body: net/http would transparently resend a GET on a dropped keep-alive
	// connection.
	req, _ := http.NewRequest("POST", srv.BaseURL+"/requests/create", strings.NewReader(`{"fiat_amount_int":1}`))
	_, err := srv.HTTPClient().Do(req)
	assert.Error(t, err, "dropped connection answered")
	srv.SetLatency(50 * time.Millisecond)
	start := time.Now()
	call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests", nil)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond, "latency not applied")
	srv.ResetFaults()
	assert.Len(t, srv.Calls(), 4, "calls logged")
}

func TestPayPageOpens(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	_, created, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", valid())
	resp, err := srv.HTTPClient().Get(created["pay_page_url"].(string))
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, "%v", resp)
	resp.Body.Close()
	r, _ := srv.PaymentRequest(created["request_id"].(string))
	assert.Equal(t, jopay.StatusOpened, r.Status, "status")
}

// TestSignedDelivery checks the fake's webhook with the webhook package alone: header name,
// "v1=…,t=…" order, signature over "<t>.<body>", payload fields, and retries per JoPay's rule.
func TestSignedDelivery(t *testing.T) {
	v, _ := webhook.NewTimestampVerifier(jopaytest.WebhookSecret)
	var mu sync.Mutex
	var bodies [][]byte
	answers := []int{503, 429, 200, 404}
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig := r.Header.Get("X-JoPay-Signature")
		assert.True(t, strings.HasPrefix(sig, "v1="), "signature %q", sig)
		assert.NoError(t, v.Verify(body, sig), "verify")
		mu.Lock()
		bodies = append(bodies, body)
		status := answers[0]
		answers = answers[1:]
		mu.Unlock()
		w.WriteHeader(status)
	}))
	defer endpoint.Close()
	srv := jopaytest.NewServer()
	defer srv.Close()
	srv.SetWebhook(endpoint.URL, jopaytest.WebhookSecret)
	_, created, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", with("metadata", map[string]string{"order_id": "A-1"}))
	id := created["request_id"].(string)
	d, err := srv.AttachProof(context.Background(), id, "0xabc")
	require.NoError(t, err)
	assert.True(t, d.Delivered, "attach delivery: %+v", d)
	assert.Len(t, d.Attempts, 3, "attach delivery: %+v", d)
	d, _ = srv.VerifyProof(context.Background(), id)
	assert.True(t, d.Abandoned, "a 404 must be abandoned at once: %+v", d)
	assert.Len(t, d.Attempts, 1, "a 404 must be abandoned at once: %+v", d)
	var e map[string]any
	_ = json.Unmarshal(bodies[0], &e)
	for _, k := range []string{"event", "delivery_id", "partner_id", "request_id", "merchant_id", "proof_status", "proof_source", "tx_hash", "payer_address", "timestamp", "metadata"} {
		_, ok := e[k]
		assert.True(t, ok, "payload lacks %s: %s", k, bodies[0])
	}
	assert.Equal(t, "payment.proof_attached", e["event"], "payload %s", bodies[0])
	assert.Equal(t, "0xabc", e["tx_hash"], "payload %s", bodies[0])
	assert.Equal(t, jopaytest.PartnerID, e["partner_id"], "payload %s", bodies[0])
	assert.Len(t, srv.Deliveries(), 2, "deliveries")
}

func TestMerchants(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	for body, code := range map[string]string{
		`{"email":"x"}`: "invalid_email", `{"country":"us"}`: "invalid_country", `{"account_type":"alien"}`: "invalid_account_type",
		`{"display_currency":"EURO"}`: "invalid_currency",
	} {
		var m map[string]any
		_ = json.Unmarshal([]byte(body), &m)
		status, got, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/merchants", m)
		assert.Equal(t, 400, status, "%s: %v", body, got)
		assert.Equal(t, code, got["error"], "%s: %d %v", body, status, got)
	}
	c, _ := srv.NewClient()
	m, err := c.CreateMerchant(context.Background(), jopay.CreateMerchantParams{BusinessName: "Tea House", Country: "de"})
	require.NoError(t, err)
	assert.Equal(t, jopay.OnboardingIncomplete, m.OnboardingStatus, "%+v", m)
	assert.NotEmpty(t, m.OnboardingURL, "%+v", m)
	assert.Equal(t, "DE", m.Country, "%+v", m)
	list, _ := c.ListMerchants(context.Background())
	if assert.Len(t, list, 2, "list %+v", list) {
		assert.Equal(t, m.ID, list[1].ID, "list %+v", list)
	}
	got, err := c.GetMerchant(context.Background(), m.ID)
	require.NoError(t, err, "get %+v", got)
	assert.Equal(t, "Tea House", got.BusinessName, "get %+v", got)
	_, err = c.GetMerchant(context.Background(), "nope")
	assert.True(t, isCode(err, jopay.CodeNotFound), "missing merchant: %v", err)
}

// WithAPIKey replaces DefaultAPIKey (NewClient uses it); the call log keeps both query forms.
func TestWithAPIKeyAndCallLog(t *testing.T) {
	srv := jopaytest.NewServer(jopaytest.WithAPIKey("jo_test_mine"))
	defer srv.Close()
	status, _, _ := call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests", nil)
	assert.Equal(t, 401, status, "DefaultAPIKey after WithAPIKey")
	client, _ := srv.NewClient()
	_, err := client.ListRequestsPage(context.Background(), jopay.ListRequestsParams{Limit: 7})
	require.NoError(t, err, "NewClient with the WithAPIKey key")
	calls := srv.Calls()
	last := calls[len(calls)-1]
	assert.Equal(t, "Bearer jo_test_mine", last.Header.Get("Authorization"), "last call: %+v", last)
	assert.Equal(t, "7", last.Query.Get("limit"), "last call: %+v", last)
	assert.Contains(t, last.RawQuery, "limit=7", "last call: %+v", last)
	assert.Equal(t, 2, srv.CountCalls("GET", "/api/v1/requests"), "CountCalls")
	srv.ResetCalls()
	assert.Empty(t, srv.Calls(), "calls after ResetCalls")
}
