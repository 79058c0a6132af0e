package jopaycheckouttest_test

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jopaycheckout/jopaycheckouttest"
	"github.com/paykit-go/paykit/webhook"
)

// post sends a raw create request and returns status and decoded JSON body.
func post(t *testing.T, fake *jopaycheckouttest.Server, key, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fake.BaseURL+"/sessions", strings.NewReader(body))
	require.NoError(t, err)
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
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out), "answer is not JSON: %s", b)
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
			assert.Equal(t, http.StatusBadRequest, status, "%v", out)
			assert.Equal(t, tt.code, out["error"], "%d %v", status, out)
			msg, _ := out["message"].(string)
			assert.NotEmpty(t, msg, "no message")
		})
	}
	assert.Empty(t, fake.Sessions(), "sessions created by invalid requests")
}

func TestAuthAndRoutes(t *testing.T) {
	fake := jopaycheckouttest.NewServer(jopaycheckouttest.WithAPIKey("sk_live_b"), jopaycheckouttest.WithAdditionalAPIKey("sk_test_a"))
	defer fake.Close()
	for _, key := range []string{"", "sk_test_wrong", jopaycheckouttest.DefaultAPIKey} {
		status, out := post(t, fake, key, validBody)
		assert.Equal(t, 401, status, "key %q %v", key, out)
		assert.Equal(t, "unauthorized", out["error"], "key %q: %d %v", key, status, out)
	}
	status, out := post(t, fake, "sk_live_b", validBody)
	require.Equal(t, 200, status, "create %v", out)
	require.Equal(t, "cs_fake_000001", out["id"], "create: %d %v", status, out)
	require.Equal(t, "pending", out["status"], "create: %d %v", status, out)
	require.Equal(t, float64(5000), out["amount_cents"], "create: %d %v", status, out)
	get := func(method, path string) (int, map[string]any) {
		req, _ := http.NewRequest(method, fake.BaseURL+path, nil)
		req.Header.Set("Authorization", "Bearer sk_test_a")
		return do(t, req)
	}
	status, out = get(http.MethodGet, "/sessions/cs_nope")
	assert.Equal(t, 404, status, "unknown session %v", out)
	assert.Equal(t, "session_not_found", out["error"], "unknown session: %d %v", status, out)
	status, _ = get(http.MethodDelete, "/sessions/cs_fake_000001")
	assert.Equal(t, 405, status, "DELETE")
	status, _ = get(http.MethodGet, "/sessions")
	assert.Equal(t, 405, status, "GET /sessions (list is undocumented)")
	status, _ = get(http.MethodGet, "/other")
	assert.Equal(t, 404, status, "unknown route")
	c, err := fake.NewClient()
	require.NoError(t, err)
	// NewClient uses the WithAPIKey key, "sk_live_b".
	assert.Equal(t, jopaycheckout.ModeLive, c.Mode(), "NewClient picked the wrong key")
	_, err = c.GetSession(context.Background(), "cs_fake_000001")
	assert.NoError(t, err)
}

func TestIdempotencyReplay(t *testing.T) {
	fake := jopaycheckouttest.NewServer(jopaycheckouttest.WithIdempotencyHeader("Idempotency-Key"))
	defer fake.Close()
	key := jopaycheckouttest.DefaultAPIKey
	_, first := post(t, fake, key, validBody, "Idempotency-Key", "k1")
	status, again := post(t, fake, key, validBody, "Idempotency-Key", "k1")
	assert.Equal(t, 200, status, "replay: %v", again)
	assert.Equal(t, first["id"], again["id"], "replay: %d %v", status, again)
	other := strings.Replace(validBody, "2500", "2600", 1)
	status, out := post(t, fake, key, other, "Idempotency-Key", "k1")
	assert.Equal(t, 409, status, "conflict %v", out)
	assert.Equal(t, "idempotency_conflict", out["error"], "conflict: %d %v", status, out)
	_, out = post(t, fake, key, validBody, "Idempotency-Key", "k2")
	assert.NotEqual(t, first["id"], out["id"], "a new key replayed")
	_, out = post(t, fake, key, validBody)
	assert.NotEqual(t, first["id"], out["id"], "no key replayed")
	assert.Len(t, fake.Sessions(), 3, "sessions")
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
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 429, resp.StatusCode, "429 fault %q %s", resp.Header.Get("Retry-After"), b)
	assert.Equal(t, "3", resp.Header.Get("Retry-After"), "429 fault: %d %s", resp.StatusCode, b)
	assert.True(t, bytes.Contains(b, []byte(`"error":"rate_limited"`)), "429 fault: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	status, out := post(t, fake, key, validBody) // the GET-only fault does not match a POST
	require.Equal(t, 200, status, "create %v", out)
	// The hosted page is not an API call: the queued 502 stays for the next API GET.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get(fake.URL + "/checkout/" + out["id"].(string) + "?action=cancel")
	require.NoError(t, err)
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, fake.BaseURL+"/sessions/"+out["id"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+key)
	status, out = do(t, req)
	assert.Equal(t, 502, status, "GET fault %v", out)
	assert.Equal(t, "internal_error", out["error"], "GET fault: %d %v", status, out)
	assert.Len(t, fake.Calls(), 3, "Calls()")
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
	require.NoError(t, err)
	rc := &receiver{v: v}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	c, err := fake.NewClient()
	require.NoError(t, err)
	s, err := c.CreateSession(ctx, jopaycheckout.CreateSessionParams{
		AmountCents: 4200, Currency: "eur", CustomerEmail: "ana@example.org",
		SuccessURL: "https://s.example/ok", CancelURL: "https://s.example/no", Metadata: map[string]string{"cart": "C-77"},
	})
	require.NoError(t, err)
	// No webhook registered yet: state changes, nothing delivered.
	d, err := fake.Fail(ctx, s.ID)
	require.NoError(t, err, "Fail without webhook: %+v", d)
	assert.Nil(t, d, "Fail without webhook")
	fake.SetWebhook(srv.URL, "whsec_test")
	d, err = fake.Pay(ctx, s.ID)
	require.NoError(t, err, "Pay: %+v", d)
	require.True(t, d.Delivered, "Pay: %+v, %v", d, err)
	_, err = fake.Pay(ctx, s.ID)
	assert.ErrorIs(t, err, jopaycheckouttest.ErrInvalidState, "second Pay")
	_, err = fake.Expire(ctx, "cs_unknown")
	assert.ErrorIs(t, err, jopaycheckouttest.ErrNotFound, "unknown")
	snap, _ := fake.Session(s.ID)
	assert.Equal(t, "completed", snap.Status, "snapshot = %+v", snap)
	assert.Equal(t, 1, snap.FailedAttempts, "snapshot = %+v", snap)
	assert.False(t, snap.CompletedAt.IsZero(), "snapshot = %+v", snap)
	rc.mu.Lock()
	events := rc.events
	rc.mu.Unlock()
	require.Len(t, events, 1, "events")
	want := jopaycheckout.Session{
		ID: s.ID, Status: jopaycheckout.StatusCompleted, RawStatus: "completed", AmountCents: 4200, Currency: "eur",
		CustomerEmail: "ana@example.org", Metadata: map[string]string{"cart": "C-77"}, CompletedAt: snap.CompletedAt,
	}
	assert.Empty(t, cmp.Diff(want, events[0].Data), "event data (-want +got)")

	// A receiver answering 404 is retried too (non-2xx rule), up to the attempt limit.
	rc.status = http.StatusNotFound
	d, err = fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted)
	require.NoError(t, err, "redelivery to a 404 receiver: %+v", d)
	assert.False(t, d.Delivered, "redelivery to a 404 receiver: %+v", d)
	assert.Len(t, d.Attempts, 3, "redelivery to a 404 receiver: %+v", d)
	assert.Equal(t, jopaycheckout.EventSessionCompleted, d.Event, "redelivery to a 404 receiver: %+v", d)
	assert.Equal(t, s.ID, d.SessionID, "redelivery to a 404 receiver: %+v", d)
	// The Fail before SetWebhook was never delivered, so there is nothing to redeliver.
	_, err = fake.Redeliver(ctx, s.ID, jopaycheckout.EventPaymentFailed)
	assert.ErrorIs(t, err, jopaycheckouttest.ErrNotFound, "Redeliver of an event never sent")
	assert.Len(t, fake.Deliveries(), 2, "deliveries recorded")
}

func TestHostedPage(t *testing.T) {
	ctx := context.Background()
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	c, err := fake.NewClient()
	require.NoError(t, err)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	open := func(url string) (int, string) {
		resp, err := noFollow.Get(url)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	create := func() *jopaycheckout.Session {
		s, err := c.CreateSession(ctx, jopaycheckout.CreateSessionParams{AmountCents: 100, Currency: "usd",
			SuccessURL: "https://s.example/ok?order=9", CancelURL: "https://s.example/no"})
		require.NoError(t, err)
		return s
	}
	s := create()
	st, loc := open(s.URL + "?action=cancel")
	assert.Equal(t, 303, st, "cancel %s", loc)
	assert.Equal(t, "https://s.example/no", loc, "cancel: %d", st)
	st, _ = open(s.URL + "?action=fail")
	assert.Equal(t, 402, st, "fail")
	snap, _ := fake.Session(s.ID)
	assert.Equal(t, "open", snap.Status, "after cancel and fail: %+v", snap)
	assert.Equal(t, 1, snap.FailedAttempts, "after cancel and fail: %+v", snap)
	want := "https://s.example/ok?order=9&session_id=" + s.ID
	st, loc = open(s.URL)
	assert.Equal(t, 303, st, "pay %s, want 303 %s", loc, want)
	assert.Equal(t, want, loc, "pay: %d", st)
	st, loc = open(s.URL)
	assert.Equal(t, 303, st, "paying again %s", loc)
	assert.Equal(t, want, loc, "paying again: %d", st)
	st, _ = open(s.URL + "?action=bogus")
	assert.Equal(t, 400, st, "bogus action")
	s2 := create()
	_, err = fake.Expire(ctx, s2.ID)
	require.NoError(t, err)
	st, _ = open(s2.URL)
	assert.Equal(t, 410, st, "expired")
	st, _ = open(fake.URL + "/checkout/cs_nope")
	assert.Equal(t, 404, st, "unknown")
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
		_, err := client.CreateSession(context.Background(), params)
		require.NoError(t, err)
		n := fake.CountCalls("POST", jopaycheckouttest.APIPath+"/sessions")
		assert.Equal(t, tc.want, n, "CountCalls")
		assert.Len(t, fake.Calls(), tc.want, "Calls")
		fake.Close()
	}
}
