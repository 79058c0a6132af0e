package jovepay_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
	"github.com/paykit-go/paykit/webhook"
)

const secret = "ipn-secret-for-tests"

// edgyIPN is a payment IPN whose Node, PHP and Python canonical forms all differ: an array
// (Node turns it into an object), non-ASCII text (PHP and Python escape it), 1e-7 (written
// 1e-7, 1.0e-7 and 1e-07), 1.0 and an empty object.
var edgyIPN = []byte(`{"payment_id":5000000123,"payment_status":"finished","pay_amount":1.0,"actually_paid":1e-7,` +
	`"pay_currency":"btc","order_id":"Ä-1","order_description":"café / <b>","payment_extra_ids":[5,2],"meta":{}}`)

func TestEdgyIPNFormsDiffer(t *testing.T) {
	seen := map[string]webhook.SortedJSONForm{}
	for _, f := range []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython} {
		c, err := webhook.CanonicalSortedJSON(edgyIPN, f)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := seen[string(c)]; dup {
			t.Fatalf("%s and %s forms agree; the fixture no longer tells them apart", f, other)
		}
		seen[string(c)] = f
	}
}

func TestIPNVerifier(t *testing.T) {
	v, err := jovepay.NewIPNVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython} {
		sig, err := webhook.SignSortedJSONForm(secret, edgyIPN, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"x-jovepay-sig", "X-NOWPAYMENTS-SIG"} {
			if err := v.Verify(http.Header{http.CanonicalHeaderKey(h): {sig}}, edgyIPN); err != nil {
				t.Errorf("%s form in %s: %v", f, h, err)
			}
		}
		if err := v.VerifySignature(edgyIPN, strings.ToUpper(sig)); err != nil {
			t.Errorf("%s form, upper-case hex: %v", f, err)
		}
		tampered := []byte(strings.Replace(string(edgyIPN), "1e-7", "2e-7", 1))
		if err := v.VerifySignature(tampered, sig); !errors.Is(err, webhook.ErrSignatureMismatch) {
			t.Errorf("%s form, tampered body: %v", f, err)
		}
	}
	if err := v.Verify(http.Header{}, edgyIPN); !errors.Is(err, webhook.ErrMissingSignature) {
		t.Errorf("no header: %v", err)
	}
	other, _ := webhook.SignSortedJSON("another-secret", edgyIPN)
	if err := v.VerifySignature(edgyIPN, other); !errors.Is(err, webhook.ErrSignatureMismatch) {
		t.Errorf("wrong secret: %v", err)
	}
	// A wrong signature in the first header does not hide a right one in the second.
	good, _ := webhook.SignSortedJSON(secret, edgyIPN)
	h := http.Header{"X-Jovepay-Sig": {other}, "X-Nowpayments-Sig": {good}}
	if err := v.Verify(h, edgyIPN); err != nil {
		t.Errorf("second header: %v", err)
	}

	if _, err := jovepay.NewIPNVerifier(""); !errors.Is(err, webhook.ErrEmptySecret) {
		t.Errorf("empty secret: %v", err)
	}
}

func TestIPNVerifierOptions(t *testing.T) {
	raw := func(key string, body []byte) string {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(body)
		return hex.EncodeToString(m.Sum(nil))
	}
	body := []byte(`{"payment_id":1,"payment_status":"finished"}`)

	strict, _ := jovepay.NewIPNVerifier(secret)
	if err := strict.VerifySignature(body, raw(secret, body)); err == nil {
		t.Error("raw-body HMAC-SHA256 accepted without opting in")
	}
	lax, err := jovepay.NewIPNVerifier(secret, jovepay.WithRawBodyHMACFallback(), jovepay.WithPreviousIPNSecrets("old-secret"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{secret, "old-secret"} {
		if err := lax.VerifySignature(body, raw(key, body)); err != nil {
			t.Errorf("raw fallback with %s: %v", key, err)
		}
		sig, _ := webhook.SignSortedJSON(key, body)
		if err := lax.VerifySignature(body, sig); err != nil {
			t.Errorf("sorted JSON with %s: %v", key, err)
		}
	}
	if err := lax.VerifySignature(body, raw("nope", body)); err == nil {
		t.Error("raw fallback accepted a wrong key")
	}

	custom, _ := jovepay.NewIPNVerifier(secret, jovepay.WithSignatureHeaders("X-My-Proxy-Sig"))
	sig, _ := webhook.SignSortedJSON(secret, body)
	if err := custom.Verify(http.Header{"X-Jovepay-Sig": {sig}}, body); !errors.Is(err, webhook.ErrMissingSignature) {
		t.Errorf("custom header ignores the default: %v", err)
	}
	if err := custom.Verify(http.Header{"X-My-Proxy-Sig": {sig}}, body); err != nil {
		t.Errorf("custom header: %v", err)
	}
	for _, bad := range []jovepay.IPNOption{jovepay.WithSignatureHeaders(), jovepay.WithSignatureHeaders(" "),
		jovepay.WithPreviousIPNSecrets(""), jovepay.WithIPNMaxPayloadBytes(0), jovepay.WithIPNLogger(nil)} {
		if _, err := jovepay.NewIPNVerifier(secret, bad); err == nil {
			t.Error("invalid option accepted")
		}
	}
}

// receiver is an IPN endpoint on 127.0.0.1 built with NewIPNHandler that records what the
// application function saw.
type receiver struct {
	mu   sync.Mutex
	seen []string // "id:status"
	fail int      // fail the next n calls
	url  string
}

func newReceiver(t *testing.T, ipnSecret string) *receiver {
	t.Helper()
	rc := &receiver{}
	h, err := jovepay.NewIPNHandler(ipnSecret, func(_ context.Context, ipn *jovepay.IPN) error {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.fail > 0 {
			rc.fail--
			return errors.New("database down")
		}
		rc.seen = append(rc.seen, fmt.Sprintf("%s:%s", ipn.Payment.ID, ipn.Payment.Status))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	rc.url = srv.URL + "/ipn"
	return rc
}

func (rc *receiver) Seen() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.seen...)
}

func TestIPNHandlerWithFake(t *testing.T) {
	ctx := context.Background()
	for _, form := range []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython} {
		t.Run(form.String(), func(t *testing.T) {
			srv, c := newFake(t, jovepaytest.WithIPNSecret(secret), jovepaytest.WithSignatureForm(form))
			rc := newReceiver(t, secret)
			p := order("D-1")
			p.IPNCallbackURL = rc.url
			pay, err := c.CreatePayment(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Complete(ctx, pay.ID); err != nil {
				t.Fatal(err)
			}
			if err := srv.ResendIPN(ctx, pay.ID); err != nil { // a duplicate
				t.Fatal(err)
			}
			id := pay.ID.String()
			want := []string{id + ":confirming", id + ":confirmed", id + ":sending", id + ":finished"}
			if got := rc.Seen(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("handled %v, want %v", got, want)
			}
			dels := srv.Deliveries()
			if len(dels) != 5 {
				t.Fatalf("%d deliveries, want 5", len(dels))
			}
			for i, d := range dels {
				if !d.Delivered || len(d.Attempts) != 1 || d.Attempts[0].Status != 200 {
					t.Errorf("delivery %d: %+v", i, d)
				}
			}
			// The crafted body whose three canonical forms differ verifies too.
			if d := srv.DeliverIPN(ctx, rc.url, edgyIPN); !d.Delivered {
				t.Errorf("edgy IPN in %s form: %+v", form, d.Attempts)
			}
		})
	}
}

func TestIPNHandlerRetriesAndRejects(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, jovepaytest.WithIPNSecret(secret))
	rc := newReceiver(t, secret)
	p := order("D-2")
	p.IPNCallbackURL = rc.url
	pay, err := c.CreatePayment(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	rc.fail = 1 // the first run fails: answered 500, JovePay re-sends, the second run succeeds
	if err := srv.Advance(ctx, pay.ID, jovepay.StatusConfirming); err != nil {
		t.Fatal(err)
	}
	d := srv.Deliveries()[0]
	if !d.Delivered || len(d.Attempts) != 2 || d.Attempts[0].Status != 500 {
		t.Errorf("delivery %+v, want 500 then 200", d.Attempts)
	}
	if got := rc.Seen(); len(got) != 1 {
		t.Errorf("handled %v", got)
	}

	// Signed with another secret: refused with 400 on every attempt, the app never sees it.
	bad := newReceiver(t, "not-the-secret")
	p.OrderID, p.IPNCallbackURL = "D-3", bad.url
	pay2, err := c.CreatePayment(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Advance(ctx, pay2.ID, jovepay.StatusExpired); err != nil {
		t.Fatal(err)
	}
	all := srv.Deliveries()
	last := all[len(all)-1]
	if last.Delivered || len(last.Attempts) != 4 || last.Attempts[3].Status != 400 {
		t.Errorf("bad-signature delivery %+v", last.Attempts)
	}
	if len(bad.Seen()) != 0 {
		t.Error("a forged IPN reached the application")
	}
}

func TestNewIPNHandlerValidation(t *testing.T) {
	fn := func(context.Context, *jovepay.IPN) error { return nil }
	if _, err := jovepay.NewIPNHandler("", fn); !errors.Is(err, webhook.ErrEmptySecret) {
		t.Errorf("empty secret: %v", err)
	}
	if _, err := jovepay.NewIPNHandler(secret, nil); err == nil {
		t.Error("nil fn accepted")
	}
	h, err := jovepay.NewIPNHandler(secret, fn, jovepay.WithIPNDeduper(nil), jovepay.WithIPNMaxPayloadBytes(64))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/ipn", strings.NewReader(strings.Repeat(" ", 100))))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	body := `[1,2]`
	sig, _ := webhook.SignSortedJSON(secret, []byte(body))
	req := httptest.NewRequest("POST", "/ipn", strings.NewReader(body))
	req.Header.Set("x-jovepay-sig", sig)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("signed non-object body: %d", rec.Code)
	}
}
