package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paykit-go/paykit/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
				if !assert.Error(t, err, fn) {
					continue
				}
				assert.Equal(t, want, err.Error(), fn)
				var ce *webhook.ConfigError
				if assert.ErrorAs(t, err, &ce, fn) {
					assert.Equal(t, "webhook", ce.Package, fn)
					assert.Equal(t, fn, ce.Func, fn)
				}
				if tc.is != nil {
					assert.ErrorIs(t, err, tc.is, fn)
				}
			}
		})
	}
	// The first invalid option is the one reported.
	err := newTimestamp("s", webhook.WithMaxPayloadBytes(-1), webhook.WithTolerance(0))
	if assert.Error(t, err, "two invalid options") {
		assert.Contains(t, err.Error(), "WithMaxPayloadBytes", "two invalid options: want the first reported")
	}
	// A whitespace-only secret is empty to PHP's reference program, which trims it.
	err = newSorted(" \t", webhook.WithPreviousSecrets("ok"))
	assert.EqualError(t, err, "webhook: NewSortedJSONVerifier: secret: webhook: empty secret: only whitespace", "whitespace secret")
	err = newSorted("s", webhook.WithPreviousSecrets("\n"))
	if assert.ErrorIs(t, err, webhook.ErrEmptySecret, "whitespace previous secret") {
		assert.Contains(t, err.Error(), ": WithPreviousSecrets: ", "whitespace previous secret")
	}
}

// An option meaningless to a scheme is accepted by that verifier and has no effect.
func TestVerifierOptionsOfTheOtherScheme(t *testing.T) {
	_, err := webhook.NewSortedJSONVerifier("s", webhook.WithTolerance(time.Second), webhook.WithClock(time.Now))
	assert.NoError(t, err, "sorted-JSON verifier with tolerance and clock")
	now := time.Unix(1767225600, 0)
	v, err := webhook.NewTimestampVerifier("s", webhook.WithClock(func() time.Time { return now }),
		webhook.WithSignatureHeaders("X-Other"), webhook.WithRawBodyFallback())
	require.NoError(t, err, "timestamp verifier with sorted-JSON options")
	body := []byte(`{"a":1}`)
	assert.ErrorIs(t, v.Verify(body, "t=1767225600,v1="+rawHMAC("s", body)), webhook.ErrSignatureMismatch, "raw-body HMAC accepted by the timestamp verifier")
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
	require.NoError(t, err)
	lax, err := webhook.NewSortedJSONVerifier("s", webhook.WithRawBodyFallback(), webhook.WithPreviousSecrets("old"))
	require.NoError(t, err)
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
		assert.Equal(t, tc.strictOK, (strict.Verify(tc.payload, tc.signature) == nil), "%s, without the fallback", tc.name)
		assert.Equal(t, tc.laxOK, (lax.Verify(tc.payload, tc.signature) == nil), "%s, with the fallback", tc.name)
	}
}

func TestSortedJSONVerifyHeader(t *testing.T) {
	body := []byte(`{"payment_id":1,"payment_status":"finished"}`)
	good, _ := webhook.SignSortedJSON("s", body)
	bad, _ := webhook.SignSortedJSON("other", body)
	v, err := webhook.NewSortedJSONVerifier("s")
	require.NoError(t, err)
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
		assert.ErrorIs(t, v.VerifyHeader(body, tc.h), tc.want, tc.name)
	}

	proxied, err := webhook.NewSortedJSONVerifier("s", webhook.WithSignatureHeaders("X-Proxy-Sig"))
	require.NoError(t, err)
	assert.ErrorIs(t, proxied.VerifyHeader(body, http.Header{"X-Jovepay-Sig": {good}}), webhook.ErrMissingSignature, "replaced header still read")
	assert.NoError(t, proxied.VerifyHeader(body, http.Header{"X-Proxy-Sig": {good}}), "configured header")
	r := httptest.NewRequest(http.MethodPost, "/ipn", bytes.NewReader(body))
	r.Header.Set("X-Proxy-Sig", good)
	got, err := proxied.VerifyRequest(r, "")
	assert.NoError(t, err, "VerifyRequest with the configured header")
	assert.Equal(t, body, got, "VerifyRequest with the configured header")
	r = httptest.NewRequest(http.MethodPost, "/ipn", bytes.NewReader(body))
	r.Header.Set("X-Named-Sig", good)
	_, err = proxied.VerifyRequest(r, "X-Named-Sig")
	assert.NoError(t, err, "VerifyRequest with a named header")
}

func TestSplitOptions(t *testing.T) {
	opts := []webhook.Option{nil, webhook.WithTolerance(time.Minute), webhook.WithDeduper(nil),
		webhook.WithMaxPayloadBytes(64), webhook.WithLogger(nil), webhook.WithPreviousSecrets("old"),
		webhook.WithSignatureHeaders("X-Sig"), webhook.WithRawBodyFallback(), webhook.WithClock(time.Now)}
	verifier, handler := webhook.SplitOptions(opts)
	require.Len(t, verifier, 6, "SplitOptions verifier options")
	require.Len(t, handler, 3, "SplitOptions handler options")
	_, err := webhook.NewTimestampVerifier("s", verifier...)
	assert.NoError(t, err, "verifier options refused by a verifier")
	ep := webhook.Endpoint[string]{
		Verify: func([]byte, http.Header) error { return nil },
		Parse:  func(b []byte) (string, error) { return string(b), nil },
	}
	h, err := webhook.NewEndpointHandler(ep, func(context.Context, string) error { return nil }, handler...)
	require.NoError(t, err, "handler options refused by a handler")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 65))))
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code, "WithMaxPayloadBytes(64) did not reach the handler")
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
			require.True(t, h == nil, "NewEndpointHandler = %v, want a nil handler", h)
			require.EqualError(t, err, "webhook: NewEndpointHandler: "+tc.want)
			var ce *webhook.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "NewEndpointHandler", ce.Func)
			defer func() {
				require.Equal(t, "webhook: NewHandler: "+tc.want, recover(), "NewHandler panicked with")
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
		assert.Equal(t, want, strings.Join(texts, " "), "event ids %v: answers", withIDs)
		assert.Equal(t, wantRuns, runs, "event ids %v: runs", withIDs)
	}
}

// WithLogger(nil) is accepted and discards, like the default.
func TestHandlerNilLogger(t *testing.T) {
	h, err := webhook.NewEndpointHandler(webhook.Endpoint[string]{
		Verify: func([]byte, http.Header) error { return webhook.ErrSignatureMismatch },
		Parse:  func(b []byte) (string, error) { return string(b), nil },
	}, func(context.Context, string) error { return nil }, webhook.WithLogger(nil))
	require.NoError(t, err)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x")))
	assert.Equal(t, http.StatusBadRequest, w.Code, "rejected delivery with a nil logger")
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
				require.Equal(t, tc.want, recover(), "NewDeduper panicked with")
			}()
			webhook.NewDeduper(tc.store, tc.opt)
		})
	}
	// Valid values, huge ones included, are accepted; a nil option is skipped.
	webhook.NewDeduper(webhook.NewMemoryStore(), nil, webhook.WithLease(time.Nanosecond),
		webhook.WithRetention(math.MaxInt64), webhook.WithDedupeClock(time.Now))
}
