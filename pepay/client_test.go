package pepay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

func TestNewClient(t *testing.T) {
	c, err := pepay.NewClient(testKey)
	require.NoError(t, err)
	assert.Equal(t, pepay.DefaultBaseURL, c.BaseURL(), "defaults: %s %q", c.BaseURL(), c.Environment())
	assert.Empty(t, c.Environment(), "defaults: %s %q", c.BaseURL(), c.Environment())
	for name, tc := range map[string]struct {
		key  string
		opts []pepay.Option
	}{
		"empty key":       {"", nil},
		"spaces":          {"pk_a b", nil},
		"bad base":        {testKey, []pepay.Option{pepay.WithBaseURL("ftp://x")}},
		"base with query": {testKey, []pepay.Option{pepay.WithBaseURL("https://x?a=1")}},
		"bad ws":          {testKey, []pepay.Option{pepay.WithWebSocketURL("tcp://x")}},
		"bad env":         {testKey, []pepay.Option{pepay.WithEnvironment("testnet")}},
		"retries":         {testKey, []pepay.Option{pepay.WithMaxRetries(11)}},
		"retry wait":      {testKey, []pepay.Option{pepay.WithRetryWait(time.Second, time.Millisecond)}},
		"nil http client": {testKey, []pepay.Option{pepay.WithHTTPClient(nil)}},
		"nil logger":      {testKey, []pepay.Option{pepay.WithLogger(nil)}},
		"user agent":      {testKey, []pepay.Option{pepay.WithUserAgent("a\nb")}},
		"response bytes":  {testKey, []pepay.Option{pepay.WithMaxResponseBytes(0)}},
		"retry after":     {testKey, []pepay.Option{pepay.WithMaxRetryAfter(-1)}},
	} {
		_, err := pepay.NewClient(tc.key, tc.opts...)
		if !assert.Error(t, err, "%s: accepted", name) {
			continue
		}
		if tc.key != "" && strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: error leaks the key: %v", name, err)
		}
	}
	c, err = pepay.NewClient(testKey, pepay.WithBaseURL("https://proxy.example.com/pepay/api/v1/"), pepay.WithEnvironment(pepay.EnvironmentMainnet),
		pepay.WithWebSocketURL("wss://ws.example.com"), pepay.WithUserAgent("shop/1.0"), pepay.WithMaxRetryAfter(time.Second),
		pepay.WithMaxResponseBytes(1<<20), pepay.WithHTTPClient(&http.Client{}), nil)
	require.NoError(t, err, "options: %v %v", c, err)
	assert.Equal(t, "https://proxy.example.com/pepay/api/v1", c.BaseURL(), "options: %v %v", c, err)
	assert.Equal(t, pepay.EnvironmentMainnet, c.Environment(), "options: %v %v", c, err)
}

func TestUserAgentAndBasePathPrefix(t *testing.T) {
	c, mux := setup(t, pepay.WithUserAgent("shop/1.0"))
	mux.HandleFunc("GET /api/v1/invoices/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		apitest.Header(t, r, "User-Agent", "shop/1.0")
		apitest.Header(t, r, "Accept", "application/json")
		apitest.ServeFixture(t, w, 200, "invoice_status.json")
	})
	_, err := c.GetInvoiceStatus(context.Background(), "x")
	require.NoError(t, err)
}

// Errors and log lines never contain the API key, even when the server echoes it back.
func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux := setup(t, pepay.WithLogger(logger), pepay.WithMaxRetries(1))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]any{"success": false,
			"error": map[string]string{"code": "INTERNAL_ERROR", "message": "bad key " + r.Header.Get("x-api-key")}})
	})
	_, err := c.GetInvoice(context.Background(), "inv_1")
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr, "err = %v", err)
	require.Equal(t, "INTERNAL_ERROR", apiErr.Code, "err = %v", err)
	require.True(t, apiErr.Retryable(), "err = %v", err)
	for what, s := range map[string]string{"error": err.Error(), "body": string(apiErr.Body), "message": apiErr.Message, "logs": logs.String()} {
		assert.NotContains(t, s, testKey, "%s leaks the key", what)
	}
	assert.Contains(t, logs.String(), "retrying", "retry not logged")
}

func TestAuthErrorFromFake(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := pepay.NewClient("pk_wrong", pepay.WithBaseURL(srv.BaseURL))
	_, err := c.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	assert.True(t, paykit.IsCode(err, "API_KEY_INVALID"), "err = %v", err)
	assert.True(t, paykit.IsStatus(err, 401), "err = %v", err)
	assert.Zero(t, srv.InvoiceCount(), "invoice created with a bad key")
}

func TestNewWSToken(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("POST /api/v1/ws/token", func(w http.ResponseWriter, r *http.Request) {
		testMerchantAuth(t, r)
		apitest.JSONBody(t, r, []byte(`{"scope":"merchant","ttl_seconds":2}`))
		apitest.ServeFixture(t, w, 200, "ws_token.json")
	})
	tok, err := c.NewWSToken(context.Background(), pepay.ScopeMerchant, 1500*time.Millisecond)
	require.NoError(t, err)
	if tok.Token != "eyJhbGciOiJIUzI1NiJ9.eyJzY29wZSI6Im1lcmNoYW50In0.c2lnbmF0dXJl" || tok.MerchantID != "4242" ||
		!tok.ExpiresAt.Equal(mustTime(t, "2026-01-01T00:01:00Z")) || tok.WSURL != "wss://api-beta.pepay.io/ws/merchant/events" {
		t.Errorf("token = %#v", *tok)
	}
	s := fmt.Sprintf("%v %+v %#v", tok, *tok, *tok)
	assert.NotContains(t, s, tok.Token, "printing a WSToken shows the token")
	for _, bad := range []func() error{
		func() error { _, err := c.NewWSToken(context.Background(), "admin", time.Minute); return err },
		func() error { _, err := c.NewWSToken(context.Background(), pepay.ScopeMerchant, 0); return err },
	} {
		assert.ErrorAs(t, bad(), new(*paykit.ValidationError), "invalid token request accepted")
	}
}

func TestUSDMillis(t *testing.T) {
	m := pepay.USDMillis(25000)
	assert.Equal(t, "25.000", m.String(), "%s %s", m, m.Decimal())
	assert.Equal(t, "25.000", m.Decimal().String(), "%s %s", m, m.Decimal())
	v, ok := pepay.USDMillisFromDecimal(paykit.MustDecimal("0.015"))
	assert.True(t, ok, "0.015 → %d %v", v, ok)
	assert.Equal(t, pepay.USDMillis(15), v, "0.015 → %d %v", v, ok)
	_, ok = pepay.USDMillisFromDecimal(paykit.MustDecimal("0.0155"))
	assert.False(t, ok, "sub-milli converted")
	assert.Equal(t, "-1.500", pepay.USDMillis(-1500).String())
}
