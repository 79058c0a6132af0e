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
	if err != nil {
		t.Fatal(err)
	}
	good := webhook.SignTimestamp(whSecret, now, payload)
	if !strings.HasPrefix(good, "t=1736510701,v1=") {
		t.Fatalf("header = %q", good)
	}
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
		if err := v.Verify(tt.payload, tt.header); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}

	req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(payload)))
	req.Header.Set("x-jopay-signature", good) // header names are case-insensitive
	e, err := v.ParseRequest(req)
	if err != nil || e.Data.ID != "cs_a1b2c3d4e5f6" || !e.IsPaid() {
		t.Errorf("ParseRequest = %+v, %v", e, err)
	}

	if _, err := jopaycheckout.NewWebhookVerifier(""); !errors.Is(err, webhook.ErrEmptySecret) {
		t.Errorf("empty secret: %v", err)
	}
	if _, err := jopaycheckout.NewWebhookHandler("", func(context.Context, *jopaycheckout.Event) error { return nil }); !errors.Is(err, webhook.ErrEmptySecret) {
		t.Errorf("handler with empty secret: %v", err)
	}
	if _, err := jopaycheckout.NewWebhookHandler(whSecret, nil); err == nil {
		t.Error("handler with nil fn accepted")
	}
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
	if err != nil {
		t.Fatal(err)
	}
	receiver := httptest.NewServer(h)
	t.Cleanup(receiver.Close)
	fake.SetWebhook(receiver.URL, whSecret)
	c, err := fake.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	p := validParams()
	p.Metadata = map[string]string{"order_id": "A-1001"}
	s, err := c.CreateSession(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if !d.Delivered || len(d.Attempts) != 1 || d.Attempts[0].Status != http.StatusOK {
		t.Fatalf("delivery = %+v", d)
	}
	if got := d.Header.Get(jopaycheckout.SignatureHeader); !strings.HasPrefix(got, "t=") {
		t.Errorf("signature header = %q, want t=… first", got)
	}
	calls, events := rec.snapshot()
	if calls != 1 || len(events) != 1 {
		t.Fatalf("fn ran %d times", calls)
	}
	e := events[0]
	if e.Type != jopaycheckout.EventSessionCompleted || !e.IsPaid() || e.Data.ID != s.ID ||
		e.Data.AmountCents != 5000 || e.Data.Metadata["order_id"] != "A-1001" || e.Data.CompletedAt.IsZero() {
		t.Errorf("event = %+v", e)
	}

	// JoPay redelivers the same event (signed anew): acknowledged, fn not run again.
	d2, err := fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted)
	if err != nil {
		t.Fatal(err)
	}
	if !d2.Delivered || d2.Attempts[0].Status != http.StatusOK {
		t.Errorf("redelivery = %+v", d2)
	}
	if calls, _ := rec.snapshot(); calls != 1 {
		t.Errorf("duplicate ran fn: %d calls", calls)
	}
}

func TestWebhookHandlerBadSignature(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	fake, url, s := webhookFixture(t, rec)

	fake.SetWebhook(url, "whsec_someone_else")
	d, err := fake.Pay(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Delivered || len(d.Attempts) < 2 {
		t.Fatalf("delivery = %+v, want retried and not delivered", d)
	}
	for _, a := range d.Attempts {
		if a.Status != http.StatusBadRequest {
			t.Errorf("attempt status %d, want 400", a.Status)
		}
	}
	if calls, _ := rec.snapshot(); calls != 0 {
		t.Errorf("fn ran %d times for forged deliveries", calls)
	}

	// Unsigned delivery: 400 too.
	fake.SetWebhook(url, "")
	if _, err := fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted); err != nil {
		t.Fatal(err)
	}
	all := fake.Deliveries()
	if last := all[len(all)-1]; last.Delivered || last.Attempts[0].Status != http.StatusBadRequest {
		t.Errorf("unsigned delivery = %+v", last)
	}

	// The receiver only takes POST.
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET answered %d", resp.StatusCode)
	}
}

func TestWebhookHandlerRetriesAfterFailure(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{failN: 2}
	fake, _, s := webhookFixture(t, rec)

	d, err := fake.Pay(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := statuses(d), []int{500, 500, 200}; !equalInts(got, want) || !d.Delivered {
		t.Fatalf("attempt statuses = %v, want %v", got, want)
	}
	calls, events := rec.snapshot()
	if calls != 3 || len(events) != 1 {
		t.Errorf("fn calls = %d, successes = %d; want 3 and 1", calls, len(events))
	}
	if _, err := fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted); err != nil {
		t.Fatal(err)
	}
	if calls, _ := rec.snapshot(); calls != 3 {
		t.Errorf("after success the duplicate ran fn again: %d calls", calls)
	}
}

// payment.failed can happen several times per session: each attempt reaches fn once.
func TestWebhookHandlerRepeatedFailures(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	fake, _, s := webhookFixture(t, rec)
	for i := 0; i < 2; i++ {
		if _, err := fake.Fail(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fake.Redeliver(ctx, s.ID, jopaycheckout.EventPaymentFailed); err != nil { // a duplicate of the second attempt
		t.Fatal(err)
	}
	if _, err := fake.Expire(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	_, events := rec.snapshot()
	var types []string
	for _, e := range events {
		types = append(types, string(e.Type))
		if e.IsPaid() {
			t.Errorf("%s reported paid", e.Type)
		}
	}
	want := "checkout.payment.failed checkout.payment.failed checkout.session.expired"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("events = %s, want %s", got, want)
	}
	if events[0].Data.Status != jopaycheckout.StatusOpen || events[0].Data.RawStatus != "pending" {
		t.Errorf("failed event session status = %q (%q)", events[0].Data.Status, events[0].Data.RawStatus)
	}
}

func TestWebhookHandlerWithoutDedupe(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	fake, _, s := webhookFixture(t, rec, webhook.WithDeduper(nil))
	if _, err := fake.Pay(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted); err != nil {
		t.Fatal(err)
	}
	if calls, _ := rec.snapshot(); calls != 2 {
		t.Errorf("without dedupe fn ran %d times, want 2", calls)
	}
}

// A Deduper shared between two handlers (two replicas) runs fn once across both.
func TestWebhookHandlerSharedDeduper(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	rec := &recorder{}
	fake, _, s := webhookFixture(t, rec, webhook.WithDeduper(d))
	h2, err := jopaycheckout.NewWebhookHandler(whSecret, rec.handle, webhook.WithDeduper(d))
	if err != nil {
		t.Fatal(err)
	}
	replica := httptest.NewServer(h2)
	defer replica.Close()
	if _, err := fake.Pay(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	fake.SetWebhook(replica.URL, whSecret)
	if _, err := fake.Redeliver(ctx, s.ID, jopaycheckout.EventSessionCompleted); err != nil {
		t.Fatal(err)
	}
	if calls, _ := rec.snapshot(); calls != 1 {
		t.Errorf("fn ran %d times across replicas", calls)
	}
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
	if err != nil {
		t.Fatal(err)
	}
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
			if w.Code != http.StatusOK {
				t.Errorf("%s, delivery %d: %d %s", body, i, w.Code, w.Body)
			}
		}
	}
	if calls, _ := rec.snapshot(); calls != len(bodies) {
		t.Errorf("%d signed bodies delivered 3 times each ran the handler %d times", len(bodies), calls)
	}
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
	if got := webhook.SignTimestamp(goldenSecret, goldenTime, []byte(goldenBody)); got != goldenHeader {
		t.Errorf("SignTimestamp (the fake's signer) = %s, want %s", got, goldenHeader)
	}
	clock := webhook.WithClock(func() time.Time { return goldenTime })
	v, err := jopaycheckout.NewWebhookVerifier(goldenSecret, clock)
	if err != nil {
		t.Fatal(err)
	}
	for _, hdr := range []string{goldenHeader, "v1=" + goldenDigest + ",t=1767225600"} {
		if err := v.Verify([]byte(goldenBody), hdr); err != nil {
			t.Errorf("golden signature %s refused: %v", hdr, err)
		}
	}
	rec := &recorder{}
	h, err := jopaycheckout.NewWebhookHandler(goldenSecret, rec.handle, clock)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(goldenBody))
	r.Header.Set("X-JoPay-Signature", goldenHeader)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if _, events := rec.snapshot(); w.Code != http.StatusOK || len(events) != 1 || events[0].Data.ID != "cs_golden" {
		t.Errorf("golden delivery: %d %s, handled %v", w.Code, w.Body, events)
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
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CreateSession(context.Background(), validParams())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Pay(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sigs) != 1 {
		t.Fatalf("%d deliveries", len(sigs))
	}
	ts, v1, ok := strings.Cut(strings.TrimPrefix(sigs[0], "t="), ",v1=")
	if !ok || !strings.HasPrefix(sigs[0], "t=") {
		t.Fatalf("X-JoPay-Signature = %q, want t=<unix>,v1=<hex>", sigs[0])
	}
	m := hmac.New(sha256.New, []byte(goldenSecret))
	m.Write([]byte(ts + "." + string(bodies[0])))
	if want := hex.EncodeToString(m.Sum(nil)); v1 != want {
		t.Errorf("v1 = %s, HMAC-SHA256 of <t>.<body> is %s", v1, want)
	}
}
