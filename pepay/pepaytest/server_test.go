package pepaytest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

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
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func code(t *testing.T, b []byte) string {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil || e.Success {
		t.Fatalf("not an error envelope: %s", b)
	}
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
		if status != tc.status || code(t, b) != tc.code {
			t.Errorf("%s: %d %s", tc.name, status, b)
		}
	}
	if srv.InvoiceCount() != 0 {
		t.Error("invalid requests created invoices")
	}
	// Same key + same body (keys reordered) → same answer; different body → 409.
	s1, b1 := do(t, srv, "POST", "/api/v1/invoices", key, `{"amount_usd":1,"description":"a"}`)
	s2, b2 := do(t, srv, "POST", "/api/v1/invoices", key, `{"description":"a", "amount_usd":1}`)
	s3, b3 := do(t, srv, "POST", "/api/v1/invoices", key, `{"amount_usd":2,"description":"a"}`)
	if s1 != 201 || s2 != 201 || !bytes.Equal(b1, b2) || s3 != 409 || code(t, b3) != "IDEMPOTENCY_CONFLICT" || srv.InvoiceCount() != 1 {
		t.Errorf("replay: %d %d %d %s", s1, s2, s3, b3)
	}
}

func TestListPagingSemantics(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	for i := range 5 {
		if _, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.NewDecimal(int64(i+1), 0)}); err != nil {
			t.Fatal(err)
		}
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
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
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
	if strings.Join(got, ",") != ev[4].ID+","+ev[3].ID || !more {
		t.Errorf("newest page = %v %v", got, more)
	}
	_, b = do(t, srv, "GET", "/api/v1/events?limit=2&starting_after="+ev[3].ID, auth, "")
	got, more = ids(b, true)
	if strings.Join(got, ",") != ev[2].ID+","+ev[1].ID || !more {
		t.Errorf("starting_after page = %v %v", got, more)
	}
	// ending_before: the events right after the cursor, listed newest first.
	_, b = do(t, srv, "GET", "/api/v1/events?limit=2&ending_before="+ev[0].ID, auth, "")
	got, more = ids(b, true)
	if strings.Join(got, ",") != ev[2].ID+","+ev[1].ID || !more {
		t.Errorf("ending_before page = %v %v", got, more)
	}
	status, b := do(t, srv, "GET", "/api/v1/events?limit=101", auth, "")
	if status != 400 || code(t, b) != "VALIDATION_ERROR" {
		t.Errorf("limit 101: %d %s", status, b)
	}
	status, _ = do(t, srv, "GET", "/api/v1/events?ending_before=evt_0-0", auth, "")
	if status != 404 {
		t.Errorf("unknown cursor: %d", status)
	}
}

// Webhooks are signed over "<ms>.<body>", verified by the pepay verifier, and retried on non-2xx.
func TestWebhookDelivery(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer(pepaytest.WithDeliveryAttempts(4, func(int) time.Duration { return time.Millisecond }))
	defer srv.Close()
	v, err := pepay.NewWebhookVerifier("whsec_new")
	if err != nil {
		t.Fatal(err)
	}
	vOld, _ := pepay.NewWebhookVerifier("whsec_old")
	var calls atomic.Int32
	var mu sync.Mutex
	var got []string
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := v.Verify(body, r.Header); err != nil {
			t.Errorf("verify: %v", err)
		}
		if err := vOld.Verify(body, r.Header); err != nil {
			t.Errorf("verify with the previous secret: %v", err)
		}
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
	if _, err := srv.PayAmount(ctx, id, 500); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.WaitWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	dels := srv.Deliveries()
	if len(dels) != 3 || len(dels[0].Attempts) != 2 || !dels[0].Delivered || dels[0].Attempts[0].Status != 503 {
		t.Fatalf("deliveries = %+v", dels)
	}
	log := srv.EventLog()
	want := []string{
		"invoice.created " + log[0].ID + " devnet",
		"invoice_payment.created " + log[1].ID + " devnet",
		"invoice.updated " + log[2].ID + " devnet",
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q", got)
	}
	if _, err := srv.Pay(ctx, "nope"); err == nil {
		t.Error("Pay on unknown invoice")
	}
	if _, err := srv.PayAmount(ctx, id, 10_000); err == nil {
		t.Error("underpayment above the remainder accepted")
	}
}

func TestFaults(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	auth := map[string]string{"x-api-key": srv.APIKey}
	srv.FailNext(1, http.StatusTooManyRequests, 2*time.Second)
	req, _ := http.NewRequest("GET", srv.BaseURL+"/api/v1/events", nil)
	req.Header.Set("x-api-key", srv.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || code(t, b) != "RATE_LIMIT_EXCEEDED" {
		t.Errorf("429 fault: %d %s", resp.StatusCode, b)
	}
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
	if status, _ := do(t, srv, "GET", "/api/v1/events", auth, ""); status != 200 || time.Since(start) < 20*time.Millisecond {
		t.Errorf("latency: %d after %v", status, time.Since(start))
	}
	srv.ResetFaults()
	if status, _ := do(t, srv, "GET", "/nope", auth, ""); status != 404 {
		t.Errorf("unknown route: %d", status)
	}
}

func TestExpiredWSTokenRefused(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := pepaytest.NewServer(pepaytest.WithClock(clock))
	defer srv.Close()
	c, _ := srv.NewClient()
	tok, err := c.NewWSToken(context.Background(), pepay.ScopeMerchant, time.Minute)
	if err != nil || !tok.ExpiresAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("token = %v, %v", tok, err)
	}
	if _, err := c.NewWSToken(context.Background(), pepay.ScopeCommerce, time.Minute); !paykit.IsCode(err, "VALIDATION_ERROR") {
		t.Errorf("commerce scope with a merchant key: %v", err)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	status, b := do(t, srv, "GET", pepay.StreamPath+"?token="+tok.Token, nil, "")
	if status != 401 || code(t, b) != "TOKEN_EXPIRED" {
		t.Errorf("expired token: %d %s", status, b)
	}
}

// readIDs reads n event frames from a stream connection and returns their ids.
func readIDs(ctx context.Context, t *testing.T, conn *websocket.Conn, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("after %d frames: %v", len(ids), err)
		}
		var e struct{ ID, Type string }
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" || code(t, b) != "INTERNAL_SERVER_ERROR" {
		t.Errorf("refused upgrade: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	srv.ResetFaults()
	if status, b := do(t, srv, "GET", pepay.StreamPath, auth, ""); status == 503 {
		t.Errorf("refusal survived ResetFaults: %s", b)
	}

	// Events: invoice.created ×6 and test.ping between them; the stream keeps invoice.* only.
	var invoiceEvents []string
	for i := range 6 {
		if _, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.NewDecimal(int64(i+1), 0)}); err != nil {
			t.Fatal(err)
		}
		invoiceEvents = append(invoiceEvents, srv.LastEventID())
		srv.Ping(ctx)
	}
	srv.ResendOnResume(3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	since := invoiceEvents[4] // the client handled up to the fifth invoice.created
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+pepay.StreamPath+"?types=invoice.*&since="+since,
		&websocket.DialOptions{HTTPHeader: http.Header{"X-Api-Key": {srv.APIKey}}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	// Three matching events up to and including since, then the one after it.
	if got, want := readIDs(ctx, t, conn, 4), invoiceEvents[2:6]; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("resumed frames %v, want %v", got, want)
	}
	if st := srv.StreamStats(); st.Resent != 3 || st.Frames != 4 || st.Refused != 1 {
		t.Errorf("stats %+v", st)
	}
}

// Lifecycle helpers return once the webhooks of their events were delivered, with the last
// Delivery (nil when no endpoint is set); PayAmount of the whole remainder is Pay.
func TestHelpersDeliverBeforeReturning(t *testing.T) {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	id, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := srv.PayAmount(ctx, id, 400); err != nil || d != nil {
		t.Fatalf("PayAmount without an endpoint = %+v, %v", d, err)
	}
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

	d, err := srv.Pay(ctx, id)
	if err != nil || d == nil || !d.Delivered || d.Event != pepay.EventInvoicePaymentUpdated || d.InvoiceID != id || len(d.Attempts) != 1 {
		t.Fatalf("Pay = %+v, %v", d, err)
	}
	want := []string{"invoice_payment.created", "invoice.updated", "invoice_payment.updated"}
	if g := received(); strings.Join(g, "|") != strings.Join(want, "|") {
		t.Errorf("received before Pay returned: %q, want %q", g, want)
	}
	if dels := srv.Deliveries(); len(dels) != 3 || dels[2] != d {
		t.Errorf("Deliveries() = %d, last %p, want 3 ending with %p", len(dels), dels[len(dels)-1], d)
	}

	id2, err := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	if err != nil || len(received()) != 4 {
		t.Fatalf("AddInvoice: %v; %d received", err, len(received()))
	}
	d, err = srv.PayAmount(ctx, id2, 1000)
	if inv, _ := srv.Invoice(id2); err != nil || d == nil || d.Event != pepay.EventInvoicePaymentUpdated || inv.Status != pepay.StatusPaid {
		t.Errorf("PayAmount of the remainder = %+v, %v; invoice %s", d, err, inv.Status)
	}
	if _, err := srv.PayAmount(ctx, id2, 1); err == nil {
		t.Error("PayAmount on a paid invoice accepted")
	}
	pid, err := srv.Ping(ctx)
	dels := srv.Deliveries()
	if last := dels[len(dels)-1]; err != nil || last.EventID != pid || last.Event != pepay.EventTestPing || last.InvoiceID != "" {
		t.Errorf("Ping = %q, %v; last delivery %+v", pid, err, last)
	}
	if d, err := srv.Expire(ctx, "nope"); err == nil || d != nil {
		t.Errorf("Expire(unknown) = %+v, %v", d, err)
	}
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
	if d, err := srv.Pay(ctx, id); !errors.Is(err, context.DeadlineExceeded) || d != nil {
		t.Errorf("Pay = %+v, %v; want the context's error", d, err)
	}
	if inv, _ := srv.Invoice(id); inv.Status != pepay.StatusPaid {
		t.Errorf("invoice %s: the payment was not made", inv.Status)
	}
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the retrying delivery")
	}
}
