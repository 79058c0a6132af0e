package pepay_test

import (
	"context"
	"encoding/json"
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
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
)

// doSetup returns a client aimed at a fresh mux (go-github style) with fast retries and an
// observer, and the observer.
func doSetup(t *testing.T, opts ...pepay.Option) (*pepay.Client, *http.ServeMux, *apitest.Observer) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	obs := &apitest.Observer{}
	base := []pepay.Option{pepay.WithBaseURL(srv.URL), pepay.WithRetryWait(time.Millisecond, 2*time.Millisecond), pepay.WithObserver(obs)}
	c, err := pepay.NewClient(coKey, append(base, opts...)...)
	require.NoError(t, err)
	return c, mux, obs
}

func checkKeyAuth(t *testing.T, r *http.Request) {
	t.Helper()
	assert.Equal(t, coKey, r.Header.Get("x-api-key"))
	assert.Empty(t, r.Header.Get("Authorization"))
}

type webhookEndpoint struct {
	ID            string   `json:"id"`
	URL           string   `json:"url"`
	EnabledEvents []string `json:"enabled_events"`
}

func TestDo_getDecodesWrappedList(t *testing.T) {
	c, mux, obs := doSetup(t)
	mux.HandleFunc("GET /api/v1/webhooks", func(w http.ResponseWriter, r *http.Request) {
		checkKeyAuth(t, r)
		assert.Equal(t, "devnet", r.URL.Query().Get("environment"))
		assert.Equal(t, "x", r.Header.Get("X-Paykit-Test"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success":true,"data":{"object":"list","data":[{"id":"we_1","url":"https://shop.example/hook","enabled_events":["invoice.*"]}],"has_more":false}}`))
	})
	var out struct {
		Data    []webhookEndpoint `json:"data"`
		HasMore bool              `json:"has_more"`
	}
	var info paykit.ResponseInfo
	err := c.Do(context.Background(), http.MethodGet, "/webhooks?environment=devnet", nil, &out, paykit.WithHeader("X-Paykit-Test", "x"), paykit.WithResponseInfo(&info))
	require.NoError(t, err)
	want := []webhookEndpoint{{ID: "we_1", URL: "https://shop.example/hook", EnabledEvents: []string{"invoice.*"}}}
	assert.Empty(t, cmp.Diff(want, out.Data))
	assert.Equal(t, http.StatusOK, info.StatusCode)
	assert.Equal(t, 1, info.Attempts)
	assert.Empty(t, cmp.Diff([]paykit.CallStart{{Provider: "pepay", Method: "GET", Route: "/webhooks"}}, obs.Take()))
}

func TestDo_postSendsBody(t *testing.T) {
	c, mux, obs := doSetup(t)
	mux.HandleFunc("POST /api/v1/webhooks/we_123/rotate-secret", func(w http.ResponseWriter, r *http.Request) {
		checkKeyAuth(t, r)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Empty(t, r.Header.Get("Idempotency-Key"))
		b, err := io.ReadAll(r.Body)
		assert.NoError(t, err)
		assert.JSONEq(t, `{"grace_seconds":3600}`, string(b))
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"we_123","url":"https://shop.example/hook"}`))
	})
	body := map[string]int{"grace_seconds": 3600}
	var out webhookEndpoint
	require.NoError(t, c.Do(context.Background(), http.MethodPost, "webhooks/we_123/rotate-secret", body, &out))
	assert.Equal(t, webhookEndpoint{ID: "we_123", URL: "https://shop.example/hook"}, out)
	starts := obs.Take()
	require.Len(t, starts, 1)
	assert.Equal(t, "/webhooks/{id}/rotate-secret", starts[0].Route)
}

func TestDo_nilOutAndEmptyBody(t *testing.T) {
	c, mux, _ := doSetup(t)
	mux.HandleFunc("DELETE /api/v1/webhooks/we_9", func(w http.ResponseWriter, r *http.Request) {
		checkKeyAuth(t, r)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/v1/ping", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	out := webhookEndpoint{ID: "unchanged"}
	require.NoError(t, c.Do(context.Background(), http.MethodDelete, "webhooks/we_9", nil, &out))
	assert.Equal(t, "unchanged", out.ID, "an empty answer leaves out alone")
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "ping", nil, nil))
}

func TestDo_apiErrors(t *testing.T) {
	c, mux, _ := doSetup(t)
	mux.HandleFunc("GET /api/v1/api-keys", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"success":false,"error":{"code":"FORBIDDEN","message":"dashboard token required"}}`))
	})
	mux.HandleFunc("GET /api/v1/settlement-preferences", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"success":false,"error":{"code":"NOT_ENABLED","message":"not for this account"}}`))
	})
	var info paykit.ResponseInfo
	err := c.Do(context.Background(), http.MethodGet, "api-keys", nil, nil, paykit.WithResponseInfo(&info))
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusForbidden, apiErr.Status)
	assert.Equal(t, "FORBIDDEN", apiErr.Code)
	assert.Equal(t, http.StatusForbidden, info.StatusCode)
	assert.NotContains(t, err.Error(), coKey)

	var out map[string]any
	err = c.Do(context.Background(), http.MethodGet, "settlement-preferences", nil, &out)
	require.ErrorAs(t, err, &apiErr, "a 200 with success:false")
	assert.Equal(t, "NOT_ENABLED", apiErr.Code)
	assert.Nil(t, out)

	err = c.Do(context.Background(), http.MethodGet, "nothing-here", nil, &out)
	assert.True(t, paykit.IsStatus(err, http.StatusNotFound), "err = %v", err)
}

func TestDo_refusesPathsOutsideBase(t *testing.T) {
	c, _ := failOnRequest(t)
	for _, path := range []string{
		"",
		"   ",
		"https://evil.example/api/v1/invoices",
		"http://evil.example",
		"//evil.example/api/v1/invoices",
		"..",
		"../v2/invoices",
		"invoices/../../admin",
		"invoices/%2e%2e/%2E%2E/admin",
		"invoices/.%2e/x",
		"invoices/./x",
		"invoices%2f..%2fadmin",
		"invoices%2Fx",
		`\\evil.example\x`,
		"invoices/x#frag",
		"invoices\r\nHost: evil",
		"javascript:alert(1)",
	} {
		var info paykit.ResponseInfo
		err := c.Do(context.Background(), http.MethodGet, path, nil, nil, paykit.WithResponseInfo(&info))
		var vErr *paykit.ValidationError
		assert.ErrorAs(t, err, &vErr, "path %q", path)
	}
	for _, method := range []string{"", "get", "GE T", "PO\nST"} {
		err := c.Do(context.Background(), method, "invoices", nil, nil)
		var vErr *paykit.ValidationError
		assert.ErrorAs(t, err, &vErr, "method %q", method)
	}
}

// A POST through Do without an idempotency key is never retried after it may have reached
// Pepay; with WithIdempotencyKey the key travels in Idempotency-Key and the POST is retried.
func TestDo_postRetriesOnlyWithKey(t *testing.T) {
	const key = "6e1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
	t.Run("without key", func(t *testing.T) {
		var hits atomic.Int32
		c, mux, _ := doSetup(t)
		mux.HandleFunc("POST /api/v1/webhooks", func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		var info paykit.ResponseInfo
		err := c.Do(context.Background(), http.MethodPost, "webhooks", map[string]string{"url": "https://shop.example/hook"}, nil, paykit.WithResponseInfo(&info))
		require.ErrorIs(t, err, paykit.ErrUnknownOutcome)
		assert.True(t, paykit.IsStatus(err, http.StatusServiceUnavailable))
		assert.Equal(t, int32(1), hits.Load(), "an unkeyed POST was retried")
		assert.Equal(t, 1, info.Attempts)
		assert.Empty(t, info.IdempotencyKey)
	})
	t.Run("with key", func(t *testing.T) {
		var hits atomic.Int32
		c, mux, _ := doSetup(t)
		mux.HandleFunc("POST /api/v1/webhooks", func(w http.ResponseWriter, r *http.Request) {
			assert.Equal(t, []string{key}, r.Header.Values("Idempotency-Key"))
			b, _ := io.ReadAll(r.Body)
			assert.JSONEq(t, `{"url":"https://shop.example/hook"}`, string(b))
			if hits.Add(1) < 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte(`{"success":true,"data":{"id":"we_7","url":"https://shop.example/hook"}}`))
		})
		var info paykit.ResponseInfo
		var out webhookEndpoint
		err := c.Do(context.Background(), http.MethodPost, "webhooks", json.RawMessage(`{"url":"https://shop.example/hook"}`), &out,
			paykit.WithIdempotencyKey(key), paykit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, "we_7", out.ID)
		assert.Equal(t, int32(3), hits.Load())
		assert.Equal(t, 3, info.Attempts)
		assert.Equal(t, key, info.IdempotencyKey)
	})
}

// An unreadable 2xx answer to an unkeyed write leaves its outcome unknown; to a read it is
// only an invalid response.
func TestDo_unreadableAnswer(t *testing.T) {
	c, mux, _ := doSetup(t)
	mux.HandleFunc("/api/v1/odd", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"id":`))
	})
	var out map[string]any
	err := c.Do(context.Background(), http.MethodGet, "odd", nil, &out)
	require.ErrorIs(t, err, paykit.ErrInvalidResponse)
	assert.NotErrorIs(t, err, paykit.ErrUnknownOutcome)
	err = c.Do(context.Background(), http.MethodPost, "odd", nil, &out)
	require.ErrorIs(t, err, paykit.ErrInvalidResponse)
	assert.ErrorIs(t, err, paykit.ErrUnknownOutcome)
}

// Do sends the dashboard JWT on a client built with an empty API key, for the routes that want it.
func TestDo_dashboardTokenClient(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkbyJ9.c2ln"
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("GET /api/v1/api-keys", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "Bearer "+jwt, r.Header.Get("Authorization"))
		assert.Empty(t, r.Header.Get("x-api-key"))
		_, _ = w.Write([]byte(`{"success":true,"data":[{"id":"key_1"}]}`))
	})
	c, err := pepay.NewClient("", pepay.WithBaseURL(srv.URL), pepay.WithDashboardToken(jwt))
	require.NoError(t, err)
	var keys []struct {
		ID string `json:"id"`
	}
	require.NoError(t, c.Do(context.Background(), http.MethodGet, "api-keys", nil, &keys))
	require.Len(t, keys, 1)
	assert.Equal(t, "key_1", keys[0].ID)
}
