package jopay_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopay"
)

// Do sends GETs and POSTs with the client's auth and decodes the answer into out.
func TestDoGetAndPost(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/merchants/{id}", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodGet, nil)
		assert.Equal(t, coMerchantID, r.PathValue("id"))
		assert.Equal(t, "full", r.URL.Query().Get("view"))
		coWriteJSON(w, http.StatusOK, map[string]any{"ok": true, "merchant_id": coMerchantID, "payout_wallet": "0xabc"})
	})
	mux.HandleFunc("POST /api/v1/merchants/{id}/notes", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, http.MethodPost, map[string]any{"note": "vip", "priority": float64(2)})
		coWriteJSON(w, http.StatusCreated, map[string]any{"ok": true, "note_id": "n_1"})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(srv.URL+"/api/v1"), jopay.WithRateLimiter(nil))
	require.NoError(t, err)
	ctx := context.Background()

	var got struct {
		MerchantID   string `json:"merchant_id"`
		PayoutWallet string `json:"payout_wallet"`
	}
	var info paykit.ResponseInfo
	require.NoError(t, c.Do(ctx, http.MethodGet, "/merchants/"+coMerchantID+"?view=full", nil, &got, paykit.WithResponseInfo(&info)))
	assert.Equal(t, coMerchantID, got.MerchantID)
	assert.Equal(t, "0xabc", got.PayoutWallet)
	assert.Equal(t, http.StatusOK, info.StatusCode)
	assert.Equal(t, "rid-42", info.RequestID)

	var created map[string]any
	require.NoError(t, c.Do(ctx, http.MethodPost, "merchants/"+coMerchantID+"/notes", map[string]any{"note": "vip", "priority": 2}, &created))
	assert.Empty(t, cmp.Diff(map[string]any{"ok": true, "note_id": "n_1"}, created))

	// out == nil discards the answer; a raw JSON body is sent as it is.
	require.NoError(t, c.Do(ctx, http.MethodPost, "merchants/"+coMerchantID+"/notes", json.RawMessage(`{"note":"vip","priority":2}`), nil))
}

// API errors from Do are *paykit.Error, and so is a 2xx whose envelope says "ok": false.
func TestDoErrors(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/missing", func(w http.ResponseWriter, r *http.Request) {
		coWriteJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "not_found", "message": "no such thing"})
	})
	mux.HandleFunc("GET /api/v1/okfalse", func(w http.ResponseWriter, r *http.Request) {
		coWriteJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "merchant_suspended", "message": "suspended"})
	})
	mux.HandleFunc("GET /api/v1/notjson", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html>")
	})
	var posts atomic.Int32
	mux.HandleFunc("POST /api/v1/flaky", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		coWriteJSON(w, http.StatusServiceUnavailable, map[string]any{"ok": false, "error": "internal_error"})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(srv.URL+"/api/v1"), jopay.WithRetryWait(time.Millisecond, time.Millisecond), jopay.WithRateLimiter(nil))
	require.NoError(t, err)
	ctx := context.Background()

	var apiErr *paykit.Error
	err = c.Do(ctx, http.MethodGet, "missing", nil, nil)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.Status)
	assert.Equal(t, "not_found", apiErr.Code)

	var out map[string]any
	err = c.Do(ctx, http.MethodGet, "okfalse", nil, &out)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "merchant_suspended", apiErr.Code)

	err = c.Do(ctx, http.MethodGet, "notjson", nil, &out)
	require.ErrorIs(t, err, paykit.ErrInvalidResponse)

	// A POST through Do has no idempotency key: a 503 is not retried and its outcome is unknown.
	var info paykit.ResponseInfo
	err = c.Do(ctx, http.MethodPost, "flaky", map[string]any{}, nil, paykit.WithResponseInfo(&info))
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, paykit.ErrUnknownOutcome)
	assert.Equal(t, int32(1), posts.Load())
	assert.Equal(t, 1, info.Attempts)
}

// Paths that could leave the base URL are refused before anything is sent.
func TestDoRefusesPathsOutsideTheBase(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent: %s %s", r.Method, r.URL)
	}))
	defer srv.Close()
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(srv.URL+"/api/v1"), jopay.WithRateLimiter(nil))
	require.NoError(t, err)
	for _, path := range []string{
		"https://evil.example/api/v1/requests",
		"http://127.0.0.1/x",
		"//evil.example/requests",
		"../admin",
		"/requests/../../admin",
		"requests/%2e%2e/%2E%2E/admin",
		"requests%2f..%2fadmin",
		`requests\..\admin`,
		"requests/x#frag",
		"requests\r\nX-Injected: 1",
		"",
	} {
		err := c.Do(context.Background(), http.MethodGet, path, nil, nil)
		var vErr *paykit.ValidationError
		assert.True(t, errors.As(err, &vErr), "path %q: err = %v, want a *paykit.ValidationError", path, err)
	}
	var vErr *paykit.ValidationError
	require.ErrorAs(t, c.Do(context.Background(), "get", "requests", nil, nil), &vErr, "a lower-case method")
}
