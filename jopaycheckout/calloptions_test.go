package jopaycheckout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"golang.org/x/time/rate"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/jopaycheckout"
)

const (
	cxSessionID = "cs_test_a1b2c3d4"
	cxKeyParam  = "params-key-0123456789abcdefghijklmnop"
	cxKeyOption = "option-key-0123456789abcdefghijklmnop"
)

var cxSessionJSON = map[string]any{"id": cxSessionID, "url": "https://jopay.me/c/" + cxSessionID, "status": "open", "amount_cents": 1250, "currency": "eur"}

func cxParams() jopaycheckout.CreateSessionParams {
	return jopaycheckout.CreateSessionParams{AmountCents: 1250, Currency: "eur",
		SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cancel"}
}

func cxWrite(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "rid-7")
	w.Header().Set("RateLimit-Limit", "100")
	w.Header().Set("RateLimit-Remaining", "98")
	w.Header().Set("RateLimit-Reset", "20")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type cxArrival struct {
	method, path, testHeader, idemKey string
	body                              map[string]any
}

// cxServer answers the Checkout routes the client uses and records what arrived; fail503
// requests to POST /sessions fail with 503 first.
type cxServer struct {
	mu       sync.Mutex
	arrivals []cxArrival
	fail503  atomic.Int32
	URL      string
}

func (s *cxServer) got() []cxArrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.arrivals)
}

func cxStart(t *testing.T) *cxServer {
	t.Helper()
	s := &cxServer{}
	mux := http.NewServeMux()
	record := func(r *http.Request) {
		assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
		var body map[string]any
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			assert.NoError(t, json.Unmarshal(b, &body))
		}
		s.mu.Lock()
		s.arrivals = append(s.arrivals, cxArrival{r.Method, r.URL.Path, r.Header.Get("X-Paykit-Test"), r.Header.Get("Idempotency-Key"), body})
		s.mu.Unlock()
	}
	mux.HandleFunc("POST /api/checkout/v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		if s.fail503.Add(-1) >= 0 {
			cxWrite(w, http.StatusServiceUnavailable, map[string]any{"error": "unavailable", "message": "try again"})
			return
		}
		cxWrite(w, http.StatusOK, cxSessionJSON)
	})
	mux.HandleFunc("GET /api/checkout/v1/sessions/{id}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		if r.PathValue("id") != cxSessionID {
			cxWrite(w, http.StatusNotFound, map[string]any{"error": "not_found", "message": "no such session"})
			return
		}
		cxWrite(w, http.StatusOK, cxSessionJSON)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/api/checkout/v1"
	return s
}

func cxClient(t *testing.T, s *cxServer, opts ...jopaycheckout.Option) *jopaycheckout.Client {
	t.Helper()
	base := []jopaycheckout.Option{jopaycheckout.WithBaseURL(s.URL), jopaycheckout.WithRetryWait(time.Millisecond, time.Millisecond)}
	c, err := jopaycheckout.NewClient(testKey, append(base, opts...)...)
	require.NoError(t, err)
	return c
}

type cxMethod struct {
	name  string
	call  func(ctx context.Context, c *jopaycheckout.Client, opts ...paykit.CallOption) error
	route string
}

func cxMethods() []cxMethod {
	return []cxMethod{
		{"CreateSession", func(ctx context.Context, c *jopaycheckout.Client, o ...paykit.CallOption) error {
			_, err := c.CreateSession(ctx, cxParams(), o...)
			return err
		}, "POST /sessions"},
		{"GetSession", func(ctx context.Context, c *jopaycheckout.Client, o ...paykit.CallOption) error {
			_, err := c.GetSession(ctx, cxSessionID, o...)
			return err
		}, "GET /sessions/{id}"},
		{"Do", func(ctx context.Context, c *jopaycheckout.Client, o ...paykit.CallOption) error {
			var out map[string]any
			return c.Do(ctx, http.MethodGet, "sessions/"+cxSessionID, nil, &out, o...)
		}, "GET /sessions/{id}"},
	}
}

// Every exported method sends the per-call header, fills ResponseInfo and reports a route
// template to the Observer; the table covers every exported method.
func TestCallOptionsReachEveryMethod(t *testing.T) {
	methods := cxMethods()
	var covered []string
	for _, m := range methods {
		covered = append(covered, m.name)
	}
	// BaseURL and Mode send nothing.
	apitest.MethodTable(t, reflect.TypeFor[*jopaycheckout.Client](), covered, []string{"BaseURL", "Mode"}, nil)
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			s := cxStart(t)
			obs := &apitest.Observer{}
			c := cxClient(t, s, jopaycheckout.WithObserver(obs))
			var info paykit.ResponseInfo
			require.NoError(t, m.call(context.Background(), c, paykit.WithHeader("X-Paykit-Test", m.name), paykit.WithResponseInfo(&info)))
			got := s.got()
			require.Len(t, got, 1)
			assert.Equal(t, m.name, got[0].testHeader)
			assert.Equal(t, http.StatusOK, info.StatusCode)
			assert.Equal(t, 1, info.Attempts)
			assert.Equal(t, "rid-7", info.RequestID)
			want := paykit.RateLimit{Limit: 100, Remaining: 98}
			assert.Equal(t, want.Limit, info.RateLimit.Limit)
			assert.Equal(t, want.Remaining, info.RateLimit.Remaining)
			starts := obs.Starts()
			require.Len(t, starts, 1)
			assert.Equal(t, m.route, starts[0].Method+" "+starts[0].Route)
			assert.NotContains(t, starts[0].Route, cxSessionID)
			assert.Equal(t, jopaycheckout.Provider, starts[0].Provider)
		})
	}
}

// Without WithIdempotencyHeader every call refuses WithIdempotencyKey, sending nothing.
func TestIdempotencyKeyNeedsTheHeaderOption(t *testing.T) {
	for _, m := range cxMethods() {
		s := cxStart(t)
		c := cxClient(t, s)
		err := m.call(context.Background(), c, paykit.WithIdempotencyKey(cxKeyOption))
		var vErr *paykit.ValidationError
		require.ErrorAs(t, err, &vErr, m.name)
		assert.Equal(t, "WithIdempotencyKey", vErr.Field, m.name)
		if m.name != "GetSession" {
			assert.Contains(t, vErr.Reason, "WithIdempotencyHeader", m.name)
		}
		assert.Empty(t, s.got(), "%s sent a request", m.name)
	}
	s := cxStart(t)
	c := cxClient(t, s)
	var vErr *paykit.ValidationError
	require.ErrorAs(t, c.Do(context.Background(), http.MethodPost, "sessions", cxParams(), nil, paykit.WithIdempotencyKey(cxKeyOption)), &vErr)
	assert.Contains(t, vErr.Reason, "WithIdempotencyHeader")
	assert.Empty(t, s.got())
}

// With WithIdempotencyHeader the call option's key travels in the header, wins over the
// params' key and makes the create (and a Do POST) retried.
func TestIdempotencyKeyInHeader(t *testing.T) {
	s := cxStart(t)
	c := cxClient(t, s, jopaycheckout.WithIdempotencyHeader("Idempotency-Key"))
	ctx := context.Background()
	p := cxParams()
	p.IdempotencyKey = cxKeyParam

	var info paykit.ResponseInfo
	s.fail503.Store(1)
	_, err := c.CreateSession(ctx, p, paykit.WithIdempotencyKey(cxKeyOption), paykit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, 2, info.Attempts, "a keyed create is retried")
	assert.Equal(t, cxKeyOption, info.IdempotencyKey)

	_, err = c.CreateSession(ctx, p, paykit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, cxKeyParam, info.IdempotencyKey)

	s.fail503.Store(1)
	var out map[string]any
	require.NoError(t, c.Do(ctx, http.MethodPost, "/sessions", cxParams(), &out, paykit.WithIdempotencyKey(cxKeyOption), paykit.WithResponseInfo(&info)))
	assert.Equal(t, 2, info.Attempts, "a keyed Do POST is retried")
	assert.Equal(t, cxSessionID, out["id"])

	var keys []string
	for _, a := range s.got() {
		keys = append(keys, a.idemKey)
		assert.Nil(t, a.body["idempotency_key"], "the key travels in the header only")
	}
	assert.Equal(t, []string{cxKeyOption, cxKeyOption, cxKeyParam, cxKeyOption, cxKeyOption}, keys)

	// The option's key has the params field's format; WithHeader cannot set the key header.
	n := len(s.got())
	var vErr *paykit.ValidationError
	_, err = c.CreateSession(ctx, cxParams(), paykit.WithIdempotencyKey("short"))
	require.ErrorAs(t, err, &vErr)
	_, err = c.CreateSession(ctx, cxParams(), paykit.WithHeader("Idempotency-Key", cxKeyOption))
	require.ErrorAs(t, err, &vErr)
	assert.Len(t, s.got(), n, "nothing sent")
}

// WithTimeout ends a slow call; WithMaxRetries overrides the client's retries; ResponseInfo
// is filled on errors and after retries.
func TestTimeoutRetriesAndInfo(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var n atomic.Int32
	var mode atomic.Value
	mode.Store("503")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		switch mode.Load() {
		case "slow":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case "503":
			cxWrite(w, http.StatusServiceUnavailable, map[string]any{"error": "unavailable"})
		case "flaky":
			if i < 3 {
				cxWrite(w, http.StatusServiceUnavailable, map[string]any{"error": "unavailable"})
				return
			}
			cxWrite(w, http.StatusOK, cxSessionJSON)
		}
	}))
	defer srv.Close()
	c, err := jopaycheckout.NewClient(testKey, jopaycheckout.WithBaseURL(srv.URL+"/api/checkout/v1"), jopaycheckout.WithRetryWait(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()

	for _, tc := range []struct{ retries, attempts int }{{0, 1}, {2, 3}} {
		n.Store(0)
		var info paykit.ResponseInfo
		_, err := c.GetSession(ctx, cxSessionID, paykit.WithMaxRetries(tc.retries), paykit.WithResponseInfo(&info))
		var apiErr *paykit.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, int32(tc.attempts), n.Load())
		assert.Equal(t, tc.attempts, info.Attempts)
		assert.Equal(t, http.StatusServiceUnavailable, info.StatusCode)
		assert.Equal(t, "rid-7", info.RequestID)
		assert.Equal(t, 98, info.RateLimit.Remaining)
	}

	mode.Store("flaky")
	n.Store(0)
	var info paykit.ResponseInfo
	_, err = c.GetSession(ctx, cxSessionID, paykit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, 3, info.Attempts)
	assert.Equal(t, http.StatusOK, info.StatusCode)

	mode.Store("slow")
	_, err = c.GetSession(ctx, cxSessionID, paykit.WithTimeout(50*time.Millisecond))
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// Do: GET and POST with auth and decoding, API errors as *paykit.Error, paths outside the base
// refused before anything is sent.
func TestDo(t *testing.T) {
	s := cxStart(t)
	c := cxClient(t, s)
	ctx := context.Background()
	var sess map[string]any
	require.NoError(t, c.Do(ctx, http.MethodGet, "/sessions/"+cxSessionID, nil, &sess))
	assert.Equal(t, cxSessionID, sess["id"])
	var created struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	require.NoError(t, c.Do(ctx, http.MethodPost, "sessions", map[string]any{"amount_cents": 5, "currency": "eur"}, &created))
	assert.Equal(t, cxSessionID, created.ID)
	got := s.got()
	require.Len(t, got, 2)
	assert.Empty(t, cmp.Diff(map[string]any{"amount_cents": float64(5), "currency": "eur"}, got[1].body))

	var apiErr *paykit.Error
	require.ErrorAs(t, c.Do(ctx, http.MethodGet, "sessions/cs_missing", nil, nil), &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.Status)
	assert.Equal(t, "not_found", apiErr.Code)

	// A POST without a key is not retried after a 503: the outcome is unknown.
	s.fail503.Store(1)
	err := c.Do(ctx, http.MethodPost, "sessions", map[string]any{}, nil)
	require.ErrorIs(t, err, paykit.ErrUnknownOutcome)
	require.Len(t, s.got(), 4)

	for _, path := range []string{"https://evil.example/x", "//evil.example/x", "../v2/sessions", "sessions/%2E%2E/%2e%2e/admin", "sessions%2Fx", ""} {
		var vErr *paykit.ValidationError
		assert.True(t, errors.As(c.Do(ctx, http.MethodGet, path, nil, nil), &vErr), "path %q", path)
	}
	assert.Len(t, s.got(), 4, "refused paths sent nothing")
}

type cxCounter struct{ n atomic.Int32 }

func (l *cxCounter) Wait(ctx context.Context) error { l.n.Add(1); return nil }

type cxRefuser struct{}

func (cxRefuser) Wait(context.Context) error { return fmt.Errorf("quota: %w", paykit.ErrRateLimited) }

// WithRateLimiter: waited on once per attempt; a refusal fails the call with ErrRateLimited and
// sends nothing; a *rate.Limiter fits.
func TestWithRateLimiter(t *testing.T) {
	s := cxStart(t)
	lim := &cxCounter{}
	c := cxClient(t, s, jopaycheckout.WithRateLimiter(lim), jopaycheckout.WithIdempotencyHeader("Idempotency-Key"))
	s.fail503.Store(2)
	var info paykit.ResponseInfo
	_, err := c.CreateSession(context.Background(), cxParams(), paykit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, 3, info.Attempts)
	assert.Equal(t, int32(3), lim.n.Load())

	refused := cxClient(t, s, jopaycheckout.WithRateLimiter(cxRefuser{}))
	n := len(s.got())
	_, err = refused.GetSession(context.Background(), cxSessionID)
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.Len(t, s.got(), n)

	shared := rate.NewLimiter(rate.Every(time.Hour), 1)
	rl := cxClient(t, s, jopaycheckout.WithRateLimiter(shared))
	_, err = rl.GetSession(context.Background(), cxSessionID)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = rl.GetSession(ctx, cxSessionID)
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.Len(t, s.got(), n+1)
}
