package jopaycheckouttest_test

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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jopaycheckout/jopaycheckouttest"
	"github.com/paykit-go/paykit/webhook"
)

// post sends a raw create request and returns status and decoded JSON body.
func post(t *testing.T, fake *jopaycheckouttest.Server, key, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fake.BaseURL+"/sessions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer is not JSON: %s", b)
	}
	return resp.StatusCode, out
}

const validBody = `{"line_items":[{"name":"Coffee","amount":2500,"currency":"eur","quantity":2}],"success_url":"https://s.example/ok","cancel_url":"https://s.example/no"}`

func TestValidationErrors(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	key := jopaycheckouttest.DefaultAPIKey
	tests := []struct {
		name, body, code string
	}{
		{"not JSON", `{"line_items":`, "invalid_json"},
		{"neither style", `{"success_url":"https://s.example/ok","cancel_url":"https://s.example/no"}`, "missing_amount"},
		{"both styles", `{"line_items":[{"name":"A","amount":1,"currency":"eur","quantity":1}],"amount_cents":1,"currency":"eur","success_url":"https://s.example/ok","cancel_url":"https://s.example/no"}`, "conflicting_amount"},
		{"item without name", strings.Replace(validBody, `"Coffee"`, `""`, 1), "missing_name"},
		{"item amount zero", strings.Replace(validBody, `2500`, `0`, 1), "invalid_amount"},
		{"item amount fraction", strings.Replace(validBody, `2500`, `25.5`, 1), "invalid_amount"},
		{"item quantity zero", strings.Replace(validBody, `"quantity":2`, `"quantity":0`, 1), "invalid_quantity"},
		{"item currency", strings.Replace(validBody, `"eur"`, `"euro"`, 1), "invalid_currency"},
		{"mixed currencies", `{"line_items":[{"name":"A","amount":1,"currency":"eur","quantity":1},{"name":"B","amount":1,"currency":"usd","quantity":1}],"success_url":"https://s.example/ok","cancel_url":"https://s.example/no"}`, "currency_mismatch"},
		{"amount_cents negative", `{"amount_cents":-1,"currency":"eur","success_url":"https://s.example/ok","cancel_url":"https://s.example/no"}`, "invalid_amount"},
		{"amount_cents without currency", `{"amount_cents":100,"success_url":"https://s.example/ok","cancel_url":"https://s.example/no"}`, "invalid_currency"},
		{"currency without amount", `{"currency":"eur","success_url":"https://s.example/ok","cancel_url":"https://s.example/no"}`, "invalid_amount"},
		{"missing success_url", strings.Replace(validBody, `"success_url":"https://s.example/ok",`, ``, 1), "missing_success_url"},
		{"relative success_url", strings.Replace(validBody, `https://s.example/ok`, `/ok`, 1), "invalid_success_url"},
		{"missing cancel_url", strings.Replace(validBody, `,"cancel_url":"https://s.example/no"`, ``, 1), "missing_cancel_url"},
		{"bad cancel_url", strings.Replace(validBody, `https://s.example/no`, `javascript:alert(1)`, 1), "invalid_cancel_url"},
		{"bad email", strings.Replace(validBody, `{"line_items"`, `{"customer_email":"nope","line_items"`, 1), "invalid_email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := post(t, fake, key, tt.body)
			if status != http.StatusBadRequest || out["error"] != tt.code {
				t.Errorf("got %d %v, want 400 %s", status, out, tt.code)
			}
			if msg, _ := out["message"].(string); msg == "" {
				t.Error("no message")
			}
		})
	}
	if n := len(fake.Sessions()); n != 0 {
		t.Errorf("%d sessions created by invalid requests", n)
	}
}

func TestAuthAndRoutes(t *testing.T) {
	fake := jopaycheckouttest.NewServer(jopaycheckouttest.WithAPIKey("sk_live_b"), jopaycheckouttest.WithAdditionalAPIKey("sk_test_a"))
	defer fake.Close()
	for _, key := range []string{"", "sk_test_wrong", jopaycheckouttest.DefaultAPIKey} {
		if status, out := post(t, fake, key, validBody); status != 401 || out["error"] != "unauthorized" {
			t.Errorf("key %q: %d %v", key, status, out)
		}
	}
	status, out := post(t, fake, "sk_live_b", validBody)
	if status != 200 || out["id"] != "cs_fake_000001" || out["status"] != "pending" || out["amount_cents"] != float64(5000) {
		t.Fatalf("create: %d %v", status, out)
	}
	get := func(method, path string) (int, map[string]any) {
		req, _ := http.NewRequest(method, fake.BaseURL+path, nil)
		req.Header.Set("Authorization", "Bearer sk_test_a")
		return do(t, req)
	}
	if status, out := get(http.MethodGet, "/sessions/cs_nope"); status != 404 || out["error"] != "session_not_found" {
		t.Errorf("unknown session: %d %v", status, out)
	}
	if status, _ := get(http.MethodDelete, "/sessions/cs_fake_000001"); status != 405 {
		t.Errorf("DELETE: %d", status)
	}
	if status, _ := get(http.MethodGet, "/sessions"); status != 405 {
		t.Errorf("GET /sessions (list is undocumented): %d", status)
	}
	if status, _ := get(http.MethodGet, "/other"); status != 404 {
		t.Errorf("unknown route: %d", status)
	}
	c, err := fake.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode() != jopaycheckout.ModeLive { // NewClient uses the WithAPIKey key, "sk_live_b"
		t.Errorf("NewClient picked a %s key", c.Mode())
	}
	if _, err := c.GetSession(context.Background(), "cs_fake_000001"); err != nil {
		t.Error(err)
	}
}

func TestIdempotencyReplay(t *testing.T) {
	fake := jopaycheckouttest.NewServer(jopaycheckouttest.WithIdempotencyHeader("Idempotency-Key"))
	defer fake.Close()
	key := jopaycheckouttest.DefaultAPIKey
	_, first := post(t, fake, key, validBody, "Idempotency-Key", "k1")
	status, again := post(t, fake, key, validBody, "Idempotency-Key", "k1")
	if status != 200 || again["id"] != first["id"] {
		t.Errorf("replay: %d %v, want %v", status, again, first["id"])
	}
	other := strings.Replace(validBody, "2500", "2600", 1)
	if status, out := post(t, fake, key, other, "Idempotency-Key", "k1"); status != 409 || out["error"] != "idempotency_conflict" {
		t.Errorf("conflict: %d %v", status, out)
	}
	if _, out := post(t, fake, key, validBody, "Idempotency-Key", "k2"); out["id"] == first["id"] {
		t.Error("a new key replayed")
	}
	if _, out := post(t, fake, key, validBody); out["id"] == first["id"] {
		t.Error("no key replayed")
	}
	if n := len(fake.Sessions()); n != 3 {
		t.Errorf("%d sessions, want 3", n)
	}
}

func TestFaultsApplyToAPIOnly(t *testing.T) {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	key := jopaycheckouttest.DefaultAPIKey
	fake.AddFault(1, jopaycheckouttest.Fault{Status: 502, Match: func(r *http.Request) bool { return r.Method == http.MethodGet }})
	fake.FailNext(1, 429, 3*time.Second)
	req, _ := http.NewRequest(http.MethodPost, fake.BaseURL+"/sessions", strings.NewReader(validBody))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" || !bytes.Contains(b, []byte(`"error":"rate_limited"`)) {
		t.Errorf("429 fault: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	status, out := post(t, fake, key, validBody) // the GET-only fault does not match a POST
	if status != 200 {
		t.Fatalf("create: %d %v", status, out)
	}
	// The hosted page is not an API call: the queued 502 stays for the next API GET.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get(fake.URL + "/checkout/" + out["id"].(string) + "?action=cancel")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, fake.BaseURL+"/sessions/"+out["id"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if status, out := do(t, req); status != 502 || out["error"] != "internal_error" {
		t.Errorf("GET fault: %d %v", status, out)
	}
	if got := len(fake.Calls()); got != 3 {
		t.Errorf("Calls() = %d, want 3", got)
	}
}

// receiver verifies deliveries with the real verifier and records the events.
type receiver struct {
	mu     sync.Mutex
	v      *jopaycheckout.WebhookVerifier
	events []*jopaycheckout.Event
	status int // answer this instead of 200 when set
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e, err := rc.v.ParseRequest(r)
	if err != nil {
		http.Error(w, "bad", webhook.StatusCode(err))
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.events = append(rc.events, e)
	if rc.status != 0 {
		w.WriteHeader(rc.status)
	}
}

func TestLifecycleDeliversSignedWebhooks(t *testing.T) {
	ctx := context.Background()
	fake := jopaycheckouttest.NewServer(
		jopaycheckouttest.WithDeliveryAttempts(3, func(int) time.Duration { return time.Millisecond }))
	defer fake.Close()
	v, err := jopaycheckout.NewWebhookVerifier("whsec_test")
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{v: v}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	c, err := fake.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CreateSession(ctx, jopaycheckout.CreateSessionParams{
		AmountCents: 4200, Currency: "eur", CustomerEmail: "ana@example.org",
		SuccessURL: "https://s.example/ok", CancelURL: "https://s.example/no", Metadata: map[string]string{"cart": "C-77"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// No webhook registered yet: state changes, nothing delivered.
	if d, err := fake.Fail(ctx, s.ID); err != nil || d != nil {
		t.Errorf("Fail without webhook: %+v, %v", d, err)
	}
	fake.SetWebhook(srv.URL, "whsec_test")
	d, err := fake.Pay(ctx, s.ID)
	if err != nil || !d.Delivered {
		t.Fatalf("Pay: %+v, %v", d, err)
	}
	if _, err := fake.Pay(ctx, s.ID); !errors.Is(err, jopaycheckouttest.ErrInvalidState) {
		t.Errorf("second Pay: %v", err)
	}
	if _, err := fake.Expire(ctx, "cs_unknown"); !errors.Is(err, jopaycheckouttest.ErrNotFound) {
		t.Errorf("unknown: %v", err)
	}
	snap, _ := fake.Session(s.ID)
	if snap.Status != "completed" || snap.FailedAttempts != 1 || snap.CompletedAt.IsZero() {
		t.Errorf("snapshot = %+v", snap)
	}
	rc.mu.Lock()
	events := rc.events
	rc.mu.Unlock()
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	want := jopaycheckout.Session{
		ID: s.ID, Status: jopaycheckout.StatusCompleted, RawStatus: "completed", AmountCents: 4200, Currency: "eur",
		CustomerEmail: "ana@example.org", Metadata: map[string]string{"cart": "C-77"}, CompletedAt: snap.CompletedAt,
	}
	if diff := cmp.Diff(want, events[0].Data); diff != "" {
		t.Errorf("event data (-want +got):\n%s", diff)
	}

	// A receiver answering 404 is retried too (non-2xx rule), up to the attempt limit.
	rc.status = http.StatusNotFound
	d, err = fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted)
	if err != nil || d.Delivered || len(d.Attempts) != 3 || d.Event != jopaycheckout.EventSessionCompleted || d.SessionID != s.ID {
		t.Errorf("redelivery to a 404 receiver: %+v, %v", d, err)
	}
	// The Fail before SetWebhook was never delivered, so there is nothing to redeliver.
	if _, err := fake.Redeliver(ctx, s.ID, jopaycheckout.EventPaymentFailed); !errors.Is(err, jopaycheckouttest.ErrNotFound) {
		t.Errorf("Redeliver of an event never sent: %v", err)
	}
	if n := len(fake.Deliveries()); n != 2 {
		t.Errorf("%d deliveries recorded, want 2", n)
	}
}

func TestHostedPage(t *testing.T) {
	ctx := context.Background()
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, err := fake.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	open := func(url string) (int, string) {
		resp, err := noFollow.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	create := func() *jopaycheckout.Session {
		s, err := c.CreateSession(ctx, jopaycheckout.CreateSessionParams{AmountCents: 100, Currency: "usd",
			SuccessURL: "https://s.example/ok?order=9", CancelURL: "https://s.example/no"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := create()
	if st, loc := open(s.URL + "?action=cancel"); st != 303 || loc != "https://s.example/no" {
		t.Errorf("cancel: %d %s", st, loc)
	}
	if st, _ := open(s.URL + "?action=fail"); st != 402 {
		t.Errorf("fail: %d", st)
	}
	if snap, _ := fake.Session(s.ID); snap.Status != "open" || snap.FailedAttempts != 1 {
		t.Errorf("after cancel and fail: %+v", snap)
	}
	want := "https://s.example/ok?order=9&session_id=" + s.ID
	if st, loc := open(s.URL); st != 303 || loc != want {
		t.Errorf("pay: %d %s, want 303 %s", st, loc, want)
	}
	if st, loc := open(s.URL); st != 303 || loc != want {
		t.Errorf("paying again: %d %s", st, loc)
	}
	if st, _ := open(s.URL + "?action=bogus"); st != 400 {
		t.Errorf("bogus action: %d", st)
	}
	s2 := create()
	if _, err := fake.Expire(ctx, s2.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := open(s2.URL); st != 410 {
		t.Errorf("expired: %d", st)
	}
	if st, _ := open(fake.URL + "/checkout/cs_nope"); st != 404 {
		t.Errorf("unknown: %d", st)
	}
}

// The call log counts API calls by method and path; WithoutCallLog turns it off.
func TestCallLog(t *testing.T) {
	params := jopaycheckout.CreateSessionParams{AmountCents: 500, Currency: "eur",
		SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/no"}
	for _, tc := range []struct {
		opts []jopaycheckouttest.Option
		want int
	}{{nil, 1}, {[]jopaycheckouttest.Option{jopaycheckouttest.WithoutCallLog()}, 0}} {
		fake := jopaycheckouttest.NewServer(tc.opts...)
		client, _ := fake.NewClient()
		if _, err := client.CreateSession(context.Background(), params); err != nil {
			t.Fatal(err)
		}
		if n := fake.CountCalls("POST", jopaycheckouttest.APIPath+"/sessions"); n != tc.want || len(fake.Calls()) != tc.want {
			t.Errorf("CountCalls = %d, Calls = %d, want %d", n, len(fake.Calls()), tc.want)
		}
		fake.Close()
	}
}
