package hookpreset_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/paykit-go/paykit/webhook"
)

const (
	current  = "whsec_current_0123456789abcdef"
	previous = "whsec_previous_fedcba9876543210"
)

// provider is one provider package's webhook handler and verifier constructors, a genuine
// delivery body, and how the provider signs it.
type provider struct {
	pkg, handlerFunc, verifierFunc string
	// newHandler builds the provider's handler; its function adds 1 to *runs per event (a nil
	// runs passes a nil function).
	newHandler  func(secret string, runs *atomic.Int32, opts ...webhook.Option) (http.Handler, error)
	newVerifier func(secret string, opts ...webhook.Option) error
	body        string
	// sign returns the headers the provider sends for body signed with secret at t.
	sign        func(secret string, t time.Time, body []byte) http.Header
	timestamped bool
}

// count returns a handler function adding 1 to *runs per event, or nil when runs is nil.
func count[E any](runs *atomic.Int32) func(context.Context, E) error {
	if runs == nil {
		return nil
	}
	return func(context.Context, E) error { runs.Add(1); return nil }
}

func verifierErr[V any](_ V, err error) error { return err }

var providers = []provider{
	{
		pkg: "jopay", handlerFunc: "NewWebhookHandler", verifierFunc: "NewWebhookVerifier",
		newHandler: func(secret string, runs *atomic.Int32, opts ...webhook.Option) (http.Handler, error) {
			return jopay.NewWebhookHandler(secret, count[*jopay.Event](runs), opts...)
		},
		newVerifier: func(secret string, opts ...webhook.Option) error {
			return verifierErr(jopay.NewWebhookVerifier(secret, opts...))
		},
		body: `{"event":"payment.proof_verified","delivery_id":"4f1c2a9e","request_id":"7b2e9c1a","merchant_id":"b4d5c6e7",` +
			`"proof_status":"verified","tx_hash":"0x5e3c","timestamp":"2026-05-02T09:15:00.000Z","metadata":{"order_id":"A-1001"}}`,
		sign: func(secret string, t time.Time, body []byte) http.Header {
			return http.Header{"X-Jopay-Signature": {jopaytest.SignatureHeader(secret, t, body)}}
		},
		timestamped: true,
	},
	{
		pkg: "jopaycheckout", handlerFunc: "NewWebhookHandler", verifierFunc: "NewWebhookVerifier",
		newHandler: func(secret string, runs *atomic.Int32, opts ...webhook.Option) (http.Handler, error) {
			return jopaycheckout.NewWebhookHandler(secret, count[*jopaycheckout.Event](runs), opts...)
		},
		newVerifier: func(secret string, opts ...webhook.Option) error {
			return verifierErr(jopaycheckout.NewWebhookVerifier(secret, opts...))
		},
		body: `{"event":"checkout.session.completed","data":{"id":"cs_a1b2c3","status":"completed","amount_cents":2500,` +
			`"currency":"eur","metadata":{"order_id":"12345"},"completed_at":"2025-01-10T12:05:00Z"},"created_at":"2025-01-10T12:05:01Z"}`,
		sign: func(secret string, t time.Time, body []byte) http.Header {
			return http.Header{"X-Jopay-Signature": {webhook.SignTimestamp(secret, t, body)}}
		},
		timestamped: true,
	},
	{
		pkg: "pepay", handlerFunc: "NewWebhookHandler", verifierFunc: "NewWebhookVerifier",
		newHandler: func(secret string, runs *atomic.Int32, opts ...webhook.Option) (http.Handler, error) {
			return pepay.NewWebhookHandler(secret, count[*pepay.Event](runs), opts...)
		},
		newVerifier: func(secret string, opts ...webhook.Option) error {
			return verifierErr(pepay.NewWebhookVerifier(secret, opts...))
		},
		body: `{"id":"evt_1767225600120-7","object":"event","type":"test.ping","data":{"object":{"object":"ping"}}}`,
		sign: func(secret string, t time.Time, body []byte) http.Header {
			return pepaytest.SignatureHeaders(secret, "", t, body)
		},
		timestamped: true,
	},
	{
		pkg: "jovepay", handlerFunc: "NewIPNHandler", verifierFunc: "NewIPNVerifier",
		newHandler: func(secret string, runs *atomic.Int32, opts ...webhook.Option) (http.Handler, error) {
			return jovepay.NewIPNHandler(secret, count[*jovepay.IPN](runs), opts...)
		},
		newVerifier: func(secret string, opts ...webhook.Option) error {
			return verifierErr(jovepay.NewIPNVerifier(secret, opts...))
		},
		body: `{"payment_id":5077125051,"payment_status":"finished","price_amount":25,"price_currency":"usd",` +
			`"actually_paid":25,"pay_currency":"usdttrc20","order_id":"A-1001"}`,
		sign: func(secret string, _ time.Time, body []byte) http.Header {
			sig, err := webhook.SignSortedJSON(secret, body)
			if err != nil {
				panic(err)
			}
			return http.Header{"X-Jovepay-Sig": {sig}}
		},
	},
}

// deliver posts body with h as its headers and returns the status and the response text.
func deliver(handler http.Handler, h http.Header, body string) (int, string) {
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	r.Header = h.Clone()
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	return w.Code, strings.TrimSpace(w.Body.String())
}

// TestProviderHandlersShareOptions: every provider's handler constructor takes the same
// webhook options with the same behaviour.
func TestProviderHandlersShareOptions(t *testing.T) {
	for _, p := range providers {
		t.Run(p.pkg, func(t *testing.T) {
			build := func(t *testing.T, secret string, opts ...webhook.Option) (http.Handler, *atomic.Int32) {
				t.Helper()
				var runs atomic.Int32
				h, err := p.newHandler(secret, &runs, opts...)
				require.NoError(t, err)
				return h, &runs
			}
			body := []byte(p.body)
			signed := p.sign(current, time.Now(), body)

			t.Run("dedupe by default", func(t *testing.T) {
				h, runs := build(t, current)
				for i, want := range []string{"ok", "duplicate"} {
					code, text := deliver(h, signed, p.body)
					assert.Equal(t, 200, code, "delivery %d: %d %s, want 200 %s", i, code, text, want)
					assert.Equal(t, want, text, "delivery %d: %d %s, want 200 %s", i, code, text, want)
				}
				assert.Equal(t, int32(1), runs.Load(), "fn ran %d times, want 1", runs.Load())
			})
			t.Run("WithDeduper(nil) turns dedupe off", func(t *testing.T) {
				h, runs := build(t, current, webhook.WithDeduper(nil))
				for i := range 2 {
					code, text := deliver(h, signed, p.body)
					assert.Equal(t, 200, code, "delivery %d: %d %s, want 200 ok", i, code, text)
					assert.Equal(t, "ok", text, "delivery %d: %d %s, want 200 ok", i, code, text)
				}
				assert.Equal(t, int32(2), runs.Load(), "fn ran %d times, want 2", runs.Load())
			})
			t.Run("WithDeduper shares a Deduper", func(t *testing.T) {
				d := webhook.NewDeduper(webhook.NewMemoryStore())
				h1, runs1 := build(t, current, webhook.WithDeduper(d))
				h2, runs2 := build(t, current, webhook.WithDeduper(d))
				deliver(h1, signed, p.body)
				code, text := deliver(h2, signed, p.body)
				assert.Equal(t, 200, code, "second handler on the same Deduper: %d %s, want 200 duplicate", code, text)
				assert.Equal(t, "duplicate", text, "second handler on the same Deduper: %d %s, want 200 duplicate", code, text)
				assert.Equal(t, int32(1), runs1.Load()+runs2.Load(), "fn runs across both handlers, want 1")
			})
			t.Run("WithLogger", func(t *testing.T) {
				h, _ := build(t, current, webhook.WithLogger(nil)) // nil: discard, accepted
				code, _ := deliver(h, signed, p.body)
				assert.Equal(t, 200, code, "WithLogger(nil) handler")
				var logs bytes.Buffer
				h, _ = build(t, current, webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
				code, text := deliver(h, p.sign("forged", time.Now(), body), p.body)
				assert.Equal(t, 400, code, "forged delivery: %d %s", code, text)
				assert.Equal(t, "invalid_signature", text, "forged delivery: %d %s", code, text)
				assert.Contains(t, logs.String(), "webhook: delivery rejected", "the rejected delivery was not logged")
				assert.NotContains(t, logs.String(), current, "the log holds the secret or the body: %q", logs.String())
				assert.NotContains(t, logs.String(), "A-1001", "the log holds the secret or the body: %q", logs.String())
			})
			t.Run("WithPreviousSecrets", func(t *testing.T) {
				old := p.sign(previous, time.Now(), body)
				h, _ := build(t, current)
				code, text := deliver(h, old, p.body)
				assert.Equal(t, 400, code, "old-secret delivery without the option: %d %s, want 400 invalid_signature", code, text)
				assert.Equal(t, "invalid_signature", text, "old-secret delivery without the option: %d %s, want 400 invalid_signature", code, text)
				h, runs := build(t, current, webhook.WithPreviousSecrets(previous))
				code, text = deliver(h, old, p.body)
				assert.Equal(t, 200, code, "old-secret delivery during a rotation: %d %s, runs %d", code, text, runs.Load())
				assert.Equal(t, "ok", text, "old-secret delivery during a rotation: %d %s, runs %d", code, text, runs.Load())
				assert.Equal(t, int32(1), runs.Load(), "old-secret delivery during a rotation: %d %s, runs %d", code, text, runs.Load())
			})
			t.Run("WithTolerance", func(t *testing.T) {
				late := p.sign(current, time.Now().Add(-10*time.Minute), body)
				h, _ := build(t, current)
				wantCode, wantText := 200, "ok" // IPNs carry no timestamp: nothing is stale
				if p.timestamped {
					wantCode, wantText = 400, "timestamp_out_of_range"
				}
				code, text := deliver(h, late, p.body)
				assert.Equal(t, wantCode, code, "10-minute-old delivery, default tolerance: %d %s, want %d %s", code, text, wantCode, wantText)
				assert.Equal(t, wantText, text, "10-minute-old delivery, default tolerance: %d %s, want %d %s", code, text, wantCode, wantText)
				h, _ = build(t, current, webhook.WithTolerance(15*time.Minute))
				code, text = deliver(h, late, p.body)
				assert.Equal(t, 200, code, "10-minute-old delivery, 15-minute tolerance: %d %s", code, text)
				assert.Equal(t, "ok", text, "10-minute-old delivery, 15-minute tolerance: %d %s", code, text)
				if p.timestamped {
					clock := webhook.WithClock(func() time.Time { return time.Now().Add(-10 * time.Minute) })
					h, _ = build(t, current, clock)
					code, text := deliver(h, late, p.body)
					assert.Equal(t, 200, code, "10-minute-old delivery on a clock 10 minutes behind: %d %s", code, text)
					assert.Equal(t, "ok", text, "10-minute-old delivery on a clock 10 minutes behind: %d %s", code, text)
				}
			})
			t.Run("WithMaxPayloadBytes", func(t *testing.T) {
				h, runs := build(t, current, webhook.WithMaxPayloadBytes(int64(len(body)-1)))
				code, text := deliver(h, signed, p.body)
				assert.Equal(t, 413, code, "body one byte over the limit: %d %s, want 413 payload_too_large", code, text)
				assert.Equal(t, "payload_too_large", text, "body one byte over the limit: %d %s, want 413 payload_too_large", code, text)
				assert.Zero(t, runs.Load(), "fn ran for an oversized body")
				h, _ = build(t, current, webhook.WithMaxPayloadBytes(int64(len(body))))
				code, _ = deliver(h, signed, p.body)
				assert.Equal(t, 200, code, "body at the limit")
			})
		})
	}
}

// TestProviderConstructorErrors: an invalid argument or option is a constructor error that
// names the provider, the constructor and the option, in the same words for every provider.
func TestProviderConstructorErrors(t *testing.T) {
	var runs atomic.Int32
	for _, p := range providers {
		t.Run(p.pkg, func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				secret string
				opts   []webhook.Option
				reason string // after "<pkg>: <constructor>: "
				is     error
			}{
				{"empty secret", "", nil, "secret: webhook: empty secret", webhook.ErrEmptySecret},
				{"empty previous secret", current, []webhook.Option{webhook.WithPreviousSecrets("")},
					"WithPreviousSecrets: webhook: empty secret", webhook.ErrEmptySecret},
				{"zero tolerance", current, []webhook.Option{webhook.WithTolerance(0)}, "WithTolerance: must be positive, got 0s", nil},
				{"nil clock", current, []webhook.Option{webhook.WithClock(nil)}, "WithClock: nil clock", nil},
				{"zero payload limit", current, []webhook.Option{webhook.WithMaxPayloadBytes(0)},
					"WithMaxPayloadBytes: must be positive, got 0", nil},
				{"no signature headers", current, []webhook.Option{webhook.WithSignatureHeaders()},
					"WithSignatureHeaders: no header names", nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					check := func(fn string, err error) {
						t.Helper()
						want := p.pkg + ": " + fn + ": " + tc.reason
						require.Error(t, err, "%s: err = %v, want %q", fn, err, want)
						require.Equal(t, want, err.Error(), "%s: err = %v, want %q", fn, err, want)
						if tc.is != nil {
							require.ErrorIs(t, err, tc.is, "%s", fn)
						}
					}
					_, err := p.newHandler(tc.secret, &runs, tc.opts...)
					check(p.handlerFunc, err)
					check(p.verifierFunc, p.newVerifier(tc.secret, tc.opts...))
				})
			}
			_, err := p.newHandler(current, nil)
			require.Error(t, err, "nil handler function: %v", err)
			assert.Equal(t, p.pkg+": "+p.handlerFunc+": fn: nil function", err.Error(), "nil handler function: %v", err)
			for _, opt := range []webhook.Option{webhook.WithDeduper(nil), webhook.WithLogger(nil)} {
				err := p.newVerifier(current, opt)
				if err == nil || !strings.HasPrefix(err.Error(), p.pkg+": "+p.verifierFunc+": With") ||
					!strings.HasSuffix(err.Error(), ": applies to handlers, not to a verifier") {
					t.Errorf("handler option given to the verifier: %v", err)
				}
			}
		})
	}
}
