package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paykit-go/paykit/webhook"
)

// Every invalid option and argument is reported by the constructor as a *ConfigError naming
// the constructor and the option.
func TestConstructorErrorsNameTheOption(t *testing.T) {
	newTimestamp := func(secret string, opts ...webhook.Option) error {
		_, err := webhook.NewTimestampVerifier(secret, opts...)
		return err
	}
	newSorted := func(secret string, opts ...webhook.Option) error {
		_, err := webhook.NewSortedJSONVerifier(secret, opts...)
		return err
	}
	for _, tc := range []struct {
		name   string
		secret string
		opt    webhook.Option
		reason string
		is     error
	}{
		{"empty secret", "", nil, "secret: webhook: empty secret", webhook.ErrEmptySecret},
		{"zero tolerance", "s", webhook.WithTolerance(0), "WithTolerance: must be positive, got 0s", nil},
		{"negative tolerance", "s", webhook.WithTolerance(-time.Second), "WithTolerance: must be positive, got -1s", nil},
		{"nil clock", "s", webhook.WithClock(nil), "WithClock: nil clock", nil},
		{"empty previous secret", "s", webhook.WithPreviousSecrets("old", ""), "WithPreviousSecrets: webhook: empty secret", webhook.ErrEmptySecret},
		{"zero payload limit", "s", webhook.WithMaxPayloadBytes(0), "WithMaxPayloadBytes: must be positive, got 0", nil},
		{"no header names", "s", webhook.WithSignatureHeaders(), "WithSignatureHeaders: no header names", nil},
		{"blank header name", "s", webhook.WithSignatureHeaders("X-Sig", " "), "WithSignatureHeaders: blank header name", nil},
		{"deduper", "s", webhook.WithDeduper(nil), "WithDeduper: applies to handlers, not to a verifier", nil},
		{"logger", "s", webhook.WithLogger(slog.Default()), "WithLogger: applies to handlers, not to a verifier", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for fn, newVerifier := range map[string]func(string, ...webhook.Option) error{
				"NewTimestampVerifier": newTimestamp, "NewSortedJSONVerifier": newSorted,
			} {
				err := newVerifier(tc.secret, tc.opt)
				want := "webhook: " + fn + ": " + tc.reason
				if err == nil || err.Error() != want {
					t.Errorf("%s: err = %v, want %q", fn, err, want)
				}
				var ce *webhook.ConfigError
				if !errors.As(err, &ce) || ce.Package != "webhook" || ce.Func != fn {
					t.Errorf("%s: err = %#v, want a *ConfigError", fn, err)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("%s: errors.Is(%v, %v) = false", fn, err, tc.is)
				}
			}
		})
	}
	// The first invalid option is the one reported.
	err := newTimestamp("s", webhook.WithMaxPayloadBytes(-1), webhook.WithTolerance(0))
	if err == nil || !strings.Contains(err.Error(), "WithMaxPayloadBytes") {
		t.Errorf("two invalid options: %v, want the first reported", err)
	}
	// A whitespace-only secret is empty to PHP's reference program, which trims it.
	err = newSorted(" \t", webhook.WithPreviousSecrets("ok"))
	if want := "webhook: NewSortedJSONVerifier: secret: webhook: empty secret: only whitespace"; err == nil || err.Error() != want {
		t.Errorf("whitespace secret: %v, want %q", err, want)
	}
	err = newSorted("s", webhook.WithPreviousSecrets("\n"))
	if !errors.Is(err, webhook.ErrEmptySecret) || !strings.Contains(err.Error(), ": WithPreviousSecrets: ") {
		t.Errorf("whitespace previous secret: %v", err)
	}
}

// An option meaningless to a scheme is accepted by that verifier and has no effect.
func TestVerifierOptionsOfTheOtherScheme(t *testing.T) {
	if _, err := webhook.NewSortedJSONVerifier("s", webhook.WithTolerance(time.Second),
		webhook.WithClock(time.Now)); err != nil {
		t.Errorf("sorted-JSON verifier with tolerance and clock: %v", err)
	}
	now := time.Unix(1767225600, 0)
	v, err := webhook.NewTimestampVerifier("s", webhook.WithClock(func() time.Time { return now }),
		webhook.WithSignatureHeaders("X-Other"), webhook.WithRawBodyFallback())
	if err != nil {
		t.Fatalf("timestamp verifier with sorted-JSON options: %v", err)
	}
	body := []byte(`{"a":1}`)
	if err := v.Verify(body, "t=1767225600,v1="+rawHMAC("s", body)); !errors.Is(err, webhook.ErrSignatureMismatch) {
		t.Errorf("raw-body HMAC accepted by the timestamp verifier: %v", err)
	}
}

func rawHMAC(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func TestSortedJSONRawBodyFallback(t *testing.T) {
	body := []byte(`{"payment_id":1,"payment_status":"finished"}`)
	dup := []byte(`{"a":1,"a":2}`) // no canonical form: only the fallback can verify it
	sorted := func(key string) string { sig, _ := webhook.SignSortedJSON(key, body); return sig }
	strict, err := webhook.NewSortedJSONVerifier("s")
	if err != nil {
		t.Fatal(err)
	}
	lax, err := webhook.NewSortedJSONVerifier("s", webhook.WithRawBodyFallback(), webhook.WithPreviousSecrets("old"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		payload   []byte
		signature string
		strictOK  bool // what the verifier without the fallback says
		laxOK     bool
	}{
		{"raw HMAC, current secret", body, rawHMAC("s", body), false, true},
		{"raw HMAC, previous secret", body, rawHMAC("old", body), false, true},
		{"raw HMAC, upper case, padded", body, " " + strings.ToUpper(rawHMAC("s", body)) + " ", false, true},
		{"raw HMAC, another key", body, rawHMAC("other", body), false, false},
		{"raw HMAC of another body", []byte(`{"payment_id":2}`), rawHMAC("s", body), false, false},
		{"raw HMAC, body without canonical form", dup, rawHMAC("s", dup), false, true},
		{"sorted JSON, current secret", body, sorted("s"), true, true},
		{"sorted JSON, previous secret", body, sorted("old"), false, true},
	} {
		if err := strict.Verify(tc.payload, tc.signature); (err == nil) != tc.strictOK {
			t.Errorf("%s, without the fallback: %v", tc.name, err)
		}
		if err := lax.Verify(tc.payload, tc.signature); (err == nil) != tc.laxOK {
			t.Errorf("%s, with the fallback: %v", tc.name, err)
		}
	}
}

func TestSortedJSONVerifyHeader(t *testing.T) {
	body := []byte(`{"payment_id":1,"payment_status":"finished"}`)
	good, _ := webhook.SignSortedJSON("s", body)
	bad, _ := webhook.SignSortedJSON("other", body)
	v, err := webhook.NewSortedJSONVerifier("s")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		h    http.Header
		want error
	}{
		{"JovePay header", http.Header{"X-Jovepay-Sig": {good}}, nil},
		{"NOWPayments header", http.Header{"X-Nowpayments-Sig": {good}}, nil},
		{"wrong first, right second", http.Header{"X-Jovepay-Sig": {bad}, "X-Nowpayments-Sig": {good}}, nil},
		{"wrong only", http.Header{"X-Jovepay-Sig": {bad}}, webhook.ErrSignatureMismatch},
		{"none", http.Header{"X-Other-Sig": {good}}, webhook.ErrMissingSignature},
	} {
		if err := v.VerifyHeader(body, tc.h); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}

	proxied, err := webhook.NewSortedJSONVerifier("s", webhook.WithSignatureHeaders("X-Proxy-Sig"))
	if err != nil {
		t.Fatal(err)
	}
	if err := proxied.VerifyHeader(body, http.Header{"X-Jovepay-Sig": {good}}); !errors.Is(err, webhook.ErrMissingSignature) {
		t.Errorf("replaced header still read: %v", err)
	}
	if err := proxied.VerifyHeader(body, http.Header{"X-Proxy-Sig": {good}}); err != nil {
		t.Errorf("configured header: %v", err)
	}
	r := httptest.NewRequest(http.MethodPost, "/ipn", bytes.NewReader(body))
	r.Header.Set("X-Proxy-Sig", good)
	if got, err := proxied.VerifyRequest(r, ""); err != nil || !bytes.Equal(got, body) {
		t.Errorf("VerifyRequest with the configured header: %q, %v", got, err)
	}
	r = httptest.NewRequest(http.MethodPost, "/ipn", bytes.NewReader(body))
	r.Header.Set("X-Named-Sig", good)
	if _, err := proxied.VerifyRequest(r, "X-Named-Sig"); err != nil {
		t.Errorf("VerifyRequest with a named header: %v", err)
	}
}

func TestSplitOptions(t *testing.T) {
	opts := []webhook.Option{nil, webhook.WithTolerance(time.Minute), webhook.WithDeduper(nil),
		webhook.WithMaxPayloadBytes(64), webhook.WithLogger(nil), webhook.WithPreviousSecrets("old"),
		webhook.WithSignatureHeaders("X-Sig"), webhook.WithRawBodyFallback(), webhook.WithClock(time.Now)}
	verifier, handler := webhook.SplitOptions(opts)
	if len(verifier) != 6 || len(handler) != 3 {
		t.Fatalf("SplitOptions: %d verifier and %d handler options, want 6 and 3", len(verifier), len(handler))
	}
	if _, err := webhook.NewTimestampVerifier("s", verifier...); err != nil {
		t.Errorf("verifier options refused by a verifier: %v", err)
	}
	ep := webhook.Endpoint[string]{
		Verify: func([]byte, http.Header) error { return nil },
		Parse:  func(b []byte) (string, error) { return string(b), nil },
	}
	h, err := webhook.NewEndpointHandler(ep, func(context.Context, string) error { return nil }, handler...)
	if err != nil {
		t.Fatalf("handler options refused by a handler: %v", err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 65))))
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("WithMaxPayloadBytes(64) did not reach the handler: %d", w.Code)
	}
}

func TestEndpointHandlerErrors(t *testing.T) {
	ep := webhook.Endpoint[string]{
		Verify: func([]byte, http.Header) error { return nil },
		Parse:  func(b []byte) (string, error) { return string(b), nil },
	}
	fn := func(context.Context, string) error { return nil }
	for _, tc := range []struct {
		name string
		ep   webhook.Endpoint[string]
		fn   func(context.Context, string) error
		opts []webhook.Option
		want string
	}{
		{"nil Verify", webhook.Endpoint[string]{Parse: ep.Parse}, fn, nil, "Endpoint.Verify: nil function"},
		{"nil Parse", webhook.Endpoint[string]{Verify: ep.Verify}, fn, nil, "Endpoint.Parse: nil function"},
		{"nil fn", ep, nil, nil, "fn: nil function"},
		{"invalid option", ep, fn, []webhook.Option{webhook.WithMaxPayloadBytes(-5)}, "WithMaxPayloadBytes: must be positive, got -5"},
		{"verifier option", ep, fn, []webhook.Option{webhook.WithLogger(nil), webhook.WithPreviousSecrets("old")},
			"WithPreviousSecrets: applies to verifiers, not to a handler: pass it to the constructor of the verifier behind Endpoint.Verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := webhook.NewEndpointHandler(tc.ep, tc.fn, tc.opts...)
			if want := "webhook: NewEndpointHandler: " + tc.want; h != nil || err == nil || err.Error() != want {
				t.Fatalf("NewEndpointHandler = %v, %v; want the error %q", h, err, want)
			}
			var ce *webhook.ConfigError
			if !errors.As(err, &ce) || ce.Func != "NewEndpointHandler" {
				t.Fatalf("err = %#v, want a *ConfigError", err)
			}
			defer func() {
				if r := recover(); r != "webhook: NewHandler: "+tc.want {
					t.Fatalf("NewHandler panicked with %v, want %q", r, "webhook: NewHandler: "+tc.want)
				}
			}()
			webhook.NewHandler(tc.ep, tc.fn, tc.opts...)
		})
	}
}

// NewHandler dedupes by default when the endpoint has event ids, and cannot without them.
func TestHandlerDefaultDedupe(t *testing.T) {
	for _, withIDs := range []bool{true, false} {
		ep := webhook.Endpoint[string]{
			Verify: func([]byte, http.Header) error { return nil },
			Parse:  func(b []byte) (string, error) { return string(b), nil },
		}
		if withIDs {
			ep.EventID = func(_ []byte, _ http.Header, e string) string { return e }
		}
		runs := 0
		h := webhook.NewHandler(ep, func(context.Context, string) error { runs++; return nil })
		var texts []string
		for range 2 {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("evt_1")))
			texts = append(texts, strings.TrimSpace(w.Body.String()))
		}
		want, wantRuns := "ok ok", 2
		if withIDs {
			want, wantRuns = "ok duplicate", 1
		}
		if got := strings.Join(texts, " "); got != want || runs != wantRuns {
			t.Errorf("event ids %v: answers %q, runs %d; want %q, %d", withIDs, got, runs, want, wantRuns)
		}
	}
}

// WithLogger(nil) is accepted and discards, like the default.
func TestHandlerNilLogger(t *testing.T) {
	h, err := webhook.NewEndpointHandler(webhook.Endpoint[string]{
		Verify: func([]byte, http.Header) error { return webhook.ErrSignatureMismatch },
		Parse:  func(b []byte) (string, error) { return string(b), nil },
	}, func(context.Context, string) error { return nil }, webhook.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x")))
	if w.Code != http.StatusBadRequest {
		t.Errorf("rejected delivery with a nil logger: %d", w.Code)
	}
}

// An invalid DedupeOption, or a nil Store, makes NewDeduper panic with a message naming it.
func TestNewDeduperPanicsOnInvalidOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store webhook.Store
		opt   webhook.DedupeOption
		want  string
	}{
		{"nil store", nil, nil, "webhook: NewDeduper: store: nil Store"},
		{"zero lease", webhook.NewMemoryStore(), webhook.WithLease(0), "webhook: NewDeduper: WithLease: must be positive, got 0s"},
		{"negative lease", webhook.NewMemoryStore(), webhook.WithLease(-time.Second), "webhook: NewDeduper: WithLease: must be positive, got -1s"},
		{"zero retention", webhook.NewMemoryStore(), webhook.WithRetention(0), "webhook: NewDeduper: WithRetention: must be positive, got 0s"},
		{"nil clock", webhook.NewMemoryStore(), webhook.WithDedupeClock(nil), "webhook: NewDeduper: WithDedupeClock: nil clock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tc.want {
					t.Fatalf("NewDeduper panicked with %v, want %q", r, tc.want)
				}
			}()
			webhook.NewDeduper(tc.store, tc.opt)
		})
	}
	// Valid values, huge ones included, are accepted; a nil option is skipped.
	webhook.NewDeduper(webhook.NewMemoryStore(), nil, webhook.WithLease(time.Nanosecond),
		webhook.WithRetention(math.MaxInt64), webhook.WithDedupeClock(time.Now))
}
