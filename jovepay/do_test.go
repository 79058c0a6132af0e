package jovepay_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
)

// TestDoGet: a raw GET carries the API key and the caller's query, and decodes into out.
func TestDoGet(t *testing.T) {
	srv := newCoServer(t)
	srv.mux.HandleFunc("GET /v1/balance", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, coKey, r.Header.Get("x-api-key"), "x-api-key")
		assert.Empty(t, r.Header.Get("Authorization"), "Authorization: Do sends the API key only")
		assert.Equal(t, "btc", r.URL.Query().Get("currency"), "query")
		assert.Equal(t, "application/json", r.Header.Get("Accept"), "Accept")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"btc":{"amount":0.5,"pendingAmount":0.01}}`)
	})
	c := srv.client()
	var out map[string]struct {
		Amount        paykit.Decimal `json:"amount"`
		PendingAmount paykit.Decimal `json:"pendingAmount"`
	}
	var info paykit.ResponseInfo
	require.NoError(t, c.Do(context.Background(), "GET", "/balance?currency=btc", nil, &out, paykit.WithResponseInfo(&info)))
	require.Contains(t, out, "btc")
	assert.Equal(t, "0.5", out["btc"].Amount.String(), "amount")
	assert.Equal(t, "0.01", out["btc"].PendingAmount.String(), "pending")
	assert.Equal(t, 200, info.StatusCode, "info.StatusCode")
	assert.Equal(t, 1, srv.count(), "requests")
}

// TestDoPost: a raw POST sends the JSON body and is a write without idempotency: a 503 is not
// retried and its outcome is unknown.
func TestDoPost(t *testing.T) {
	srv := newCoServer(t)
	calls := 0
	srv.mux.HandleFunc("POST /v1/payout", func(w http.ResponseWriter, r *http.Request) {
		calls++
		assert.Equal(t, coKey, r.Header.Get("x-api-key"), "x-api-key")
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"), "Content-Type")
		assert.JSONEq(t, `{"withdrawals":[{"address":"TEmGw","currency":"trx","amount":200}]}`, readBody(r), "body")
		w.Header().Set("Content-Type", "application/json")
		if calls == 1 {
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":"5000000713","withdrawals":[{"id":"5000145498","status":"WAITING"}]}`)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"statusCode":503,"code":"UNAVAILABLE","message":"later"}`)
	})
	c := srv.client()
	body := map[string]any{"withdrawals": []map[string]any{{"address": "TEmGw", "currency": "trx", "amount": json.Number("200")}}}
	var out struct {
		ID          jovepay.ID `json:"id"`
		Withdrawals []struct {
			ID     jovepay.ID `json:"id"`
			Status string     `json:"status"`
		} `json:"withdrawals"`
	}
	require.NoError(t, c.Do(context.Background(), "POST", "payout", body, &out))
	assert.Equal(t, jovepay.ID("5000000713"), out.ID, "id")
	require.Len(t, out.Withdrawals, 1)
	assert.Equal(t, "WAITING", out.Withdrawals[0].Status, "status")

	err := c.Do(context.Background(), "POST", "payout", body, nil)
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.Status, "status")
	assert.ErrorIs(t, err, paykit.ErrUnknownOutcome, "a 5xx after an unkeyed write")
	assert.Equal(t, 2, calls, "the failed POST was not retried")
}

// TestDoAPIError: an error answer comes back as a *paykit.Error with JovePay's code, and the
// API key never appears in it.
func TestDoAPIError(t *testing.T) {
	srv := newCoServer(t)
	srv.mux.HandleFunc("GET /v1/payment/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-404")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"statusCode":404,"code":"NOT_FOUND","message":"payment not found for key `+coKey+`"}`)
	})
	c := srv.client()
	var info paykit.ResponseInfo
	err := c.Do(context.Background(), "GET", "payment/42", nil, nil, paykit.WithResponseInfo(&info))
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.Status, "status")
	assert.Equal(t, jovepay.CodeNotFound, apiErr.Code, "code")
	assert.NotContains(t, err.Error(), coKey, "the API key leaked into the error")
	assert.Equal(t, "req-404", info.RequestID, "info.RequestID")
	assert.Equal(t, 1, info.Attempts, "info.Attempts")
}

// TestDoJWT: DoJWT sends the API key and the Bearer JWT, logging in first; without
// credentials it fails with ErrCredentialsRequired before sending.
func TestDoJWT(t *testing.T) {
	srv := newCoServer(t)
	srv.serveAuth()
	srv.reply("GET /v1/payout/{id}", "jwt", 200, `{"id":"5000000001","status":"FINISHED"}`)
	c := srv.client()
	var out struct {
		Status string `json:"status"`
	}
	require.NoError(t, c.DoJWT(context.Background(), "GET", "/payout/5000000001", nil, &out))
	assert.Equal(t, "FINISHED", out.Status, "decoded")
	var paths []string
	for _, r := range srv.take() {
		paths = append(paths, r.Method+" "+r.Path)
	}
	assert.Empty(t, cmp.Diff([]string{"POST /v1/auth", "GET /v1/payout/5000000001"}, paths), "requests (-want +got)")

	noCreds, err := jovepay.NewClient(coKey, jovepay.WithBaseURL(srv.srv.URL+"/v1"))
	require.NoError(t, err)
	err = noCreds.DoJWT(context.Background(), "GET", "/payout/5000000001", nil, &out)
	require.ErrorIs(t, err, jovepay.ErrCredentialsRequired)
	assert.Zero(t, srv.count(), "requests sent without credentials")
}

// TestDoRefusesPathsOutsideBase: a path that could leave the base URL is refused with a
// *paykit.ValidationError and nothing is sent, by Do and DoJWT alike.
func TestDoRefusesPathsOutsideBase(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent: %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	c, err := jovepay.NewClient(coKey, jovepay.WithBaseURL(srv.URL+"/v1"), jovepay.WithCredentials(coEmail, coPassword))
	require.NoError(t, err)
	for _, path := range []string{
		"https://evil.example/v1/payment",
		"http://127.0.0.1:1/v1/status",
		"//evil.example/v1/payment",
		"../status",
		"/v1/../../admin",
		"payment/../../auth",
		"%2e%2e/status",
		"payment/%2E%2E/%2e%2e/x",
		"payment%2F..%2Fauth",
		"payment%2fx",
		`\\evil.example\x`,
		"payment#frag",
		"payment/1\r\nX-Injected: 1",
		"",
		" ",
	} {
		for name, do := range map[string]func(context.Context, string, string, any, any, ...paykit.CallOption) error{"Do": c.Do, "DoJWT": c.DoJWT} {
			err := do(context.Background(), "GET", path, nil, nil)
			var vErr *paykit.ValidationError
			assert.ErrorAs(t, err, &vErr, "%s(%q)", name, path)
		}
	}
	for _, method := range []string{"", "get", "GET /x", "PO ST"} {
		err := c.Do(context.Background(), method, "status", nil, nil)
		var vErr *paykit.ValidationError
		assert.ErrorAs(t, err, &vErr, "method %q", method)
	}
}

// TestDoIdempotencyKeyRefused: JovePay has no idempotency mechanism, not even for raw calls.
func TestDoIdempotencyKeyRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent: %s %s", r.Method, r.URL)
	}))
	defer srv.Close()
	c, err := jovepay.NewClient(coKey, jovepay.WithBaseURL(srv.URL+"/v1"))
	require.NoError(t, err)
	for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
		err := c.Do(context.Background(), method, "payout", map[string]string{"a": "b"}, nil, paykit.WithIdempotencyKey("k-1"))
		var vErr *paykit.ValidationError
		require.ErrorAs(t, err, &vErr, method)
		assert.Equal(t, "WithIdempotencyKey", vErr.Field, method)
	}
}
