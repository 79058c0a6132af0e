package pepay_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/paykit-go/paykit/webhook"
)

const (
	hookSecret = "whsec_current_0123456789"
	oldSecret  = "whsec_previous_9876543210"
)

// The documented example: headers X-Pepay-Event: invoice.updated, X-Pepay-Timestamp: 1767225600123.
var docTime = time.UnixMilli(1767225600123)

func clockAt(t time.Time) webhook.Option { return webhook.WithClock(func() time.Time { return t }) }

func TestWebhookVerifier(t *testing.T) {
	body := apitest.Fixture(t, "webhook_event.json")
	h := pepaytest.SignatureHeaders(hookSecret, "", docTime, body)
	require.Equal(t, "1767225600123", h.Get(pepay.TimestampHeader), "timestamp header")
	v, err := pepay.NewWebhookVerifier(hookSecret, clockAt(docTime))
	require.NoError(t, err)
	require.NoError(t, v.Verify(body, h), "valid delivery refused")
	tampered := bytes.Replace(body, []byte(`"paid"`), []byte(`"unpaid"`), 1)
	assert.ErrorIs(t, v.Verify(tampered, h), webhook.ErrSignatureMismatch, "tampered body")
	// The timestamp is part of the signed string.
	h2 := h.Clone()
	h2.Set(pepay.TimestampHeader, "1767225600124")
	assert.ErrorIs(t, v.Verify(body, h2), webhook.ErrSignatureMismatch, "changed timestamp")
	for name, edit := range map[string]func(http.Header){
		"no signature": func(h http.Header) { h.Del(pepay.SignatureHeader) },
		"no timestamp": func(h http.Header) { h.Del(pepay.TimestampHeader) },
		"seconds text": func(h http.Header) { h.Set(pepay.TimestampHeader, "2026-01-01") },
		"non-hex sig":  func(h http.Header) { h.Set(pepay.SignatureHeader, "zz") },
	} {
		h3 := h.Clone()
		edit(h3)
		err := v.Verify(body, h3)
		assert.Equal(t, http.StatusBadRequest, webhook.StatusCode(err), "%s: %v", name, err)
	}
	_, err = pepay.NewWebhookVerifier("")
	assert.ErrorIs(t, err, webhook.ErrEmptySecret, "empty secret")
}

// Tolerance is 5 minutes either way, checked at millisecond precision.
func TestWebhookVerifier_tolerance(t *testing.T) {
	body := []byte(`{"id":"evt_1-1"}`)
	h := pepaytest.SignatureHeaders(hookSecret, "", docTime, body)
	for _, tc := range []struct {
		skew time.Duration
		ok   bool
	}{
		{5*time.Minute - time.Millisecond, true},
		{5 * time.Minute, true},
		{5*time.Minute + time.Millisecond, false},
		{-5*time.Minute + time.Millisecond, true},
		{-5*time.Minute - time.Millisecond, false},
	} {
		v, _ := pepay.NewWebhookVerifier(hookSecret, clockAt(docTime.Add(tc.skew)))
		err := v.Verify(body, h)
		if tc.ok != (err == nil) || !tc.ok && !errors.Is(err, webhook.ErrTimestampOutOfTolerance) {
			t.Errorf("skew %v: %v", tc.skew, err)
		}
	}
}

// During a rotation Pepay signs with both secrets; a receiver on either secret accepts.
func TestWebhookVerifier_rotation(t *testing.T) {
	body := apitest.Fixture(t, "webhook_event.json")
	h := pepaytest.SignatureHeaders(hookSecret, oldSecret, docTime, body)
	require.NotEqual(t, h.Get(pepay.SignatureHeader), h.Get(pepay.PreviousSignatureHeader), "previous signature equals current")
	newOnly, _ := pepay.NewWebhookVerifier(hookSecret, clockAt(docTime))
	oldOnly, _ := pepay.NewWebhookVerifier(oldSecret, clockAt(docTime))
	both, _ := pepay.NewWebhookVerifier(hookSecret, clockAt(docTime), webhook.WithPreviousSecrets(oldSecret))
	for name, v := range map[string]*pepay.WebhookVerifier{"new": newOnly, "old": oldOnly, "both": both} {
		assert.NoError(t, v.Verify(body, h), "%s secret refused a rotating delivery", name)
	}
	// Before Pepay rotates, a receiver already holding the new secret as current and the old as
	// previous still accepts deliveries signed with the old secret only.
	oldSigned := pepaytest.SignatureHeaders(oldSecret, "", docTime, body)
	assert.NoError(t, both.Verify(body, oldSigned), "old-only delivery refused by rotating verifier")
	assert.ErrorIs(t, newOnly.Verify(body, oldSigned), webhook.ErrSignatureMismatch, "old-only delivery accepted without the previous secret")
}

func TestWebhookHandler(t *testing.T) {
	var runs atomic.Int32
	fail := atomic.Bool{}
	h, err := pepay.NewWebhookHandler(hookSecret, func(ctx context.Context, e *pepay.Event) error {
		if fail.Load() {
			return errors.New("database down")
		}
		runs.Add(1)
		if e.Invoice() == nil || e.Invoice().Status != pepay.StatusPaid {
			t.Errorf("event = %+v", e)
		}
		return nil
	})
	require.NoError(t, err)
	body := apitest.Fixture(t, "webhook_event.json")
	post := func(hdr http.Header, b []byte) (int, string) {
		r := httptest.NewRequest(http.MethodPost, "/hooks/pepay", bytes.NewReader(b))
		for k, v := range hdr {
			r.Header[k] = v
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, strings.TrimSpace(w.Body.String())
	}
	signed := pepaytest.SignatureHeaders(hookSecret, "", time.Now(), body)
	signed.Set(pepay.EventIDHeader, "evt_header_is_not_signed")

	fail.Store(true)
	code, text := post(signed, body)
	assert.Equal(t, 500, code, "failing handler: %d %s", code, text)
	assert.Equal(t, "internal_error", text, "failing handler: %d %s", code, text)
	fail.Store(false)
	code, _ = post(signed, body)
	assert.Equal(t, 200, code, "retry after failure: %d, runs %d", code, runs.Load())
	assert.Equal(t, int32(1), runs.Load(), "retry after failure: %d, runs %d", code, runs.Load())
	code, text = post(signed, body)
	assert.Equal(t, 200, code, "redelivery: %d %s, runs %d", code, text, runs.Load())
	assert.Equal(t, "duplicate", text, "redelivery: %d %s, runs %d", code, text, runs.Load())
	assert.Equal(t, int32(1), runs.Load(), "redelivery: %d %s, runs %d", code, text, runs.Load())
	stale := pepaytest.SignatureHeaders(hookSecret, "", time.Now().Add(-6*time.Minute), body)
	code, text = post(stale, body)
	assert.Equal(t, 400, code, "stale: %d %s", code, text)
	assert.Equal(t, "timestamp_out_of_range", text, "stale: %d %s", code, text)
	bad := pepaytest.SignatureHeaders("wrong", "", time.Now(), body)
	code, text = post(bad, body)
	assert.Equal(t, 400, code, "bad signature: %d %s", code, text)
	assert.Equal(t, "invalid_signature", text, "bad signature: %d %s", code, text)
	junk := []byte(`{"object":"event"}`)
	code, text = post(pepaytest.SignatureHeaders(hookSecret, "", time.Now(), junk), junk)
	assert.Equal(t, 400, code, "no id: %d %s", code, text)
	assert.Equal(t, "invalid_payload", text, "no id: %d %s", code, text)
	r := httptest.NewRequest(http.MethodGet, "/hooks/pepay", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code, "GET")
	_, err = pepay.NewWebhookHandler("", func(context.Context, *pepay.Event) error { return nil })
	assert.ErrorIs(t, err, webhook.ErrEmptySecret, "empty secret")
	_, err = pepay.NewWebhookHandler(hookSecret, nil)
	assert.Error(t, err, "nil fn accepted")
}

// Dedupe keys on the signed body id, not on the unsigned X-Pepay-Event-ID header.
func TestWebhookHandler_dedupeKeyIsBodyID(t *testing.T) {
	store := webhook.NewMemoryStore()
	d := webhook.NewDeduper(store)
	h, _ := pepay.NewWebhookHandler(hookSecret, func(context.Context, *pepay.Event) error { return nil }, webhook.WithDeduper(d))
	body := apitest.Fixture(t, "webhook_event.json")
	for i := range 2 {
		hdr := pepaytest.SignatureHeaders(hookSecret, "", time.Now(), body)
		hdr.Set(pepay.EventIDHeader, "evt_forged_"+strconv.Itoa(i))
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header = hdr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		want := []string{"ok", "duplicate"}[i]
		assert.Equal(t, want, strings.TrimSpace(w.Body.String()), "delivery %d", i)
	}
	// The shared Deduper now knows the event: the stream would skip it.
	err := d.Do(context.Background(), "evt_1767225600120-7", func(context.Context) error { return nil })
	assert.ErrorIs(t, err, webhook.ErrDuplicate, "shared deduper")
}

// A forged X-Pepay-Event-ID naming another event does not make that event a duplicate, and an
// event delivered without the header is still deduped: only the signed body's id counts.
func TestWebhookHandler_eventIDHeaderIgnored(t *testing.T) {
	var handled []string
	h, err := pepay.NewWebhookHandler(hookSecret, func(_ context.Context, e *pepay.Event) error {
		handled = append(handled, e.ID)
		return nil
	})
	require.NoError(t, err)
	a := []byte(`{"id":"evt_1-1","object":"event","type":"test.ping"}`)
	b := []byte(`{"id":"evt_1-2","object":"event","type":"test.ping"}`)
	deliver := func(body []byte, headerID string) string {
		hdr := pepaytest.SignatureHeaders(hookSecret, "", time.Now(), body)
		if headerID != "" {
			hdr.Set("X-Pepay-Event-ID", headerID)
		}
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header = hdr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return strings.TrimSpace(w.Body.String())
	}
	steps := []struct {
		body     []byte
		headerID string
		want     string
	}{
		{a, "evt_1-2", "ok"},        // a, claiming to be b
		{b, "evt_1-2", "ok"},        // b itself is new
		{a, "", "duplicate"},        // a again, without the header
		{a, "evt_9-9", "duplicate"}, // a again, under yet another header id
	}
	for i, s := range steps {
		assert.Equal(t, s.want, deliver(s.body, s.headerID), "step %d", i)
	}
	assert.Equal(t, "evt_1-1,evt_1-2", strings.Join(handled, ","), "handled %v", handled)
}

// The golden vector: computed outside this module with
//
//	printf '%s' '1767225600123.{"id":"evt_1767225600120-7",…}' | openssl dgst -sha256 -hmac whsec_current_0123456789
//	printf '%s' '1767225600123.{"id":"evt_1767225600120-7",…}' | openssl dgst -sha256 -hmac whsec_previous_9876543210
const (
	goldenBody     = `{"id":"evt_1767225600120-7","object":"event","type":"test.ping","data":{"object":{"object":"ping"}}}`
	goldenDigest   = "e2fae822171509e6f0551bee2f694d1d3bfab40720341c51d10df9f33388dc12"
	goldenPrevious = "eb7a500a22d9c3da41a18ca2f98defc658fe090787ed5bce70b9ae6ff407bbf2"
)

// TestWebhookGoldenVector checks the wire format against literal values: the header names
// X-Pepay-Signature, X-Pepay-Timestamp and X-Pepay-Signature-Previous, milliseconds, and the
// HMAC-SHA256 of "<ms>.<body>".
func TestWebhookGoldenVector(t *testing.T) {
	body := []byte(goldenBody)
	h := pepaytest.SignatureHeaders(hookSecret, "", docTime, body)
	want := http.Header{}
	want.Set("X-Pepay-Timestamp", "1767225600123")
	want.Set("X-Pepay-Signature", goldenDigest)
	if !reflect.DeepEqual(h, want) {
		t.Errorf("SignatureHeaders = %v, want %v", h, want)
	}
	h = pepaytest.SignatureHeaders(hookSecret, oldSecret, docTime, body)
	want.Set("X-Pepay-Signature-Previous", goldenPrevious)
	if !reflect.DeepEqual(h, want) {
		t.Errorf("SignatureHeaders with the previous secret = %v, want %v", h, want)
	}

	literal := func(current, previous string) http.Header {
		h := http.Header{}
		h.Set("X-Pepay-Timestamp", "1767225600123")
		if current != "" {
			h.Set("X-Pepay-Signature", current)
		}
		if previous != "" {
			h.Set("X-Pepay-Signature-Previous", previous)
		}
		return h
	}
	current, _ := pepay.NewWebhookVerifier(hookSecret, clockAt(docTime))
	rotating, _ := pepay.NewWebhookVerifier(hookSecret, clockAt(docTime), webhook.WithPreviousSecrets(oldSecret))
	old, _ := pepay.NewWebhookVerifier(oldSecret, clockAt(docTime))
	for _, tc := range []struct {
		name string
		v    *pepay.WebhookVerifier
		h    http.Header
		ok   bool
	}{
		{"current", current, literal(goldenDigest, ""), true},
		{"both, receiver on the old secret", old, literal(goldenDigest, goldenPrevious), true},
		{"previous only, rotating receiver", rotating, literal("", goldenPrevious), true},
		{"previous only, receiver without it", current, literal("", goldenPrevious), false},
		{"digests swapped", current, literal(goldenPrevious, ""), false},
	} {
		err := tc.v.Verify(body, tc.h)
		assert.Equal(t, tc.ok, err == nil, "%s: %v", tc.name, err)
	}

	var runs atomic.Int32
	hd, _ := pepay.NewWebhookHandler(hookSecret, func(context.Context, *pepay.Event) error { runs.Add(1); return nil },
		clockAt(docTime))
	r := httptest.NewRequest(http.MethodPost, "/hooks/pepay", strings.NewReader(goldenBody))
	r.Header = literal(goldenDigest, "")
	w := httptest.NewRecorder()
	hd.ServeHTTP(w, r)
	assert.Equal(t, http.StatusOK, w.Code, "golden delivery: %d %s, runs %d", w.Code, w.Body, runs.Load())
	assert.Equal(t, int32(1), runs.Load(), "golden delivery: %d %s, runs %d", w.Code, w.Body, runs.Load())
}

// TestWebhookFakeSendsGoldenHeaders: pepaytest delivers under the literal header names, with
// signatures that match the HMAC-SHA256 of "<ms>.<body>" computed here with crypto/hmac, and
// repeats the body's type and id in X-Pepay-Event and X-Pepay-Event-ID.
func TestWebhookFakeSendsGoldenHeaders(t *testing.T) {
	ctx := context.Background()
	type seen struct {
		h    http.Header
		body []byte
	}
	var mu sync.Mutex
	var got []seen
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Header.Clone(), b})
		mu.Unlock()
	}))
	defer endpoint.Close()
	srv := pepaytest.NewServer()
	defer srv.Close()
	srv.SetWebhook(endpoint.URL, hookSecret, oldSecret)
	id, _ := srv.Ping(ctx)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitWebhooks(ctx))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1, "%d deliveries", len(got))
	h, body := got[0].h, got[0].body
	ts := h.Get("X-Pepay-Timestamp")
	_, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err, "X-Pepay-Timestamp = %q, want unix milliseconds", ts)
	assert.Len(t, ts, 13, "X-Pepay-Timestamp = %q, want unix milliseconds", ts)
	mac := func(key string) string {
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(ts + "." + string(body)))
		return hex.EncodeToString(m.Sum(nil))
	}
	assert.Equal(t, mac(hookSecret), h.Get("X-Pepay-Signature"), "X-Pepay-Signature")
	assert.Equal(t, mac(oldSecret), h.Get("X-Pepay-Signature-Previous"), "X-Pepay-Signature-Previous")
	var env struct{ ID, Type string }
	require.NoError(t, json.Unmarshal(body, &env))
	if h.Get("X-Pepay-Event-ID") != id || env.ID != id || h.Get("X-Pepay-Event") != env.Type || env.Type != "test.ping" {
		t.Errorf("X-Pepay-Event-ID %q, X-Pepay-Event %q; body id %q type %q; Ping id %q",
			h.Get("X-Pepay-Event-ID"), h.Get("X-Pepay-Event"), env.ID, env.Type, id)
	}
	if e := h.Get("X-Pepay-Network-Environment"); e != "devnet" && e != "mainnet" {
		t.Errorf("X-Pepay-Network-Environment = %q", e)
	}
}
