package jopay_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/jopay"
)

// Ids the per-call option tests use; no Route may contain them.
const (
	coRequestID  = "req_7b2e4c1d9f"
	coMerchantID = "m_b4d5e6f708"
	coKeyParam   = "params-key-0123456789abcdefghijklmnop"
	coKeyOption  = "option-key-0123456789abcdefghijklmnop"
)

// coRequestJSON is a request object as JoPay documents it.
func coRequestJSON(status jopay.Status, proof jopay.ProofStatus) map[string]any {
	return map[string]any{
		"ok": true, "request_id": coRequestID, "status": status, "proof_status": proof,
		"pay_page_url": "https://pay.jopay.app/" + coRequestID,
		"created_at":   "2026-05-02T09:00:00.000Z", "expires_at": "2026-05-02T10:00:00.000Z",
		"amount":      map[string]any{"fiat_int": 1250, "fiat_code": "USD", "usdc_micro": "12500000"},
		"merchant_id": coMerchantID,
	}
}

var coMerchantJSON = map[string]any{"ok": true, "merchant_id": coMerchantID, "onboarding_status": "incomplete"}

func coWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "rid-42")
	w.Header().Set("X-RateLimit-Limit", "60")
	w.Header().Set("X-RateLimit-Remaining", "59")
	w.Header().Set("X-RateLimit-Reset", "30")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// coArrival is one request the test server received.
type coArrival struct {
	method, path, testHeader string
	body                     map[string]any
}

// coServer is a go-github style test server answering every JoPay route the client uses and
// recording what arrived.
type coServer struct {
	mu       sync.Mutex
	arrivals []coArrival
}

func (s *coServer) record(r *http.Request) {
	var body map[string]any
	if b, _ := io.ReadAll(r.Body); len(b) > 0 {
		_ = json.Unmarshal(b, &body)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arrivals = append(s.arrivals, coArrival{r.Method, r.URL.Path, r.Header.Get("X-Paykit-Test"), body})
}

func (s *coServer) got() []coArrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.arrivals)
}

func (s *coServer) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arrivals = nil
}

func (s *coServer) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"), "Authorization on %s %s", r.Method, r.URL.Path)
			s.record(r)
			h(w, r)
		}
	}
	mux.HandleFunc("POST /api/v1/requests/create", auth(func(w http.ResponseWriter, r *http.Request) {
		coWriteJSON(w, http.StatusOK, coRequestJSON(jopay.StatusRequested, jopay.ProofStatusNone))
	}))
	mux.HandleFunc("GET /api/v1/requests/{id}", auth(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, coRequestID, r.PathValue("id"))
		coWriteJSON(w, http.StatusOK, coRequestJSON(jopay.StatusOpened, jopay.ProofStatusVerified))
	}))
	mux.HandleFunc("POST /api/v1/requests/{id}/cancel", auth(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, coRequestID, r.PathValue("id"))
		coWriteJSON(w, http.StatusOK, coRequestJSON(jopay.StatusCancelled, jopay.ProofStatusNone))
	}))
	mux.HandleFunc("GET /api/v1/requests", auth(func(w http.ResponseWriter, r *http.Request) {
		coWriteJSON(w, http.StatusOK, map[string]any{"ok": true, "has_more": false,
			"requests": []any{coRequestJSON(jopay.StatusOpened, jopay.ProofStatusVerified)}})
	}))
	mux.HandleFunc("POST /api/v1/merchants", auth(func(w http.ResponseWriter, r *http.Request) {
		coWriteJSON(w, http.StatusOK, coMerchantJSON)
	}))
	mux.HandleFunc("GET /api/v1/merchants/{id}", auth(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, coMerchantID, r.PathValue("id"))
		coWriteJSON(w, http.StatusOK, coMerchantJSON)
	}))
	mux.HandleFunc("GET /api/v1/merchants", auth(func(w http.ResponseWriter, r *http.Request) {
		coWriteJSON(w, http.StatusOK, map[string]any{"ok": true, "merchants": []any{coMerchantJSON}})
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	return mux
}

// coSetup starts a coServer and a client for it. The default rate limiter is off unless opts
// set a limiter.
func coSetup(t *testing.T, opts ...jopay.Option) (*jopay.Client, *coServer) {
	t.Helper()
	s := &coServer{}
	srv := httptest.NewServer(s.handler(t))
	t.Cleanup(srv.Close)
	base := []jopay.Option{jopay.WithBaseURL(srv.URL + "/api/v1"), jopay.WithRetryWait(time.Millisecond, 5*time.Millisecond), jopay.WithRateLimiter(nil)}
	c, err := jopay.NewClient(testKey, append(base, opts...)...)
	require.NoError(t, err)
	return c, s
}

// coMethod calls one client method with the per-call options.
type coMethod struct {
	name   string
	call   func(ctx context.Context, c *jopay.Client, opts ...paykit.CallOption) error
	routes []string // the CallStart routes, one per request
}

func coMethods() []coMethod {
	createParams := jopay.CreateRequestParams{MerchantID: coMerchantID, FiatAmountInt: 1250}
	drain := func(seq func(func(*jopay.PaymentRequest, error) bool)) error {
		for _, err := range seq {
			if err != nil {
				return err
			}
		}
		return nil
	}
	return []coMethod{
		{"CreateRequest", func(ctx context.Context, c *jopay.Client, o ...paykit.CallOption) error {
			_, err := c.CreateRequest(ctx, createParams, o...)
			return err
		}, []string{"POST /requests/create"}},
		{"GetRequest", func(ctx context.Context, c *jopay.Client, o ...paykit.CallOption) error {
			_, err := c.GetRequest(ctx, coRequestID, o...)
			return err
		}, []string{"GET /requests/{id}"}},
		{"CancelRequest", func(ctx context.Context, c *jopay.Client, o ...paykit.CallOption) error {
			_, err := c.CancelRequest(ctx, coRequestID, o...)
			return err
		}, []string{"POST /requests/{id}/cancel"}},
		{"ListRequestsPage", func(ctx context.Context, c *jopay.Client, o ...paykit.CallOption) error {
			_, err := c.ListRequestsPage(ctx, jopay.ListRequestsParams{MerchantID: coMerchantID}, o...)
			return err
		}, []string{"GET /requests"}},
		{"ListRequests", func(ctx context.Context, c *jopay.Client, o ...paykit.CallOption) error {
			return drain(c.ListRequests(ctx, jopay.ListRequestsParams{}, o...))
		}, []string{"GET /requests"}},
		{"ListRequestsFrom", func(ctx context.Context, c *jopay.Client, o ...paykit.CallOption) error {
			return drain(c.ListRequestsFrom(jopay.ListRequestsParams{}, jopay.Cursor{}, o...).All(ctx))
		}, []string{"GET /requests"}},
		{"CreateMerchant", func(ctx context.Context, c *jopay.Client, o ...paykit.CallOption) error {
			_, err := c.CreateMerchant(ctx, jopay.CreateMerchantParams{BusinessName: "Acme"}, o...)
			return err
		}, []string{"POST /merchants"}},
		{"GetMerchant", func(ctx context.Context, c *jopay.Client, o ...paykit.CallOption) error {
			_, err := c.GetMerchant(ctx, coMerchantID, o...)
			return err
		}, []string{"GET /merchants/{id}"}},
		{"ListMerchants", func(ctx context.Context, c *jopay.Client, o ...paykit.CallOption) error {
			_, err := c.ListMerchants(ctx, o...)
			return err
		}, []string{"GET /merchants"}},
		{"WaitForRequest", func(ctx context.Context, c *jopay.Client, o ...paykit.CallOption) error {
			_, err := c.WaitForRequest(ctx, coRequestID, jopay.WithCallOptions(o...))
			return err
		}, []string{"GET /requests/{id}"}},
		{"Do", func(ctx context.Context, c *jopay.Client, o ...paykit.CallOption) error {
			var out map[string]any
			return c.Do(ctx, http.MethodGet, "/merchants/"+coMerchantID, nil, &out, o...)
		}, []string{"GET /merchants/{id}"}},
	}
}

// Every exported method sends the per-call header, fills ResponseInfo and reports a route
// template, never a raw id, to the Observer. The table covers every exported method.
func TestCallOptionsReachEveryMethod(t *testing.T) {
	methods := coMethods()
	var covered []string
	for _, m := range methods {
		covered = append(covered, m.name)
	}
	// BaseURL and Mode send nothing; WaitForRequest takes call options through WithCallOptions.
	apitest.MethodTable(t, reflect.TypeFor[*jopay.Client](), covered, []string{"BaseURL", "Mode"}, []string{"WaitForRequest"})

	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			obs := &apitest.Observer{}
			c, srv := coSetup(t, jopay.WithObserver(obs))
			var info paykit.ResponseInfo
			err := m.call(context.Background(), c, paykit.WithHeader("X-Paykit-Test", m.name), paykit.WithResponseInfo(&info))
			require.NoError(t, err)
			got := srv.got()
			require.Len(t, got, len(m.routes))
			for _, a := range got {
				assert.Equal(t, m.name, a.testHeader, "X-Paykit-Test on %s %s", a.method, a.path)
			}
			assert.Equal(t, http.StatusOK, info.StatusCode)
			assert.Equal(t, 1, info.Attempts)
			assert.Equal(t, "rid-42", info.RequestID)
			var routes []string
			for _, cs := range obs.Starts() {
				assert.Equal(t, jopay.Provider, cs.Provider)
				assert.NotContains(t, cs.Route, coRequestID)
				assert.NotContains(t, cs.Route, coMerchantID)
				routes = append(routes, cs.Method+" "+cs.Route)
			}
			assert.Empty(t, cmp.Diff(m.routes, routes), "routes (-want +got)")
		})
	}
}

// WithIdempotencyKey travels in CreateRequest's body and wins over the params' key.
func TestCreateRequestIdempotencyKeyOption(t *testing.T) {
	c, srv := coSetup(t)
	ctx := context.Background()
	p := jopay.CreateRequestParams{MerchantID: coMerchantID, FiatAmountInt: 1250, IdempotencyKey: coKeyParam}

	var info paykit.ResponseInfo
	r, err := c.CreateRequest(ctx, p, paykit.WithIdempotencyKey(coKeyOption), paykit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, coKeyOption, r.IdempotencyKey)
	assert.Equal(t, coKeyOption, info.IdempotencyKey)

	r, err = c.CreateRequest(ctx, p, paykit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, coKeyParam, r.IdempotencyKey)
	assert.Equal(t, coKeyParam, info.IdempotencyKey)

	got := srv.got()
	require.Len(t, got, 2)
	assert.Equal(t, coKeyOption, got[0].body["idempotency_key"])
	assert.Equal(t, coKeyParam, got[1].body["idempotency_key"])

	// The option's key has the params field's format.
	srv.reset()
	_, err = c.CreateRequest(ctx, p, paykit.WithIdempotencyKey("short"))
	var vErr *paykit.ValidationError
	require.ErrorAs(t, err, &vErr)
	assert.Equal(t, "WithIdempotencyKey", vErr.Field)
	assert.Empty(t, srv.got(), "nothing may be sent")
}

// A keyed create is retried with the option's key: the write is safe to repeat.
func TestCreateRequestOptionKeyIsRetried(t *testing.T) {
	var (
		mu   sync.Mutex
		keys []any
		n    atomic.Int32
	)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/requests/create", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		mu.Lock()
		keys = append(keys, body["idempotency_key"])
		mu.Unlock()
		if n.Add(1) == 1 {
			coWriteJSON(w, http.StatusServiceUnavailable, map[string]any{"ok": false, "error": "internal_error"})
			return
		}
		coWriteJSON(w, http.StatusOK, coRequestJSON(jopay.StatusRequested, jopay.ProofStatusNone))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(srv.URL+"/api/v1"), jopay.WithRetryWait(time.Millisecond, time.Millisecond), jopay.WithRateLimiter(nil))
	require.NoError(t, err)
	var info paykit.ResponseInfo
	_, err = c.CreateRequest(context.Background(), jopay.CreateRequestParams{MerchantID: coMerchantID, FiatAmountInt: 5},
		paykit.WithIdempotencyKey(coKeyOption), paykit.WithResponseInfo(&info))
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []any{coKeyOption, coKeyOption}, keys)
	assert.Equal(t, 2, info.Attempts)
}

// Every other call refuses WithIdempotencyKey with a *paykit.ValidationError and sends nothing.
func TestIdempotencyKeyRefusedElsewhere(t *testing.T) {
	for _, m := range coMethods() {
		if m.name == "CreateRequest" {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			c, srv := coSetup(t)
			err := m.call(context.Background(), c, paykit.WithIdempotencyKey(coKeyOption))
			var vErr *paykit.ValidationError
			require.ErrorAs(t, err, &vErr)
			assert.Equal(t, "WithIdempotencyKey", vErr.Field)
			assert.Empty(t, srv.got(), "nothing may be sent")
		})
	}
	t.Run("Do POST", func(t *testing.T) {
		c, srv := coSetup(t)
		err := c.Do(context.Background(), http.MethodPost, "merchants", map[string]any{"business_name": "Acme"}, nil, paykit.WithIdempotencyKey(coKeyOption))
		var vErr *paykit.ValidationError
		require.ErrorAs(t, err, &vErr)
		assert.Empty(t, srv.got(), "nothing may be sent")
	})
}

// An invalid per-call option fails the call before anything is sent.
func TestInvalidCallOptionSendsNothing(t *testing.T) {
	c, srv := coSetup(t)
	for _, o := range []paykit.CallOption{
		paykit.WithHeader("Authorization", "Bearer other"),
		paykit.WithTimeout(0),
		paykit.WithMaxRetries(11),
		paykit.WithResponseInfo(nil),
	} {
		_, err := c.GetRequest(context.Background(), coRequestID, o)
		var vErr *paykit.ValidationError
		require.ErrorAs(t, err, &vErr)
		_, err = c.CreateRequest(context.Background(), jopay.CreateRequestParams{MerchantID: coMerchantID, FiatAmountInt: 1}, o)
		require.ErrorAs(t, err, &vErr)
	}
	assert.Empty(t, srv.got())
}

// WithTimeout ends a slow call with context.DeadlineExceeded.
func TestWithTimeoutEndsSlowCall(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(srv.URL+"/api/v1"), jopay.WithRateLimiter(nil))
	require.NoError(t, err)
	var info paykit.ResponseInfo
	_, err = c.GetRequest(context.Background(), coRequestID, paykit.WithTimeout(50*time.Millisecond), paykit.WithResponseInfo(&info))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 0, info.StatusCode)
	assert.Equal(t, 1, info.Attempts)
}

// coFailing answers every request with status and counts them.
func coFailing(t *testing.T, status int, n *atomic.Int32) *jopay.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("X-Request-Id", "rid-fail")
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "1767225600")
		coWriteJSON2(w, status)
	}))
	t.Cleanup(srv.Close)
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(srv.URL+"/api/v1"), jopay.WithRetryWait(time.Millisecond, time.Millisecond), jopay.WithRateLimiter(nil))
	require.NoError(t, err)
	return c
}

func coWriteJSON2(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	code := "internal_error"
	if status == http.StatusNotFound {
		code = "not_found"
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": code, "message": "failed"})
}

// WithMaxRetries overrides the client's retries for one call; ResponseInfo counts attempts.
func TestWithMaxRetriesAgainst503(t *testing.T) {
	for _, tc := range []struct{ retries, attempts int }{{0, 1}, {2, 3}} {
		var n atomic.Int32
		c := coFailing(t, http.StatusServiceUnavailable, &n)
		var info paykit.ResponseInfo
		_, err := c.GetRequest(context.Background(), coRequestID, paykit.WithMaxRetries(tc.retries), paykit.WithResponseInfo(&info))
		var apiErr *paykit.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusServiceUnavailable, apiErr.Status)
		assert.Equal(t, int32(tc.attempts), n.Load(), "WithMaxRetries(%d): requests sent", tc.retries)
		assert.Equal(t, tc.attempts, info.Attempts, "WithMaxRetries(%d): info.Attempts", tc.retries)
		assert.Equal(t, http.StatusServiceUnavailable, info.StatusCode)
	}
}

// ResponseInfo is filled on success, on an API error and after retries.
func TestResponseInfo(t *testing.T) {
	ctx := context.Background()
	t.Run("success", func(t *testing.T) {
		c, _ := coSetup(t)
		var info paykit.ResponseInfo
		_, err := c.GetRequest(ctx, coRequestID, paykit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, info.StatusCode)
		assert.Equal(t, "rid-42", info.RequestID)
		assert.Equal(t, 1, info.Attempts)
		assert.Positive(t, info.Duration)
		assert.Empty(t, info.IdempotencyKey)
		assert.Equal(t, "application/json", info.Header.Get("Content-Type"))
		assert.Equal(t, 60, info.RateLimit.Limit)
		assert.Equal(t, 59, info.RateLimit.Remaining)
		assert.False(t, info.RateLimit.Reset.IsZero())
	})
	t.Run("API error", func(t *testing.T) {
		var n atomic.Int32
		c := coFailing(t, http.StatusNotFound, &n)
		var info paykit.ResponseInfo
		_, err := c.GetRequest(ctx, coRequestID, paykit.WithResponseInfo(&info))
		var apiErr *paykit.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "not_found", apiErr.Code)
		assert.Equal(t, http.StatusNotFound, info.StatusCode)
		assert.Equal(t, "rid-fail", info.RequestID)
		assert.Equal(t, 1, info.Attempts)
		want := paykit.RateLimit{Limit: 60, Remaining: 0, Reset: time.Unix(1767225600, 0)}
		assert.Empty(t, cmp.Diff(want, info.RateLimit), "RateLimit (-want +got)")
	})
	t.Run("after retries", func(t *testing.T) {
		var n atomic.Int32
		mux := http.NewServeMux()
		mux.HandleFunc("GET /api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) < 3 {
				coWriteJSON2(w, http.StatusServiceUnavailable)
				return
			}
			coWriteJSON(w, http.StatusOK, coRequestJSON(jopay.StatusOpened, jopay.ProofStatusNone))
		})
		srv := httptest.NewServer(mux)
		defer srv.Close()
		c, err := jopay.NewClient(testKey, jopay.WithBaseURL(srv.URL+"/api/v1"), jopay.WithRetryWait(time.Millisecond, time.Millisecond), jopay.WithRateLimiter(nil))
		require.NoError(t, err)
		var info paykit.ResponseInfo
		_, err = c.GetRequest(ctx, coRequestID, paykit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, 3, info.Attempts)
		assert.Equal(t, http.StatusOK, info.StatusCode)
		assert.Equal(t, "rid-42", info.RequestID)
	})
	t.Run("CreateRequest error keeps the key", func(t *testing.T) {
		var n atomic.Int32
		c := coFailing(t, http.StatusBadRequest, &n)
		var info paykit.ResponseInfo
		_, err := c.CreateRequest(ctx, jopay.CreateRequestParams{MerchantID: coMerchantID, FiatAmountInt: 1}, paykit.WithIdempotencyKey(coKeyOption), paykit.WithResponseInfo(&info))
		var createErr *jopay.CreateError
		require.ErrorAs(t, err, &createErr)
		assert.Equal(t, coKeyOption, createErr.IdempotencyKey)
		assert.Equal(t, coKeyOption, info.IdempotencyKey)
		assert.Equal(t, http.StatusBadRequest, info.StatusCode)
		var apiErr *paykit.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusBadRequest, apiErr.Status)
	})
}
