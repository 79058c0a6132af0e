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
	if err != nil {
		t.Fatal(err)
	}
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
		if status != 401 || body["error"] != "unauthorized" || body["ok"] != false {
			t.Errorf("key %q: %d %v", key, status, body)
		}
	}
	status, body, _ := call(t, srv, "jo_test_readonly_1", "POST", "/requests/create", valid())
	if status != 403 || body["error"] != "insufficient_scope" || body["required_scope"] != "requests:write" {
		t.Errorf("scope: %d %v", status, body)
	}
	if status, _, _ := call(t, srv, "jo_test_readonly_1", "GET", "/requests", nil); status != 200 {
		t.Errorf("read with read scope: %d", status)
	}
	srv.RevokeKey("jo_test_readonly_1")
	if status, _, _ := call(t, srv, "jo_test_readonly_1", "GET", "/requests", nil); status != 401 {
		t.Errorf("revoked key: %d", status)
	}
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
		if status != 400 || body["error"] != tc.code || body["ok"] != false {
			t.Errorf("%v: %d %v, want 400 %s", tc.body, status, body, tc.code)
		}
		if tc.code == "currency_mismatch" && body["expected_fiat_code"] != "USD" {
			t.Errorf("currency_mismatch without expected_fiat_code: %v", body)
		}
	}
	if n := len(srv.PaymentRequests()); n != 0 {
		t.Errorf("%d requests stored by invalid creates", n)
	}
	status, body, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create",
		with("fiat_currency_code", "USD", "memo", long(500), "payment_mode", "invoice", "customer_name", "Acme"))
	if status != 200 || body["ok"] != true {
		t.Fatalf("valid create: %d %v", status, body)
	}
}

func TestCreateResponseShape(t *testing.T) {
	at := time.Date(2026, 5, 2, 9, 0, 0, 123456789, time.UTC)
	srv := jopaytest.NewServer(jopaytest.WithClock(func() time.Time { return at }))
	defer srv.Close()
	status, body, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", with("metadata", map[string]string{"order_id": "A-1"}))
	if status != 200 {
		t.Fatal(status, body)
	}
	id := body["request_id"].(string)
	want := map[string]any{
		"ok": true, "request_id": id, "status": "requested", "proof_status": "none",
		"pay_page_url": srv.URL + "/pay/" + id,
		"created_at":   "2026-05-02T09:00:00.123Z", "expires_at": "2026-05-02T10:00:00.123Z",
		"amount":      map[string]any{"fiat_int": float64(2750), "fiat_code": "USD", "usdc_micro": "27500000"},
		"merchant_id": jopaytest.DefaultMerchantID, "metadata": map[string]any{"order_id": "A-1"},
		"payment_mode": "pos", "tx_hash": nil,
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestIdempotentReplay(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	key := strings.Repeat("k", 64)
	_, first, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", with("idempotency_key", key))
	status, again, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", with("idempotency_key", key))
	if status != 200 || again["request_id"] != first["request_id"] {
		t.Errorf("replay: %d %v", status, again)
	}
	status, conflict, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", with("idempotency_key", key, "fiat_amount_int", 1))
	if status != 409 || conflict["error"] != "idempotency_conflict" {
		t.Errorf("conflict: %d %v", status, conflict)
	}
	// Keys are per mode: the same key in production data is a new request.
	status, live, _ := call(t, srv, jopaytest.LiveAPIKey, "POST", "/requests/create", with("idempotency_key", key))
	if status != 200 || live["request_id"] == first["request_id"] {
		t.Errorf("live: %d %v", status, live)
	}
	if n := len(srv.PaymentRequests()); n != 2 {
		t.Errorf("%d requests", n)
	}
}

func TestModeIsolation(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	_, created, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", valid())
	id := created["request_id"].(string)
	if status, _, _ := call(t, srv, jopaytest.LiveAPIKey, "GET", "/requests/"+id, nil); status != 404 {
		t.Errorf("live key saw a sandbox request: %d", status)
	}
	_, list, _ := call(t, srv, jopaytest.LiveAPIKey, "GET", "/requests", nil)
	if n := len(list["requests"].([]any)); n != 0 {
		t.Errorf("live list has %d", n)
	}
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
		if got := r.ExpiresAt.Sub(r.CreatedAt); got != want {
			t.Errorf("%s expiry %v, want %v", r.PaymentMode, got, want)
		}
	}
	srv.Advance(61 * time.Minute)
	if r, _ := c.GetRequest(ctx, pos.ID); r.Status != jopay.StatusExpired {
		t.Errorf("pos after 61m: %s", r.Status)
	}
	if r, _ := c.GetRequest(ctx, custom.ID); r.Status != jopay.StatusRequested {
		t.Errorf("90m request after 61m: %s", r.Status)
	}
	if _, err := c.CancelRequest(ctx, pos.ID); !isCode(err, jopay.CodeNotCancellable) {
		t.Errorf("cancel expired: %v", err)
	}
	got, err := c.CancelRequest(ctx, inv.ID)
	if err != nil || got.Status != jopay.StatusCancelled {
		t.Fatalf("cancel open invoice: %v %v", got, err)
	}
	if again, err := c.CancelRequest(ctx, inv.ID); err != nil || again.Status != jopay.StatusCancelled {
		t.Errorf("second cancel: %v %v", again, err)
	}
	if _, err := srv.Pay(ctx, inv.ID); !errors.Is(err, jopaytest.ErrInvalidState) {
		t.Errorf("paying a cancelled request: %v", err)
	}
	if _, err := srv.Pay(ctx, custom.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CancelRequest(ctx, custom.ID); !isCode(err, jopay.CodeNotCancellable) {
		t.Errorf("cancel paid: %v", err)
	}
	srv.Advance(24 * time.Hour)
	if r, _ := c.GetRequest(ctx, custom.ID); r.Status == jopay.StatusExpired || !r.IsPaid() {
		t.Errorf("a paid request must not expire: %+v", r)
	}
	if _, err := srv.VerifyProof(ctx, pos.ID); !errors.Is(err, jopaytest.ErrInvalidState) {
		t.Errorf("verify without proof: %v", err)
	}
	if _, err := srv.AttachProof(ctx, "nope", ""); !errors.Is(err, jopaytest.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
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
		if status, body, _ := call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests?"+q, nil); status != 400 {
			t.Errorf("%s: %d %v", q, status, body)
		}
	}
	count := func(q string) (int, bool) {
		_, body, _ := call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests?"+q, nil)
		if body["next_cursor"] != nil {
			t.Errorf("next_cursor sent while off: %v", body)
		}
		return len(body["requests"].([]any)), body["has_more"].(bool)
	}
	for q, want := range map[string]int{
		"": 3, "proof_status=verified": 2, "merchant_id=other": 1, "status=expired": 1,
		"since=2026-05-02T09:00:01Z": 2, "until=2026-05-02T09:00:01Z": 1, "since=2026-05-02T09:00:00.5Z&until=2026-05-02T09:00:02Z": 1,
	} {
		if n, _ := count(q); n != want {
			t.Errorf("%q: %d rows, want %d", q, n, want)
		}
	}
	if n, more := count("limit=2"); n != 2 || !more {
		t.Errorf("limit=2: %d, has_more %v", n, more)
	}
	srv.SetExclusiveSince(true)
	if n, _ := count("since=2026-05-02T09:00:01Z"); n != 1 {
		t.Errorf("exclusive since: %d", n)
	}
}

func TestFaults(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	srv.FailNext(1, http.StatusServiceUnavailable, 1500*time.Millisecond)
	status, body, h := call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests", nil)
	if status != 503 || h.Get("Retry-After") != "2" || body["ok"] != false || body["error"] != "internal_error" {
		t.Errorf("%d %v %v", status, body, h)
	}
	srv.FailNext(1, http.StatusTooManyRequests, 0)
	if status, body, _ := call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests", nil); status != 429 || body["error"] != "rate_limited" {
		t.Errorf("%d %v", status, body)
	}
	srv.DropNext(1)
	// A POST with a body: net/http would transparently resend a GET on a dropped keep-alive
	// connection.
	req, _ := http.NewRequest("POST", srv.BaseURL+"/requests/create", strings.NewReader(`{"fiat_amount_int":1}`))
	if _, err := srv.HTTPClient().Do(req); err == nil {
		t.Error("dropped connection answered")
	}
	srv.SetLatency(50 * time.Millisecond)
	start := time.Now()
	call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests", nil)
	if time.Since(start) < 50*time.Millisecond {
		t.Error("latency not applied")
	}
	srv.ResetFaults()
	if n := len(srv.Calls()); n != 4 {
		t.Errorf("%d calls logged", n)
	}
}

func TestPayPageOpens(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	_, created, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/requests/create", valid())
	resp, err := srv.HTTPClient().Get(created["pay_page_url"].(string))
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(err, resp)
	}
	resp.Body.Close()
	if r, _ := srv.PaymentRequest(created["request_id"].(string)); r.Status != jopay.StatusOpened {
		t.Errorf("status %s", r.Status)
	}
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
		if !strings.HasPrefix(sig, "v1=") {
			t.Errorf("signature %q", sig)
		}
		if err := v.Verify(body, sig); err != nil {
			t.Errorf("verify: %v", err)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	if !d.Delivered || len(d.Attempts) != 3 {
		t.Errorf("attach delivery: %+v", d)
	}
	d, _ = srv.VerifyProof(context.Background(), id)
	if !d.Abandoned || len(d.Attempts) != 1 {
		t.Errorf("a 404 must be abandoned at once: %+v", d)
	}
	var e map[string]any
	_ = json.Unmarshal(bodies[0], &e)
	for _, k := range []string{"event", "delivery_id", "partner_id", "request_id", "merchant_id", "proof_status", "proof_source", "tx_hash", "payer_address", "timestamp", "metadata"} {
		if _, ok := e[k]; !ok {
			t.Errorf("payload lacks %s: %s", k, bodies[0])
		}
	}
	if e["event"] != "payment.proof_attached" || e["tx_hash"] != "0xabc" || e["partner_id"] != jopaytest.PartnerID {
		t.Errorf("payload %s", bodies[0])
	}
	if len(srv.Deliveries()) != 2 {
		t.Errorf("deliveries %d", len(srv.Deliveries()))
	}
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
		if status, got, _ := call(t, srv, jopaytest.DefaultAPIKey, "POST", "/merchants", m); status != 400 || got["error"] != code {
			t.Errorf("%s: %d %v", body, status, got)
		}
	}
	c, _ := srv.NewClient()
	m, err := c.CreateMerchant(context.Background(), jopay.CreateMerchantParams{BusinessName: "Tea House", Country: "de"})
	if err != nil {
		t.Fatal(err)
	}
	if m.OnboardingStatus != jopay.OnboardingIncomplete || m.OnboardingURL == "" || m.Country != "DE" {
		t.Errorf("%+v", m)
	}
	list, _ := c.ListMerchants(context.Background())
	if len(list) != 2 || list[1].ID != m.ID {
		t.Errorf("list %+v", list)
	}
	if got, err := c.GetMerchant(context.Background(), m.ID); err != nil || got.BusinessName != "Tea House" {
		t.Errorf("get %+v %v", got, err)
	}
	if _, err := c.GetMerchant(context.Background(), "nope"); !isCode(err, jopay.CodeNotFound) {
		t.Errorf("missing merchant: %v", err)
	}
}

// WithAPIKey replaces DefaultAPIKey (NewClient uses it); the call log keeps both query forms.
func TestWithAPIKeyAndCallLog(t *testing.T) {
	srv := jopaytest.NewServer(jopaytest.WithAPIKey("jo_test_mine"))
	defer srv.Close()
	if status, _, _ := call(t, srv, jopaytest.DefaultAPIKey, "GET", "/requests", nil); status != 401 {
		t.Errorf("DefaultAPIKey after WithAPIKey: %d", status)
	}
	client, _ := srv.NewClient()
	if _, err := client.ListRequestsPage(context.Background(), jopay.ListRequestsParams{Limit: 7}); err != nil {
		t.Fatalf("NewClient with the WithAPIKey key: %v", err)
	}
	calls := srv.Calls()
	last := calls[len(calls)-1]
	if last.Header.Get("Authorization") != "Bearer jo_test_mine" || last.Query.Get("limit") != "7" || !strings.Contains(last.RawQuery, "limit=7") {
		t.Errorf("last call: %+v", last)
	}
	if n := srv.CountCalls("GET", "/api/v1/requests"); n != 2 {
		t.Errorf("CountCalls = %d, want 2", n)
	}
	srv.ResetCalls()
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d calls after ResetCalls", n)
	}
}
