package pepay_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
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
	h := pepay.SignWebhook(hookSecret, docTime, body)
	if h.Get(pepay.TimestampHeader) != "1767225600123" {
		t.Fatalf("timestamp header = %q", h.Get(pepay.TimestampHeader))
	}
	v, err := pepay.NewWebhookVerifier(hookSecret, clockAt(docTime))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(h, body); err != nil {
		t.Fatalf("valid delivery refused: %v", err)
	}
	tampered := bytes.Replace(body, []byte(`"paid"`), []byte(`"unpaid"`), 1)
	if err := v.Verify(h, tampered); !errors.Is(err, webhook.ErrSignatureMismatch) {
		t.Errorf("tampered body: %v", err)
	}
	// The timestamp is part of the signed string.
	h2 := h.Clone()
	h2.Set(pepay.TimestampHeader, "1767225600124")
	if err := v.Verify(h2, body); !errors.Is(err, webhook.ErrSignatureMismatch) {
		t.Errorf("changed timestamp: %v", err)
	}
	for name, edit := range map[string]func(http.Header){
		"no signature": func(h http.Header) { h.Del(pepay.SignatureHeader) },
		"no timestamp": func(h http.Header) { h.Del(pepay.TimestampHeader) },
		"seconds text": func(h http.Header) { h.Set(pepay.TimestampHeader, "2026-01-01") },
		"non-hex sig":  func(h http.Header) { h.Set(pepay.SignatureHeader, "zz") },
	} {
		h3 := h.Clone()
		edit(h3)
		err := v.Verify(h3, body)
		if webhook.StatusCode(err) != http.StatusBadRequest {
			t.Errorf("%s: %v (status %d)", name, err, webhook.StatusCode(err))
		}
	}
	if _, err := pepay.NewWebhookVerifier(""); !errors.Is(err, webhook.ErrEmptySecret) {
		t.Errorf("empty secret: %v", err)
	}
}

// Tolerance is 5 minutes either way, checked at millisecond precision.
func TestWebhookVerifier_tolerance(t *testing.T) {
	body := []byte(`{"id":"evt_1-1"}`)
	h := pepay.SignWebhook(hookSecret, docTime, body)
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
		err := v.Verify(h, body)
		if tc.ok != (err == nil) || !tc.ok && !errors.Is(err, webhook.ErrTimestampOutOfTolerance) {
			t.Errorf("skew %v: %v", tc.skew, err)
		}
	}
}

// During a rotation Pepay signs with both secrets; a receiver on either secret accepts.
func TestWebhookVerifier_rotation(t *testing.T) {
	body := apitest.Fixture(t, "webhook_event.json")
	h := pepay.SignWebhook(hookSecret, docTime, body)
	pepay.SignWebhookPrevious(h, oldSecret, body)
	if h.Get(pepay.PreviousSignatureHeader) == h.Get(pepay.SignatureHeader) {
		t.Fatal("previous signature equals current")
	}
	newOnly, _ := pepay.NewWebhookVerifier(hookSecret, clockAt(docTime))
	oldOnly, _ := pepay.NewWebhookVerifier(oldSecret, clockAt(docTime))
	both, _ := pepay.NewWebhookVerifier(hookSecret, clockAt(docTime), webhook.WithPreviousSecrets(oldSecret))
	for name, v := range map[string]*pepay.WebhookVerifier{"new": newOnly, "old": oldOnly, "both": both} {
		if err := v.Verify(h, body); err != nil {
			t.Errorf("%s secret refused a rotating delivery: %v", name, err)
		}
	}
	// Before Pepay rotates, a receiver already holding the new secret as current and the old as
	// previous still accepts deliveries signed with the old secret only.
	oldSigned := pepay.SignWebhook(oldSecret, docTime, body)
	if err := both.Verify(oldSigned, body); err != nil {
		t.Errorf("old-only delivery refused by rotating verifier: %v", err)
	}
	if err := newOnly.Verify(oldSigned, body); !errors.Is(err, webhook.ErrSignatureMismatch) {
		t.Errorf("old-only delivery accepted without the previous secret: %v", err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
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
	signed := pepay.SignWebhook(hookSecret, time.Now(), body)
	signed.Set(pepay.EventIDHeader, "evt_header_is_not_signed")

	fail.Store(true)
	if code, text := post(signed, body); code != 500 || text != "internal_error" {
		t.Errorf("failing handler: %d %s", code, text)
	}
	fail.Store(false)
	if code, _ := post(signed, body); code != 200 || runs.Load() != 1 {
		t.Errorf("retry after failure: %d, runs %d", code, runs.Load())
	}
	if code, text := post(signed, body); code != 200 || text != "duplicate" || runs.Load() != 1 {
		t.Errorf("redelivery: %d %s, runs %d", code, text, runs.Load())
	}
	stale := pepay.SignWebhook(hookSecret, time.Now().Add(-6*time.Minute), body)
	if code, text := post(stale, body); code != 400 || text != "timestamp_out_of_range" {
		t.Errorf("stale: %d %s", code, text)
	}
	bad := pepay.SignWebhook("wrong", time.Now(), body)
	if code, text := post(bad, body); code != 400 || text != "invalid_signature" {
		t.Errorf("bad signature: %d %s", code, text)
	}
	junk := []byte(`{"object":"event"}`)
	if code, text := post(pepay.SignWebhook(hookSecret, time.Now(), junk), junk); code != 400 || text != "invalid_payload" {
		t.Errorf("no id: %d %s", code, text)
	}
	r := httptest.NewRequest(http.MethodGet, "/hooks/pepay", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
	if _, err := pepay.NewWebhookHandler("", func(context.Context, *pepay.Event) error { return nil }); !errors.Is(err, webhook.ErrEmptySecret) {
		t.Errorf("empty secret: %v", err)
	}
	if _, err := pepay.NewWebhookHandler(hookSecret, nil); err == nil {
		t.Error("nil fn accepted")
	}
}

// Dedupe keys on the signed body id, not on the unsigned X-Pepay-Event-ID header.
func TestWebhookHandler_dedupeKeyIsBodyID(t *testing.T) {
	store := webhook.NewMemoryStore()
	d := webhook.NewDeduper(store)
	h, _ := pepay.NewWebhookHandler(hookSecret, func(context.Context, *pepay.Event) error { return nil }, pepay.WithDeduper(d))
	body := apitest.Fixture(t, "webhook_event.json")
	for i := range 2 {
		hdr := pepay.SignWebhook(hookSecret, time.Now(), body)
		hdr.Set(pepay.EventIDHeader, "evt_forged_"+strconv.Itoa(i))
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header = hdr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		want := []string{"ok", "duplicate"}[i]
		if got := strings.TrimSpace(w.Body.String()); got != want {
			t.Errorf("delivery %d: %s, want %s", i, got, want)
		}
	}
	// The shared Deduper now knows the event: the stream would skip it.
	err := d.Do(context.Background(), "evt_1767225600120-7", func(context.Context) error { return nil })
	if !errors.Is(err, webhook.ErrDuplicate) {
		t.Errorf("shared deduper: %v", err)
	}
}
