package pepay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

func TestNewClient(t *testing.T) {
	c, err := pepay.NewClient(testKey)
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != pepay.DefaultBaseURL || c.Environment() != "" {
		t.Errorf("defaults: %s %q", c.BaseURL(), c.Environment())
	}
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
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if tc.key != "" && strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: error leaks the key: %v", name, err)
		}
	}
	c, err = pepay.NewClient(testKey, pepay.WithBaseURL("https://proxy.example.com/pepay/api/v1/"), pepay.WithEnvironment(pepay.EnvironmentMainnet),
		pepay.WithWebSocketURL("wss://ws.example.com"), pepay.WithUserAgent("shop/1.0"), pepay.WithMaxRetryAfter(time.Second),
		pepay.WithMaxResponseBytes(1<<20), pepay.WithHTTPClient(&http.Client{}), nil)
	if err != nil || c.BaseURL() != "https://proxy.example.com/pepay/api/v1" || c.Environment() != pepay.EnvironmentMainnet {
		t.Errorf("options: %v %v", c, err)
	}
}

func TestUserAgentAndBasePathPrefix(t *testing.T) {
	c, mux := setup(t, pepay.WithUserAgent("shop/1.0"))
	mux.HandleFunc("GET /api/v1/invoices/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		apitest.Header(t, r, "User-Agent", "shop/1.0")
		apitest.Header(t, r, "Accept", "application/json")
		apitest.ServeFixture(t, w, 200, "invoice_status.json")
	})
	if _, err := c.GetInvoiceStatus(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
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
	if !errors.As(err, &apiErr) || apiErr.Code != "INTERNAL_ERROR" || !apiErr.Retryable() {
		t.Fatalf("err = %v", err)
	}
	for what, s := range map[string]string{"error": err.Error(), "body": string(apiErr.Body), "message": apiErr.Message, "logs": logs.String()} {
		if strings.Contains(s, testKey) {
			t.Errorf("%s leaks the key: %s", what, s)
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("retry not logged: %s", logs.String())
	}
}

func TestAuthErrorFromFake(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	c, _ := pepay.NewClient("pk_wrong", pepay.WithBaseURL(srv.BaseURL))
	_, err := c.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("1")})
	if !paykit.IsCode(err, "API_KEY_INVALID") || !paykit.IsStatus(err, 401) {
		t.Errorf("err = %v", err)
	}
	if srv.InvoiceCount() != 0 {
		t.Error("invoice created with a bad key")
	}
}

func TestNewWSToken(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("POST /api/v1/ws/token", func(w http.ResponseWriter, r *http.Request) {
		testMerchantAuth(t, r)
		apitest.JSONBody(t, r, []byte(`{"scope":"merchant","ttl_seconds":2}`))
		apitest.ServeFixture(t, w, 200, "ws_token.json")
	})
	tok, err := c.NewWSToken(context.Background(), pepay.ScopeMerchant, 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token != "eyJhbGciOiJIUzI1NiJ9.eyJzY29wZSI6Im1lcmNoYW50In0.c2lnbmF0dXJl" || tok.MerchantID != "4242" ||
		!tok.ExpiresAt.Equal(mustTime(t, "2026-01-01T00:01:00Z")) || tok.WSURL != "wss://api-beta.pepay.io/ws/merchant/events" {
		t.Errorf("token = %#v", *tok)
	}
	if s := fmt.Sprintf("%v %+v %#v", tok, *tok, *tok); strings.Contains(s, tok.Token) {
		t.Errorf("printing a WSToken shows the token: %s", s)
	}
	for _, bad := range []func() error{
		func() error { _, err := c.NewWSToken(context.Background(), "admin", time.Minute); return err },
		func() error { _, err := c.NewWSToken(context.Background(), pepay.ScopeMerchant, 0); return err },
	} {
		if !errors.As(bad(), new(*paykit.ValidationError)) {
			t.Error("invalid token request accepted")
		}
	}
}

func TestUSDMillis(t *testing.T) {
	m := pepay.USDMillis(25000)
	if m.String() != "25.000" || m.Decimal().String() != "25.000" {
		t.Errorf("%s %s", m, m.Decimal())
	}
	if v, ok := pepay.USDMillisFromDecimal(paykit.MustDecimal("0.015")); !ok || v != 15 {
		t.Errorf("0.015 → %d %v", v, ok)
	}
	if _, ok := pepay.USDMillisFromDecimal(paykit.MustDecimal("0.0155")); ok {
		t.Error("sub-milli converted")
	}
	if pepay.USDMillis(-1500).String() != "-1.500" {
		t.Error(pepay.USDMillis(-1500).String())
	}
}
