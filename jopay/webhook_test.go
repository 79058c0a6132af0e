package jopay_test

import (
	"bytes"
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
	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
	"github.com/paykit-go/paykit/webhook"
)

// receiver records the events a webhook handler function was called with.
type receiver struct {
	mu     sync.Mutex
	events []*jopay.Event
	fail   int // fail this many calls first
}

func (r *receiver) handle(_ context.Context, e *jopay.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return errors.New("database unavailable")
	}
	r.events = append(r.events, e)
	return nil
}

func (r *receiver) got() []*jopay.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*jopay.Event(nil), r.events...)
}

// webhookRig is a fake JoPay delivering to a real local endpoint running NewWebhookHandler.
func webhookRig(t *testing.T, rcv *receiver, opts ...webhook.Option) (*jopaytest.Server, *jopay.Client, string) {
	t.Helper()
	h, err := jopay.NewWebhookHandler(jopaytest.WebhookSecret, rcv.handle, opts...)
	require.NoError(t, err)
	endpoint := httptest.NewServer(h)
	t.Cleanup(endpoint.Close)
	srv := jopaytest.NewServer()
	t.Cleanup(srv.Close)
	srv.SetWebhook(endpoint.URL+"/webhooks/jopay", jopaytest.WebhookSecret)
	c, err := srv.NewClient()
	require.NoError(t, err)
	return srv, c, endpoint.URL
}

func statuses(d *jopaytest.Delivery) []int {
	var out []int
	for _, a := range d.Attempts {
		out = append(out, a.Status)
	}
	return out
}

func TestWebhookEndToEnd(t *testing.T) {
	rcv := &receiver{}
	srv, c, _ := webhookRig(t, rcv)
	ctx := context.Background()
	req, err := c.CreateRequest(ctx, checkoutParams())
	require.NoError(t, err)
	_, err = srv.AttachProof(ctx, req.ID, "0xfeed")
	require.NoError(t, err)
	d, err := srv.VerifyProof(ctx, req.ID)
	require.NoError(t, err)
	require.True(t, d.Delivered, "delivery = %+v", d)
	require.Len(t, d.Attempts, 1, "delivery = %+v", d)
	sig := d.Header.Get(jopay.SignatureHeader)
	assert.True(t, strings.HasPrefix(sig, "v1="), "JoPay sends v1 first: %q", sig)
	assert.Contains(t, sig, ",t=", "JoPay sends v1 first")
	events := rcv.got()
	require.Len(t, events, 2, "events")
	require.Equal(t, jopay.EventProofAttached, events[0].Type, "events = %v", events)
	require.Equal(t, jopay.EventProofVerified, events[1].Type, "events = %v", events)
	paid := events[1]
	assert.True(t, paid.IsPaid(), "paid event = %+v", paid)
	assert.False(t, events[0].IsPaid(), "attached event = %+v", events[0])
	assert.Equal(t, req.ID, paid.RequestID, "paid event = %+v", paid)
	assert.Equal(t, "0xfeed", paid.TxHash, "paid event = %+v", paid)
	assert.Equal(t, "A-1001", paid.OrderID(), "paid event = %+v", paid)
	assert.Equal(t, jopaytest.PartnerID, paid.PartnerID, "paid event = %+v", paid)
	r, _ := c.GetRequest(ctx, req.ID)
	assert.True(t, r.IsPaid(), "request not paid: %+v", r)

	// JoPay redelivers with a new delivery_id: deduped on request+event, fn not run again.
	again, err := srv.Redeliver(ctx, req.ID, jopay.EventProofVerified)
	require.NoError(t, err)
	require.NotEqual(t, d.DeliveryID, again.DeliveryID, "redelivery = %+v", again)
	require.True(t, again.Delivered, "redelivery = %+v", again)
	assert.Len(t, rcv.got(), 2, "handler runs (redelivery deduped)")
}

func TestWebhookBadSignatureAbandoned(t *testing.T) {
	rcv := &receiver{}
	srv, c, url := webhookRig(t, rcv)
	srv.SetWebhook(url, "a-different-secret")
	req, _ := c.CreateRequest(context.Background(), checkoutParams())
	d, err := srv.Pay(context.Background(), req.ID)
	require.NoError(t, err)
	require.True(t, d.Abandoned, "delivery %v abandoned=%v, want one 400 and abandoned", statuses(d), d.Abandoned)
	require.Len(t, d.Attempts, 1, "delivery %v abandoned=%v, want one 400 and abandoned", statuses(d), d.Abandoned)
	require.Equal(t, http.StatusBadRequest, d.Attempts[0].Status, "delivery %v abandoned=%v, want one 400 and abandoned", statuses(d), d.Abandoned)
	assert.Empty(t, rcv.got(), "handler ran for a forged delivery")
}

func TestWebhookHandlerErrorRetried(t *testing.T) {
	rcv := &receiver{fail: 2}
	srv, c, _ := webhookRig(t, rcv)
	req, _ := c.CreateRequest(context.Background(), checkoutParams())
	_, err := srv.AttachProof(context.Background(), req.ID, "")
	require.NoError(t, err)
	// attach: 500, 500, 200. The verified event then goes through at once.
	d, err := srv.VerifyProof(context.Background(), req.ID)
	require.NoError(t, err)
	attach := srv.Deliveries()[0]
	assert.Equal(t, []int{500, 500, 200}, statuses(attach), "attach attempts")
	assert.True(t, attach.Delivered, "attach delivered")
	assert.Equal(t, []int{200}, statuses(d), "verify attempts")
	assert.Len(t, rcv.got(), 2, "handled (each once)")
}

func TestWebhookSecretRotation(t *testing.T) {
	const newSecret = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	rcv := &receiver{}
	h, err := jopay.NewWebhookHandler(newSecret, rcv.handle,
		webhook.WithPreviousSecrets(jopaytest.WebhookSecret))
	require.NoError(t, err)
	endpoint := httptest.NewServer(h)
	defer endpoint.Close()
	srv := jopaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	srv.SetWebhook(endpoint.URL, jopaytest.WebhookSecret) // still signing with the old one
	req, _ := c.CreateRequest(context.Background(), checkoutParams())
	d, _ := srv.Pay(context.Background(), req.ID)
	require.True(t, d.Delivered, "old secret refused during rotation: %v", statuses(d))
	srv.SetWebhook(endpoint.URL, newSecret)
	req2, _ := c.CreateRequest(context.Background(), checkoutParams())
	d, _ = srv.Pay(context.Background(), req2.ID)
	require.True(t, d.Delivered, "new secret refused: %v", statuses(d))
	assert.Len(t, rcv.got(), 4, "handled")
}

func TestWebhookHandlerStatuses(t *testing.T) {
	rcv := &receiver{}
	h, err := jopay.NewWebhookHandler(jopaytest.WebhookSecret, rcv.handle,
		webhook.WithMaxPayloadBytes(2048))
	require.NoError(t, err)
	body := apitest.Fixture(t, "webhook_proof_verified.json")
	now := time.Now()
	send := func(method string, body []byte, sig string) (int, string) {
		r := httptest.NewRequest(method, "/webhooks/jopay", bytes.NewReader(body))
		if sig != "" {
			r.Header.Set("x-jopay-signature", sig) // lower case, as the docs also write it
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, strings.TrimSpace(w.Body.String())
	}
	sign := func(b []byte, at time.Time) string { return jopaytest.SignatureHeader(jopaytest.WebhookSecret, at, b) }
	big := append(bytes.TrimSuffix(bytes.TrimSpace(body), []byte("}")), []byte(`,"pad":"`+strings.Repeat("x", 4096)+`"}`)...)
	notJSON := []byte("not json")
	cases := []struct {
		name   string
		method string
		body   []byte
		sig    string
		status int
		text   string
	}{
		{"ok", "POST", body, sign(body, now), 200, "ok"},
		{"duplicate", "POST", body, sign(body, now.Add(-time.Second)), 200, "duplicate"},
		{"no signature", "POST", body, "", 400, "invalid_signature"},
		{"tampered", "POST", append(bytes.Clone(body), ' '), sign(body, now), 400, "invalid_signature"},
		{"stale", "POST", body, sign(body, now.Add(-10*time.Minute)), 400, "timestamp_out_of_range"},
		{"signed garbage", "POST", notJSON, sign(notJSON, now), 400, "invalid_payload"},
		{"too large", "POST", big, sign(big, now), 413, "payload_too_large"},
		{"GET", "GET", nil, "", 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		code, text := send(tc.method, tc.body, tc.sig)
		assert.Equal(t, tc.status, code, "%s: %q", tc.name, text)
		assert.Equal(t, tc.text, text, "%s: %d", tc.name, code)
	}
	assert.Len(t, rcv.got(), 1, "handler runs")
}

func TestWebhookVerifier(t *testing.T) {
	_, err := jopay.NewWebhookVerifier("")
	assert.ErrorIs(t, err, webhook.ErrEmptySecret, "empty secret")
	_, err = jopay.NewWebhookHandler("s", nil)
	assert.Error(t, err, "nil fn accepted")
	v, err := jopay.NewWebhookVerifier(jopaytest.WebhookSecret)
	require.NoError(t, err)
	body := apitest.Fixture(t, "webhook_proof_verified.json")
	r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	r.Header.Set(jopay.SignatureHeader, jopaytest.SignatureHeader(jopaytest.WebhookSecret, time.Now(), body))
	e, err := v.ParseRequest(r)
	require.NoError(t, err, "ParseRequest = %v", e)
	require.True(t, e.IsPaid(), "ParseRequest = %v, %v", e, err)
	assert.ErrorIs(t, v.Verify(body, "v1=00,t=1"), webhook.ErrSignatureMismatch, "Verify bad")
}

// TestWebhookNoDedupe: WithDeduper(nil) runs every verified delivery.
func TestWebhookNoDedupe(t *testing.T) {
	rcv := &receiver{}
	srv, c, _ := webhookRig(t, rcv, webhook.WithDeduper(nil))
	req, _ := c.CreateRequest(context.Background(), checkoutParams())
	_, _ = srv.Pay(context.Background(), req.ID)
	_, _ = srv.Redeliver(context.Background(), req.ID, jopay.EventProofVerified)
	assert.Len(t, rcv.got(), 3, "handled")
}

// TestWebhookReplayWithoutIDsRunsOnce: a signed event that names neither a request nor a
// delivery, replayed within the tolerance (or redelivered under a new timestamp), runs the
// handler once: its key is the hash of the signed body.
func TestWebhookReplayWithoutIDsRunsOnce(t *testing.T) {
	rcv := &receiver{}
	h, err := jopay.NewWebhookHandler(jopaytest.WebhookSecret, rcv.handle)
	require.NoError(t, err)
	body := []byte(`{"event":"payment.proof_verified","proof_status":"verified","timestamp":"2026-05-02T09:15:00.000Z"}`)
	now := time.Now()
	for i, at := range []time.Time{now, now, now.Add(-time.Minute)} {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/jopay", bytes.NewReader(body))
		r.Header.Set("X-JoPay-Signature", jopaytest.SignatureHeader(jopaytest.WebhookSecret, at, body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, http.StatusOK, w.Code, "delivery %d %s", i, w.Body)
	}
	assert.Equal(t, 1, len(rcv.got()), "one signed body ran the handler")
}

// The golden vector: computed outside this module with
//
//	printf '%s' '1767225600.{"event":"payment.proof_verified",…}' | openssl dgst -sha256 -hmac whsec_jopay_golden
const (
	goldenSecret = "whsec_jopay_golden"
	goldenBody   = `{"event":"payment.proof_verified","delivery_id":"del_1","request_id":"req_1","proof_status":"verified","tx_hash":"0xfeed"}`
	goldenDigest = "c58f777ded9de8d6e65a4a9664e8ff4ce792e586ea43727a2b39fc1441df7efa"
	goldenHeader = "v1=" + goldenDigest + ",t=1767225600"
)

var goldenTime = time.Unix(1767225600, 0)

// TestWebhookGoldenVector checks the wire format against literal values: the header name
// X-JoPay-Signature, "v1=<hex>,t=<unix>", and the HMAC-SHA256 of "<t>.<body>".
func TestWebhookGoldenVector(t *testing.T) {
	assert.Equal(t, goldenHeader, jopaytest.SignatureHeader(goldenSecret, goldenTime, []byte(goldenBody)), "jopaytest.SignatureHeader")
	clock := webhook.WithClock(func() time.Time { return goldenTime })
	v, err := jopay.NewWebhookVerifier(goldenSecret, clock)
	require.NoError(t, err)
	assert.NoError(t, v.Verify([]byte(goldenBody), goldenHeader), "golden signature refused")
	assert.ErrorIs(t, v.Verify([]byte(goldenBody), "v1="+strings.Repeat("0", 64)+",t=1767225600"), webhook.ErrSignatureMismatch, "zero digest")

	rcv := &receiver{}
	h, err := jopay.NewWebhookHandler(goldenSecret, rcv.handle, clock)
	require.NoError(t, err)
	for _, name := range []string{"X-JoPay-Signature", "x-jopay-signature"} { // the docs write both
		r := httptest.NewRequest(http.MethodPost, "/webhooks/jopay", strings.NewReader(goldenBody))
		r.Header.Set(name, goldenHeader)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, http.StatusOK, w.Code, "golden delivery in %s %s", name, w.Body)
	}
	if got := rcv.got(); assert.Len(t, got, 1, "handled") {
		assert.Equal(t, "req_1", got[0].RequestID, "handled %v", got)
	}
}

// TestWebhookFakeSendsGoldenFormat: jopaytest delivers under the literal header name, v1
// first, with the HMAC-SHA256 of "<t>.<body>" as computed here with crypto/hmac.
func TestWebhookFakeSendsGoldenFormat(t *testing.T) {
	var mu sync.Mutex
	type seen struct {
		sig  string
		body []byte
	}
	var got []seen
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Header.Get("X-JoPay-Signature"), b})
		mu.Unlock()
	}))
	defer endpoint.Close()
	srv := jopaytest.NewServer()
	defer srv.Close()
	srv.SetWebhook(endpoint.URL, goldenSecret)
	c, err := srv.NewClient()
	require.NoError(t, err)
	req, err := c.CreateRequest(context.Background(), checkoutParams())
	require.NoError(t, err)
	_, err = srv.Pay(context.Background(), req.ID)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, got, "no delivery")
	for i, d := range got {
		v1, ts, ok := strings.Cut(strings.TrimPrefix(d.sig, "v1="), ",t=")
		if !assert.True(t, ok && strings.HasPrefix(d.sig, "v1="), "delivery %d: X-JoPay-Signature = %q, want v1=<hex>,t=<unix>", i, d.sig) {
			continue
		}
		m := hmac.New(sha256.New, []byte(goldenSecret))
		m.Write([]byte(ts + "." + string(d.body)))
		assert.Equal(t, hex.EncodeToString(m.Sum(nil)), v1, "delivery %d: v1", i)
	}
}
