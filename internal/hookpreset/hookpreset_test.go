package hookpreset

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/webhook"
)

// endpoint is a delivery format whose payload is its own event id; it accepts every signature,
// so the tests below exercise the handler options alone.
func endpoint(*webhook.TimestampVerifier) webhook.Endpoint[string] {
	return webhook.Endpoint[string]{
		Verify:  func([]byte, http.Header) error { return nil },
		Parse:   func(b []byte) (string, error) { return string(b), nil },
		EventID: func(_ []byte, _ http.Header, e string) string { return e },
	}
}

// handlerFor builds a handler with opts whose fn counts its runs in *runs.
func handlerFor(t *testing.T, runs *int, opts ...webhook.Option) http.Handler {
	t.Helper()
	h, err := Handler("acme", "NewHook", webhook.NewTimestampVerifier, endpoint, "s3cret",
		func(context.Context, string) error { *runs++; return nil }, opts)
	require.NoError(t, err)
	return h
}

func post(h http.Handler, body string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body)))
	return rec.Code
}

func TestHandlerSkipsNilOptions(t *testing.T) {
	var runs int
	h := handlerFor(t, &runs, nil, webhook.WithMaxPayloadBytes(8), nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, post(h, strings.Repeat("x", 9)), "9-byte body with an 8-byte limit after nil options: status, want 413")
}

func TestHandlerDefaultDedupes(t *testing.T) {
	var runs int
	h := handlerFor(t, &runs)
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusOK, post(h, "evt_1"), "delivery %d: status", i)
	}
	require.Equal(t, 1, runs, "fn ran %d times for one event delivered 3 times, want 1", runs)
}

func TestHandlerNilDeduperTurnsDedupeOff(t *testing.T) {
	var runs int
	h := handlerFor(t, &runs, webhook.WithDeduper(nil))
	post(h, "evt_1")
	post(h, "evt_1")
	require.Equal(t, 2, runs, "fn ran %d times with dedupe off, want 2", runs)
}

func TestHandlerPayloadLimit(t *testing.T) {
	var runs int
	h := handlerFor(t, &runs, webhook.WithMaxPayloadBytes(8))
	require.Equal(t, http.StatusRequestEntityTooLarge, post(h, strings.Repeat("x", 9)), "9-byte body with an 8-byte limit: status, want 413")
	require.Zero(t, runs, "fn ran for an oversized body")
}

// Errors from the verifier and from webhook.NewEndpointHandler are reported in the provider
// constructor's name, naming the argument or option, and keep their sentinels.
func TestErrorsNameTheConstructor(t *testing.T) {
	fn := func(context.Context, string) error { return nil }
	for _, tc := range []struct {
		name   string
		secret string
		fn     func(context.Context, string) error
		opts   []webhook.Option
		want   string
		is     error
	}{
		{"empty secret", "", fn, nil, "acme: NewHook: secret: webhook: empty secret", webhook.ErrEmptySecret},
		{"empty previous secret", "s", fn, []webhook.Option{webhook.WithPreviousSecrets("")},
			"acme: NewHook: WithPreviousSecrets: webhook: empty secret", webhook.ErrEmptySecret},
		{"verifier option", "s", fn, []webhook.Option{webhook.WithDeduper(nil), webhook.WithTolerance(0)},
			"acme: NewHook: WithTolerance: must be positive, got 0s", nil},
		{"handler and verifier option", "s", fn, []webhook.Option{webhook.WithMaxPayloadBytes(-1)},
			"acme: NewHook: WithMaxPayloadBytes: must be positive, got -1", nil},
		{"nil fn", "s", nil, nil, "acme: NewHook: fn: nil function", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Handler("acme", "NewHook", webhook.NewTimestampVerifier, endpoint, tc.secret, tc.fn, tc.opts)
			require.Error(t, err, "err = %v, want %q", err, tc.want)
			require.Equal(t, tc.want, err.Error(), "err = %v, want %q", err, tc.want)
			var ce *webhook.ConfigError
			require.ErrorAs(t, err, &ce, "err = %#v, want a *webhook.ConfigError of acme.NewHook", err)
			require.Equal(t, "acme", ce.Package, "err = %#v, want a *webhook.ConfigError of acme.NewHook", err)
			require.Equal(t, "NewHook", ce.Func, "err = %#v, want a *webhook.ConfigError of acme.NewHook", err)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
		})
	}
}

// A verifier constructor refuses handler options; the handler constructor takes both kinds.
func TestVerifierRefusesHandlerOptions(t *testing.T) {
	for _, opt := range []webhook.Option{webhook.WithDeduper(nil), webhook.WithLogger(nil)} {
		_, err := Verifier("acme", "NewVerifier", webhook.NewTimestampVerifier, "s", []webhook.Option{opt})
		if err == nil || !strings.HasPrefix(err.Error(), "acme: NewVerifier: With") ||
			!strings.HasSuffix(err.Error(), ": applies to handlers, not to a verifier") {
			t.Errorf("handler option given to a verifier: %v", err)
		}
	}
	opts := []webhook.Option{webhook.WithDeduper(nil), webhook.WithLogger(nil), webhook.WithTolerance(time.Minute),
		webhook.WithPreviousSecrets("old"), webhook.WithMaxPayloadBytes(64)}
	if _, err := Handler("acme", "NewHook", webhook.NewTimestampVerifier, endpoint, "s",
		func(context.Context, string) error { return nil }, opts); err != nil {
		t.Errorf("handler refused verifier and handler options: %v", err)
	}
}

func TestKeyPart(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "5077125051": "5077125051", "checkout.session.completed": "checkout.session.completed",
		"a:b": "a%3Ab", "100%": "100%25", "%3A": "%253A", "::": "%3A%3A", "é:é": "é%3Aé",
	} {
		assert.Equal(t, want, KeyPart(in), "KeyPart(%q)", in)
	}
	// Joined with ':', escaped parts identify the parts: no two splits give one key.
	parts := []string{"", "a", ":", "a:", ":b", "a:b", "%", "%3A", "a%3Ab"}
	seen := map[string][2]string{}
	for _, x := range parts {
		for _, y := range parts {
			k := KeyPart(x) + ":" + KeyPart(y)
			prev, dup := seen[k]
			assert.False(t, dup, "(%q, %q) and (%q, %q) both give %q", prev[0], prev[1], x, y, k)
			seen[k] = [2]string{x, y}
		}
	}
}
