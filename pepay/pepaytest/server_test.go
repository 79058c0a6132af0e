package pepaytest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

type envelope struct {
	Success bool `json:"success"`
	Error   struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func do(t *testing.T, srv *pepaytest.Server, method, path string, hdr map[string]string, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.BaseURL+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func code(t *testing.T, b []byte) string {
	t.Helper()
	var e envelope
	err := json.Unmarshal(b, &e)
	require.NoError(t, err, "not an error envelope: %s", b)
	require.False(t, e.Success, "not an error envelope: %s", b)
	return e.Error.Code
}

func TestCreateRules(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	key := map[string]string{"x-api-key": srv.APIKey, "Idempotency-Key": "0f8fad5b-d9cb-469f-a165-70867728950e"}
	for _, tc := range []struct {
		name   string
		hdr    map[string]string
		body   string
		status int
		code   string
	}{
		{"no key", map[string]string{"Idempotency-Key": key["Idempotency-Key"]}, `{"amount_usd":1}`, 401, "API_KEY_REQUIRED"},
		{"wrong key", map[string]string{"x-api-key": "pk_nope", "Idempotency-Key": key["Idempotency-Key"]}, `{"amount_usd":1}`, 401, "API_KEY_INVALID"},
		{"no idempotency key", map[string]string{"x-api-key": srv.APIKey}, `{"amount_usd":1}`, 400, "VALIDATION_ERROR"},
		{"idempotency key not uuid", map[string]string{"x-api-key": srv.APIKey, "Idempotency-Key": "abc"}, `{"amount_usd":1}`, 400, "VALIDATION_ERROR"},
		{"amount too small", key, `{"amount_usd":0.001}`, 400, "VALIDATION_ERROR"},
		{"amount too large", key, `{"amount_usd":1000000.01}`, 400, "VALIDATION_ERROR"},
		{"expires_in", key, `{"amount_usd":1,"expires_in":2592000001}`, 400, "VALIDATION_ERROR"},
		{"metadata", key, `{"amount_usd":1,"metadata":{"k":"` + strings.Repeat("v", 510) + `"}}`, 400, "VALIDATION_ERROR"},
		{"return url", key, `{"amount_usd":1,"payment_return_url":"http://x"}`, 400, "VALIDATION_ERROR"},
		{"override", key, `{"amount_usd":1,"receiver_override_enable":true}`, 400, "VALIDATION_ERROR"},
		{"questions", key, `{"amount_usd":1,"questions":{"questions":[1,2,3,4,5,6]}}`, 400, "VALIDATION_ERROR"},
	} {
		status, b := do(t, srv, "POST", "/api/v1/invoices", tc.hdr, tc.body)
		assert.Equal(t, tc.status, status, "%s: %d %s", tc.name, status, b)
		assert.Equal(t, tc.code, code(t, b), "%s: %d %s", tc.name, status, b)
	}
	assert.Zero(t, srv.InvoiceCount(), "invalid requests created invoices")
	// Same key + same body (keys reordered) → same answer; different body → 409.
	s1, b1 := do(t, srv, "POST", "/api/v1/invoices", key, `{"amount_usd":1,"description":"a"}`)
	s2, b2 := do(t, srv, "POST", "/api/v1/invoices", key, `{"description":"a", "amount_usd":1}`)
	s3, b3 := do(t, srv, "POST", "/api/v1/invoices", key, `{"amount_usd":2,"description":"a"}`)
	assert.Equal(t, 201, s1, "replay: %d %d %d %s", s1, s2, s3, b3)
	assert.Equal(t, 201, s2, "replay: %d %d %d %s", s1, s2, s3, b3)
	assert.True(t, bytes.Equal(b1, b2), "replay: %d %d %d %s", s1, s2, s3, b3)
	assert.Equal(t, 409, s3, "replay: %d %d %d %s", s1, s2, s3, b3)
	assert.Equal(t, "IDEMPOTENCY_CONFLICT", code(t, b3), "replay: %d %d %d %s", s1, s2, s3, b3)
	assert.Equal(t, 1, srv.InvoiceCount(), "replay: %d %d %d %s", s1, s2, s3, b3)
}

func TestListPagingSemantics(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	for i := range 5 {
		_, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.NewDecimal(int64(i+1), 0)})
		require.NoError(t, err)
	}
	ids := func(b []byte, wrapped bool) ([]string, bool) {
		var l struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			HasMore bool `json:"has_more"`
		}
		if wrapped {
			var w struct {
				Data json.RawMessage `json:"data"`
			}
			_ = json.Unmarshal(b, &w)
			b = w.Data
		}
		require.NoError(t, json.Unmarshal(b, &l))
		var out []string
		for _, d := range l.Data {
			out = append(out, d.ID)
		}
		return out, l.HasMore
	}
	ev := srv.EventLog() // e0..e4, oldest first
	auth := map[string]string{"x-api-key": srv.APIKey}
	_, b := do(t, srv, "GET", "/api/v1/events?limit=2", auth, "")
	got, more := ids(b, true)
	assert.Equal(t, ev[4].ID+","+ev[3].ID, strings.Join(got, ","), "newest page = %v %v", got, more)
	assert.True(t, more, "newest page = %v %v", got, more)
	_, b = do(t, srv, "GET", "/api/v1/events?limit=2&starting_after="+ev[3].ID, auth, "")
	got, more = ids(b, true)
	assert.Equal(t, ev[2].ID+","+ev[1].ID, strings.Join(got, ","), "starting_after page = %v %v", got, more)
	assert.True(t, more, "starting_after page = %v %v", got, more)
	// ending_before: the events right after the cursor, listed newest first.
	_, b = do(t, srv, "GET", "/api/v1/events?limit=2&ending_before="+ev[0].ID, auth, "")
	got, more = ids(b, true)
	assert.Equal(t, ev[2].ID+","+ev[1].ID, strings.Join(got, ","), "ending_before page = %v %v", got, more)
	assert.True(t, more, "ending_before page = %v %v", got, more)
	status, b := do(t, srv, "GET", "/api/v1/events?limit=101", auth, "")
	assert.Equal(t, 400, status, "limit 101: %d %s", status, b)
	assert.Equal(t, "VALIDATION_ERROR", code(t, b), "limit 101: %d %s", status, b)
	status, _ = do(t, srv, "GET", "/api/v1/events?ending_before=evt_0-0", auth, "")
	assert.Equal(t, 404, status, "unknown cursor")
}

// Webhooks are signed over "<ms>.<body>", verified by the pepay verifier, and retried on non-2xx.
func TestWebhookDelivery(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer(pepaytest.WithDeliveryAttempts(4, func(int) time.Duration { return time.Millisecond }))
	defer srv.Close()
	v, err := pepay.NewWebhookVerifier("whsec_new")
	require.NoError(t, err)
	vOld, _ := pepay.NewWebhookVerifier("whsec_old")
	var calls atomic.Int32
	var mu sync.Mutex
	var got []string
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		assert.NoError(t, v.Verify(body, r.Header), "verify")
		assert.NoError(t, vOld.Verify(body, r.Header), "verify with the previous secret")
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		got = append(got, r.Header.Get(pepay.EventTypeHeader)+" "+r.Header.Get(pepay.EventIDHeader)+" "+r.Header.Get(pepay.NetworkEnvironmentHeader))
		mu.Unlock()
	}))
	defer endpoint.Close()
	srv.SetWebhook(endpoint.URL, "whsec_new", "whsec_old")
	id, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	_, err = srv.PayAmount(ctx, id, 500)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitWebhooks(ctx))
	dels := srv.Deliveries()
	require.Len(t, dels, 3, "deliveries = %+v", dels)
	require.Len(t, dels[0].Attempts, 2, "deliveries = %+v", dels)
	require.True(t, dels[0].Delivered, "deliveries = %+v", dels)
	require.Equal(t, 503, dels[0].Attempts[0].Status, "deliveries = %+v", dels)
	log := srv.EventLog()
	want := []string{
		"invoice.created " + log[0].ID + " devnet",
		"invoice_payment.created " + log[1].ID + " devnet",
		"invoice.updated " + log[2].ID + " devnet",
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, strings.Join(want, "|"), strings.Join(got, "|"), "got %q", got)
	_, err = srv.Pay(ctx, "nope")
	assert.Error(t, err, "Pay on unknown invoice")
	_, err = srv.PayAmount(ctx, id, 10_000)
	assert.Error(t, err, "underpayment above the remainder accepted")
}

func TestFaults(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	auth := map[string]string{"x-api-key": srv.APIKey}
	srv.FailNext(1, http.StatusTooManyRequests, 2*time.Second)
	req, _ := http.NewRequest("GET", srv.BaseURL+"/api/v1/events", nil)
	req.Header.Set("x-api-key", srv.APIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 429, resp.StatusCode, "429 fault: %d %s", resp.StatusCode, b)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"), "429 fault: %d %s", resp.StatusCode, b)
	assert.Equal(t, "RATE_LIMIT_EXCEEDED", code(t, b), "429 fault: %d %s", resp.StatusCode, b)
	srv.DropNext(1)
	// A POST: net/http would silently resend a GET on a fresh connection.
	post, _ := http.NewRequest("POST", srv.BaseURL+"/api/v1/ws/token", strings.NewReader(`{"scope":"merchant","ttl_seconds":60}`))
	post.Header.Set("x-api-key", srv.APIKey)
	if resp, err := http.DefaultClient.Do(post); err == nil {
		resp.Body.Close()
		t.Error("dropped request answered")
	}
	srv.SetLatency(20 * time.Millisecond)
	start := time.Now()
	status, _ := do(t, srv, "GET", "/api/v1/events", auth, "")
	assert.Equal(t, 200, status, "latency: %d after %v", status, time.Since(start))
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "latency: %d after %v", status, time.Since(start))
	srv.ResetFaults()
	status, _ = do(t, srv, "GET", "/nope", auth, "")
	assert.Equal(t, 404, status, "unknown route")
}

func TestExpiredWSTokenRefused(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := pepaytest.NewServer(pepaytest.WithClock(clock))
	defer srv.Close()
	c, _ := srv.NewClient()
	tok, err := c.NewWSToken(context.Background(), pepay.ScopeMerchant, time.Minute)
	require.NoError(t, err, "token = %v, %v", tok, err)
	require.True(t, tok.ExpiresAt.Equal(now.Add(time.Minute)), "token = %v, %v", tok, err)
	_, err = c.NewWSToken(context.Background(), pepay.ScopeCommerce, time.Minute)
	assert.True(t, paykit.IsCode(err, "VALIDATION_ERROR"), "commerce scope with a merchant key: %v", err)
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	status, b := do(t, srv, "GET", pepay.StreamPath+"?token="+tok.Token, nil, "")
	assert.Equal(t, 401, status, "expired token: %d %s", status, b)
	assert.Equal(t, "TOKEN_EXPIRED", code(t, b), "expired token: %d %s", status, b)
}

// readIDs reads n event frames from a stream connection and returns their ids.
func readIDs(ctx context.Context, t *testing.T, conn *websocket.Conn, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		_, b, err := conn.Read(ctx)
		require.NoError(t, err, "after %d frames", len(ids))
		var e struct{ ID, Type string }
		require.NoError(t, json.Unmarshal(b, &e))
		ids = append(ids, e.ID)
	}
	return ids
}

// FailStreamsNext answers upgrades with a status, Retry-After and the error envelope;
// ResendOnResume starts a resume n matching events before since. ResetFaults clears both.
func TestStreamFaults(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	auth := map[string]string{"x-api-key": srv.APIKey}
	srv.FailStreamsNext(2, http.StatusServiceUnavailable, 1500*time.Millisecond)
	req, _ := http.NewRequest("GET", srv.URL+pepay.StreamPath, nil)
	req.Header.Set("x-api-key", srv.APIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode, "refused upgrade: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"), "refused upgrade: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	assert.Equal(t, "INTERNAL_SERVER_ERROR", code(t, b), "refused upgrade: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	srv.ResetFaults()
	status, b := do(t, srv, "GET", pepay.StreamPath, auth, "")
	assert.NotEqual(t, 503, status, "refusal survived ResetFaults: %s", b)

	// Events: invoice.created ×6 and test.ping between them; the stream keeps invoice.* only.
	var invoiceEvents []string
	for i := range 6 {
		_, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.NewDecimal(int64(i+1), 0)})
		require.NoError(t, err)
		invoiceEvents = append(invoiceEvents, srv.LastEventID())
		srv.Ping(ctx)
	}
	srv.ResendOnResume(3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	since := invoiceEvents[4] // the client handled up to the fifth invoice.created
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+pepay.StreamPath+"?types=invoice.*&since="+since,
		&websocket.DialOptions{HTTPHeader: http.Header{"X-Api-Key": {srv.APIKey}}})
	require.NoError(t, err)
	defer conn.CloseNow()
	// Three matching events up to and including since, then the one after it.
	got, want := readIDs(ctx, t, conn, 4), invoiceEvents[2:6]
	assert.Equal(t, strings.Join(want, ","), strings.Join(got, ","), "resumed frames %v, want %v", got, want)
	st := srv.StreamStats()
	assert.Equal(t, 3, st.Resent, "stats %+v", st)
	assert.Equal(t, 4, st.Frames, "stats %+v", st)
	assert.Equal(t, 1, st.Refused, "stats %+v", st)
}

// Lifecycle helpers return once the webhooks of their events were delivered, with the last
// Delivery (nil when no endpoint is set); PayAmount of the whole remainder is Pay.
func TestHelpersDeliverBeforeReturning(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	id, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	require.NoError(t, err)
	d, err := srv.PayAmount(ctx, id, 400)
	require.NoError(t, err, "PayAmount without an endpoint = %+v, %v", d, err)
	require.Nil(t, d, "PayAmount without an endpoint = %+v, %v", d, err)
	var mu sync.Mutex
	var got []string
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get(pepay.EventTypeHeader))
		mu.Unlock()
	}))
	defer endpoint.Close()
	srv.SetWebhook(endpoint.URL, "whsec_sync")
	received := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}

	d, err = srv.Pay(ctx, id)
	require.NoError(t, err, "Pay = %+v, %v", d, err)
	require.NotNil(t, d, "Pay = %+v, %v", d, err)
	require.True(t, d.Delivered, "Pay = %+v, %v", d, err)
	require.Equal(t, pepay.EventInvoicePaymentUpdated, d.Event, "Pay = %+v, %v", d, err)
	require.Equal(t, id, d.InvoiceID, "Pay = %+v, %v", d, err)
	require.Len(t, d.Attempts, 1, "Pay = %+v, %v", d, err)
	want := []string{"invoice_payment.created", "invoice.updated", "invoice_payment.updated"}
	assert.Equal(t, strings.Join(want, "|"), strings.Join(received(), "|"), "received before Pay returned")
	dels := srv.Deliveries()
	require.Len(t, dels, 3, "Deliveries() = %d, last %p, want 3 ending with %p", len(dels), dels[len(dels)-1], d)
	assert.Equal(t, d, dels[2], "Deliveries() = %d, last %p, want 3 ending with %p", len(dels), dels[len(dels)-1], d)

	id2, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	require.NoError(t, err, "AddInvoice: %v; %d received", err, len(received()))
	require.Len(t, received(), 4, "AddInvoice: %v; %d received", err, len(received()))
	d, err = srv.PayAmount(ctx, id2, 1000)
	inv, _ := srv.Invoice(id2)
	require.NoError(t, err, "PayAmount of the remainder = %+v, %v; invoice %s", d, err, inv.Status)
	require.NotNil(t, d, "PayAmount of the remainder = %+v, %v; invoice %s", d, err, inv.Status)
	assert.Equal(t, pepay.EventInvoicePaymentUpdated, d.Event, "PayAmount of the remainder = %+v, %v; invoice %s", d, err, inv.Status)
	assert.Equal(t, pepay.StatusPaid, inv.Status, "PayAmount of the remainder = %+v, %v; invoice %s", d, err, inv.Status)
	_, err = srv.PayAmount(ctx, id2, 1)
	assert.Error(t, err, "PayAmount on a paid invoice accepted")
	pid, err := srv.Ping(ctx)
	dels = srv.Deliveries()
	last := dels[len(dels)-1]
	require.NoError(t, err, "Ping = %q, %v; last delivery %+v", pid, err, last)
	assert.Equal(t, pid, last.EventID, "Ping = %q, %v; last delivery %+v", pid, err, last)
	assert.Equal(t, pepay.EventTestPing, last.Event, "Ping = %q, %v; last delivery %+v", pid, err, last)
	assert.Empty(t, last.InvoiceID, "Ping = %q, %v; last delivery %+v", pid, err, last)
	d, err = srv.Expire(ctx, "nope")
	require.Error(t, err, "Expire(unknown) = %+v, %v", d, err)
	assert.Nil(t, d, "Expire(unknown) = %+v, %v", d, err)
}

// A helper stops waiting when its context ends; the delivery goes on until Close.
func TestHelperWaitEndsWithContext(t *testing.T) {
	srv := pepaytest.NewServer(pepaytest.WithDeliveryAttempts(1000, func(int) time.Duration { return 5 * time.Millisecond }))
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer endpoint.Close()
	id, _ := srv.AddInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	srv.SetWebhook(endpoint.URL, "whsec_down")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	d, err := srv.Pay(ctx, id)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "Pay = %+v, %v; want the context's error", d, err)
	assert.Nil(t, d, "Pay = %+v, %v; want the context's error", d, err)
	inv, _ := srv.Invoice(id)
	assert.Equal(t, pepay.StatusPaid, inv.Status, "the payment was not made")
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the retrying delivery")
	}
}
