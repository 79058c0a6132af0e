package jopaycheckout_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jopaycheckout/jopaycheckouttest"
	"github.com/paykit-go/paykit/webhook"
)

const whSecret = "whsec_3b9f1c0d7e2a4f6b8c1d3e5f7a9b0c2d"

func TestWebhookVerifier(t *testing.T) {
	payload := apitest.Fixture(t, "webhook_session_completed.json")
	now := time.Unix(1736510701, 0)
	clock := func() time.Time { return now }
	v, err := jopaycheckout.NewWebhookVerifier(whSecret, webhook.WithClock(clock), webhook.WithPreviousSecrets("whsec_old"))
	require.NoError(t, err)
	good := webhook.SignTimestamp(whSecret, now, payload)
	require.True(t, strings.HasPrefix(good, "t=1736510701,v1="), "header = %q", good)
	_, sig, _ := strings.Cut(good, ",")
	tests := []struct {
		name    string
		header  string
		payload []byte
		want    error
	}{
		{"t first (Checkout)", good, payload, nil},
		{"v1 first (Partner API order)", sig + ",t=1736510701", payload, nil},
		{"spaces", " t=1736510701 , " + sig + " ", payload, nil},
		{"previous secret", webhook.SignTimestamp("whsec_old", now, payload), payload, nil},
		{"wrong secret", webhook.SignTimestamp("whsec_other", now, payload), payload, webhook.ErrSignatureMismatch},
		{"body changed", good, append([]byte(" "), payload...), webhook.ErrSignatureMismatch},
		{"stale", webhook.SignTimestamp(whSecret, now.Add(-6*time.Minute), payload), payload, webhook.ErrTimestampOutOfTolerance},
		{"future", webhook.SignTimestamp(whSecret, now.Add(6*time.Minute), payload), payload, webhook.ErrTimestampOutOfTolerance},
		{"missing", "", payload, webhook.ErrMissingSignature},
		{"no t", sig, payload, webhook.ErrMalformedSignature},
	}
	for _, tt := range tests {
		err := v.Verify(tt.payload, tt.header)
		if tt.want == nil {
			assert.NoError(t, err, "%s: Verify", tt.name)
		} else {
			assert.ErrorIs(t, err, tt.want, "%s: Verify", tt.name)
		}
	}

	req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(payload)))
	req.Header.Set("x-jopay-signature", good) // header names are case-insensitive
	e, err := v.ParseRequest(req)
	require.NoError(t, err, "ParseRequest = %+v", e)
	assert.Equal(t, "cs_a1b2c3d4e5f6", e.Data.ID, "ParseRequest = %+v", e)
	assert.True(t, e.IsPaid(), "ParseRequest = %+v", e)

	_, err = jopaycheckout.NewWebhookVerifier("")
	assert.ErrorIs(t, err, webhook.ErrEmptySecret, "empty secret")
	_, err = jopaycheckout.NewWebhookHandler("", func(context.Context, *jopaycheckout.Event) error { return nil })
	assert.ErrorIs(t, err, webhook.ErrEmptySecret, "handler with empty secret")
	_, err = jopaycheckout.NewWebhookHandler(whSecret, nil)
	assert.Error(t, err, "handler with nil fn accepted")
}

// recorder is a webhook receiver: the app function counts and records events, and may fail.
type recorder struct {
	mu     sync.Mutex
	calls  int
	events []*jopaycheckout.Event
	failN  int // fail this many calls first
}

func (r *recorder) handle(_ context.Context, e *jopaycheckout.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.failN > 0 {
		r.failN--
		return errors.New("database unavailable")
	}
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) snapshot() (int, []*jopaycheckout.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, append([]*jopaycheckout.Event(nil), r.events...)
}

// webhookFixture is a fake server, a client for it, a receiver endpoint and one open session.
func webhookFixture(t *testing.T, rec *recorder, opts ...webhook.Option) (*jopaycheckouttest.Server, string, *jopaycheckout.Session) {
	t.Helper()
	fake := jopaycheckouttest.NewServer()
	t.Cleanup(fake.Close)
	h, err := jopaycheckout.NewWebhookHandler(whSecret, rec.handle, opts...)
	require.NoError(t, err)
	receiver := httptest.NewServer(h)
	t.Cleanup(receiver.Close)
	fake.SetWebhook(receiver.URL, whSecret)
	c, err := fake.NewClient()
	require.NoError(t, err)
	p := validParams()
	p.Metadata = map[string]string{"order_id": "A-1001"}
	s, err := c.CreateSession(context.Background(), p)
	require.NoError(t, err)
	return fake, receiver.URL, s
}

func statuses(d *jopaycheckouttest.Delivery) []int {
	var out []int
	for _, a := range d.Attempts {
		out = append(out, a.Status)
	}
	return out
}

func TestWebhookHandlerEndToEnd(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	fake, _, s := webhookFixture(t, rec)

	d, err := fake.Pay(ctx, s.ID)
	require.NoError(t, err)
	require.True(t, d.Delivered, "delivery = %+v", d)
	require.Len(t, d.Attempts, 1, "delivery = %+v", d)
	require.Equal(t, http.StatusOK, d.Attempts[0].Status, "delivery = %+v", d)
	got := d.Header.Get(jopaycheckout.SignatureHeader)
	assert.True(t, strings.HasPrefix(got, "t="), "signature header = %q, want t=… first", got)
	calls, events := rec.snapshot()
	require.Equal(t, 1, calls, "fn ran")
	require.Len(t, events, 1, "fn ran %d times", calls)
	e := events[0]
	assert.Equal(t, jopaycheckout.EventSessionCompleted, e.Type, "event = %+v", e)
	assert.True(t, e.IsPaid(), "event = %+v", e)
	assert.Equal(t, s.ID, e.Data.ID, "event = %+v", e)
	assert.Equal(t, int64(5000), e.Data.AmountCents, "event = %+v", e)
	assert.Equal(t, "A-1001", e.Data.Metadata["order_id"], "event = %+v", e)
	assert.False(t, e.Data.CompletedAt.IsZero(), "event = %+v", e)

	// JoPay redelivers the same event (signed anew): acknowledged, fn not run again.
	d2, err := fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted)
	require.NoError(t, err)
	assert.True(t, d2.Delivered, "redelivery = %+v", d2)
	assert.Equal(t, http.StatusOK, d2.Attempts[0].Status, "redelivery = %+v", d2)
	calls, _ = rec.snapshot()
	assert.Equal(t, 1, calls, "duplicate ran fn")
}

func TestWebhookHandlerBadSignature(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	fake, url, s := webhookFixture(t, rec)

	fake.SetWebhook(url, "whsec_someone_else")
	d, err := fake.Pay(ctx, s.ID)
	require.NoError(t, err)
	require.False(t, d.Delivered, "delivery = %+v, want retried and not delivered", d)
	require.GreaterOrEqual(t, len(d.Attempts), 2, "delivery = %+v, want retried and not delivered", d)
	for _, a := range d.Attempts {
		assert.Equal(t, http.StatusBadRequest, a.Status, "attempt status")
	}
	calls, _ := rec.snapshot()
	assert.Equal(t, 0, calls, "fn ran for forged deliveries")

	// Unsigned delivery: 400 too.
	fake.SetWebhook(url, "")
	_, err = fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted)
	require.NoError(t, err)
	all := fake.Deliveries()
	last := all[len(all)-1]
	assert.False(t, last.Delivered, "unsigned delivery = %+v", last)
	assert.Equal(t, http.StatusBadRequest, last.Attempts[0].Status, "unsigned delivery = %+v", last)

	// The receiver only takes POST.
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "GET answered")
}

func TestWebhookHandlerRetriesAfterFailure(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{failN: 2}
	fake, _, s := webhookFixture(t, rec)

	d, err := fake.Pay(ctx, s.ID)
	require.NoError(t, err)
	got, want := statuses(d), []int{500, 500, 200}
	require.True(t, equalInts(got, want), "attempt statuses = %v, want %v", got, want)
	require.True(t, d.Delivered, "attempt statuses = %v, want %v", got, want)
	calls, events := rec.snapshot()
	assert.Equal(t, 3, calls, "fn calls")
	assert.Len(t, events, 1, "fn successes")
	_, err = fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted)
	require.NoError(t, err)
	calls, _ = rec.snapshot()
	assert.Equal(t, 3, calls, "after success the duplicate ran fn again")
}

// payment.failed can happen several times per session: each attempt reaches fn once.
func TestWebhookHandlerRepeatedFailures(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	fake, _, s := webhookFixture(t, rec)
	for i := 0; i < 2; i++ {
		_, err := fake.Fail(ctx, s.ID)
		require.NoError(t, err)
	}
	_, err := fake.Redeliver(ctx, s.ID, jopaycheckout.EventPaymentFailed) // a duplicate of the second attempt
	require.NoError(t, err)
	_, err = fake.Expire(ctx, s.ID)
	require.NoError(t, err)
	_, events := rec.snapshot()
	var types []string
	for _, e := range events {
		types = append(types, string(e.Type))
		assert.False(t, e.IsPaid(), "%s reported paid", e.Type)
	}
	want := "checkout.payment.failed checkout.payment.failed checkout.session.expired"
	assert.Equal(t, want, strings.Join(types, " "), "events")
	assert.Equal(t, jopaycheckout.StatusOpen, events[0].Data.Status, "failed event session status (%q)", events[0].Data.RawStatus)
	assert.Equal(t, "pending", events[0].Data.RawStatus, "failed event raw status (status %q)", events[0].Data.Status)
}

func TestWebhookHandlerWithoutDedupe(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	fake, _, s := webhookFixture(t, rec, webhook.WithDeduper(nil))
	_, err := fake.Pay(ctx, s.ID)
	require.NoError(t, err)
	_, err = fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted)
	require.NoError(t, err)
	calls, _ := rec.snapshot()
	assert.Equal(t, 2, calls, "without dedupe fn ran")
}

// A Deduper shared between two handlers (two replicas) runs fn once across both.
func TestWebhookHandlerSharedDeduper(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	rec := &recorder{}
	fake, _, s := webhookFixture(t, rec, webhook.WithDeduper(d))
	h2, err := jopaycheckout.NewWebhookHandler(whSecret, rec.handle, webhook.WithDeduper(d))
	require.NoError(t, err)
	replica := httptest.NewServer(h2)
	defer replica.Close()
	_, err = fake.Pay(ctx, s.ID)
	require.NoError(t, err)
	fake.SetWebhook(replica.URL, whSecret)
	_, err = fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted)
	require.NoError(t, err)
	calls, _ := rec.snapshot()
	assert.Equal(t, 1, calls, "fn ran across replicas")
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWebhookReplayRunsOnce: the same signed body, replayed within the tolerance or redelivered
// under a fresh timestamp, runs the handler once for every event type, including the ones whose
// key hashes the body; the signature header plays no part in the key.
func TestWebhookReplayRunsOnce(t *testing.T) {
	rec := &recorder{}
	h, err := jopaycheckout.NewWebhookHandler(whSecret, rec.handle)
	require.NoError(t, err)
	bodies := []string{
		`{"event":"checkout.session.completed","data":{"id":"cs_1","status":"completed"}}`,
		`{"event":"checkout.payment.failed","data":{"id":"cs_1","status":"open"},"created_at":"2025-01-10T12:01:00Z"}`,
		`{"event":"checkout.something_new","data":{"id":"cs_1"}}`,
	}
	now := time.Now()
	for _, body := range bodies {
		for i, at := range []time.Time{now, now, now.Add(-30 * time.Second)} {
			r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
			r.Header.Set("X-JoPay-Signature", webhook.SignTimestamp(whSecret, at, []byte(body)))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, http.StatusOK, w.Code, "%s, delivery %d %s", body, i, w.Body)
		}
	}
	calls, _ := rec.snapshot()
	assert.Equal(t, len(bodies), calls, "%d signed bodies delivered 3 times each: handler runs", len(bodies))
}

// The golden vector: computed outside this module with
//
//	printf '%s' '1767225600.{"event":"checkout.session.completed",…}' | openssl dgst -sha256 -hmac whsec_checkout_golden
const (
	goldenSecret = "whsec_checkout_golden"
	goldenBody   = `{"event":"checkout.session.completed","data":{"id":"cs_golden","status":"completed"}}`
	goldenDigest = "36ea50f1531dc4a6698c4d59cefeb98e16a13c62b2a97f693ac01cd65f7b7080"
	goldenHeader = "t=1767225600,v1=" + goldenDigest
)

var goldenTime = time.Unix(1767225600, 0)

// TestWebhookGoldenVector checks the wire format against literal values: the header name
// X-JoPay-Signature, "t=<unix>,v1=<hex>", and the HMAC-SHA256 of "<t>.<body>".
func TestWebhookGoldenVector(t *testing.T) {
	assert.Equal(t, goldenHeader, webhook.SignTimestamp(goldenSecret, goldenTime, []byte(goldenBody)), "SignTimestamp (the fake's signer)")
	clock := webhook.WithClock(func() time.Time { return goldenTime })
	v, err := jopaycheckout.NewWebhookVerifier(goldenSecret, clock)
	require.NoError(t, err)
	for _, hdr := range []string{goldenHeader, "v1=" + goldenDigest + ",t=1767225600"} {
		assert.NoError(t, v.Verify([]byte(goldenBody), hdr), "golden signature %s refused", hdr)
	}
	rec := &recorder{}
	h, err := jopaycheckout.NewWebhookHandler(goldenSecret, rec.handle, clock)
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(goldenBody))
	r.Header.Set("X-JoPay-Signature", goldenHeader)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	_, events := rec.snapshot()
	assert.Equal(t, http.StatusOK, w.Code, "golden delivery: %s", w.Body)
	if assert.Len(t, events, 1, "golden delivery: handled %v", events) {
		assert.Equal(t, "cs_golden", events[0].Data.ID, "golden delivery: handled %v", events)
	}
}

// TestWebhookFakeSendsGoldenFormat: jopaycheckouttest delivers under the literal header name,
// t first, with the HMAC-SHA256 of "<t>.<body>" as computed here with crypto/hmac.
func TestWebhookFakeSendsGoldenFormat(t *testing.T) {
	var mu sync.Mutex
	var sigs []string
	var bodies [][]byte
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		sigs, bodies = append(sigs, r.Header.Get("X-JoPay-Signature")), append(bodies, b)
		mu.Unlock()
	}))
	defer endpoint.Close()
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	fake.SetWebhook(endpoint.URL, goldenSecret)
	c, err := fake.NewClient()
	require.NoError(t, err)
	s, err := c.CreateSession(context.Background(), validParams())
	require.NoError(t, err)
	_, err = fake.Pay(context.Background(), s.ID)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, sigs, 1, "deliveries")
	ts, v1, ok := strings.Cut(strings.TrimPrefix(sigs[0], "t="), ",v1=")
	require.True(t, ok, "X-JoPay-Signature = %q, want t=<unix>,v1=<hex>", sigs[0])
	require.True(t, strings.HasPrefix(sigs[0], "t="), "X-JoPay-Signature = %q, want t=<unix>,v1=<hex>", sigs[0])
	m := hmac.New(sha256.New, []byte(goldenSecret))
	m.Write([]byte(ts + "." + string(bodies[0])))
	assert.Equal(t, hex.EncodeToString(m.Sum(nil)), v1, "v1")
}
