package jopaycheckout_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/paykit-go/paykit"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jopaycheckout"
)

func TestNewClientDefaults(t *testing.T) {
	c, err := jopaycheckout.NewClient("sk_live_abc")
	require.NoError(t, err)
	assert.Equal(t, jopaycheckout.DefaultBaseURL, c.BaseURL(), "BaseURL")
	assert.Equal(t, jopaycheckout.ModeLive, c.Mode(), "Mode")
}

func TestKeyMode(t *testing.T) {
	for key, want := range map[string]jopaycheckout.Mode{
		"sk_live_x": jopaycheckout.ModeLive,
		"sk_test_x": jopaycheckout.ModeTest,
		"pk_live_x": jopaycheckout.ModeUnknown,
		"SK_LIVE_x": jopaycheckout.ModeUnknown,
		"jo_test_x": jopaycheckout.ModeUnknown,
	} {
		assert.Equal(t, want, jopaycheckout.KeyMode(key), "KeyMode(%q)", key)
	}
}

func TestNewClientRefusesBadInput(t *testing.T) {
	const secretish = "sk_live_supersecret"
	tests := []struct {
		name string
		key  string
		opts []jopaycheckout.Option
		want string
	}{
		{"empty key", "", nil, "empty API key"},
		{"blank key", "   ", nil, "empty API key"},
		{"key with newline", secretish + "\n", nil, "whitespace"},
		{"key with space", "sk_live_a b", nil, "whitespace"},
		{"base URL without scheme", secretish, []jopaycheckout.Option{jopaycheckout.WithBaseURL("jopay.me/api")}, "scheme"},
		{"base URL with query", secretish, []jopaycheckout.Option{jopaycheckout.WithBaseURL("https://jopay.me/api?x=1")}, "query"},
		{"nil HTTP client", secretish, []jopaycheckout.Option{jopaycheckout.WithHTTPClient(nil)}, "nil *http.Client"},
		{"too many retries", secretish, []jopaycheckout.Option{jopaycheckout.WithMaxRetries(11)}, "max retries"},
		{"negative retries", secretish, []jopaycheckout.Option{jopaycheckout.WithMaxRetries(-1)}, "max retries"},
		{"nil logger", secretish, []jopaycheckout.Option{jopaycheckout.WithLogger(nil)}, "nil *slog.Logger"},
		{"empty user agent", secretish, []jopaycheckout.Option{jopaycheckout.WithUserAgent(" ")}, "user agent"},
		{"bad idempotency header", secretish, []jopaycheckout.Option{jopaycheckout.WithIdempotencyHeader("Idempotency Key")}, "header name"},
		{"empty idempotency header", secretish, []jopaycheckout.Option{jopaycheckout.WithIdempotencyHeader("")}, "header name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := jopaycheckout.NewClient(tt.key, tt.opts...)
			require.Error(t, err, "NewClient succeeded: %v", c)
			assert.Contains(t, err.Error(), tt.want, "error %q does not mention", err)
			assert.NotContains(t, err.Error(), "supersecret", "error leaks the key: %q", err)
		})
	}
}

func TestOptionsApply(t *testing.T) {
	mux, c := setup(t, jopaycheckout.WithUserAgent("shop/1.0"), jopaycheckout.WithMaxRetries(0))
	calls := 0
	mux.HandleFunc("/api/checkout/v1/sessions/cs_1", func(w http.ResponseWriter, r *http.Request) {
		calls++
		assert.Equal(t, "shop/1.0", r.Header.Get("User-Agent"), "User-Agent")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	_, err := c.GetSession(context.Background(), "cs_1")
	require.True(t, jopaycheckoutIsStatus(err, http.StatusServiceUnavailable), "err = %v", err)
	assert.Equal(t, 1, calls, "WithMaxRetries(0): calls")
}

func jopaycheckoutIsStatus(err error, status int) bool {
	var apiErr *paykit.Error
	return errors.As(err, &apiErr) && apiErr.Status == status
}

// The key must never show up in an error or a log line, even when the server echoes it.
func TestKeyNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux, c := setup(t, jopaycheckout.WithLogger(logger))
	mux.HandleFunc("/api/checkout/v1/sessions/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"unauthorized","message":"key ` + testKey + ` is revoked"}`))
	})
	_, err := c.GetSession(context.Background(), "cs_1")
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "unauthorized", apiErr.Code, "err = %v", err)
	for name, s := range map[string]string{"error": err.Error(), "message": apiErr.Message, "body": string(apiErr.Body), "logs": logs.String()} {
		assert.NotContains(t, s, testKey, "%s leaks the API key", name)
	}
	assert.Contains(t, apiErr.Message, "[REDACTED]", "message")
	assert.NotZero(t, logs.Len(), "nothing was logged at Debug")
}
