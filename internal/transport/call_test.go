package transport

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
)

func TestCallHeaderReachesTheWire(t *testing.T) {
	rec := newRecorder(t, respond(200, `{}`))
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL), Auth: Bearer("k")})
	err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "requests/1",
		Header:  http.Header{"X-Provider": {"p"}},
		Options: []paykit.CallOption{paykit.WithHeader("X-Trace", "a"), paykit.WithHeader("x-trace", "b")}}, nil)
	require.NoError(t, err)
	got := rec.Attempts()[0].Header
	assert.Equal(t, []string{"a", "b"}, got.Values("X-Trace"))
	assert.Equal(t, "p", got.Get("X-Provider"))
	assert.Equal(t, "Bearer k", got.Get("Authorization"))
}

func TestCallIdempotencyKey(t *testing.T) {
	rec := newRecorder(t, respond(503, `{}`), respond(201, `{}`))
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	var info paykit.ResponseInfo
	err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "invoices", Body: map[string]int{"a": 1},
		IdempotencyHeader: "Idempotency-Key", IdempotencyKey: "from-params",
		Options: []paykit.CallOption{paykit.WithIdempotencyKey("from-option"), paykit.WithResponseInfo(&info)}}, nil)
	require.NoError(t, err)
	at := rec.Attempts()
	require.Len(t, at, 2, "a keyed write is retried")
	for _, a := range at {
		assert.Equal(t, "from-option", a.Header.Get("Idempotency-Key"), "the option wins, on every attempt")
	}
	assert.Equal(t, "from-option", info.IdempotencyKey)
	assert.Equal(t, 2, info.Attempts)
	assert.Equal(t, 201, info.StatusCode)
}

func TestCallIdempotencyKeyRefusedWithoutMechanism(t *testing.T) {
	rec := newRecorder(t)
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	var info paykit.ResponseInfo
	err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "payment/p_123", Route: "payment/{id}",
		Options: []paykit.CallOption{paykit.WithIdempotencyKey("k1"), paykit.WithResponseInfo(&info)}}, nil)
	var vErr *paykit.ValidationError
	require.ErrorAs(t, err, &vErr)
	assert.Equal(t, "WithIdempotencyKey", vErr.Field)
	assert.Contains(t, err.Error(), "POST /payment/{id} takes no idempotency key")
	assert.Zero(t, rec.Count(), "nothing is sent")

	// A key the provider package put in the body is accepted.
	err = c.Do(context.Background(), Request{Method: http.MethodPost, Path: "requests", Body: map[string]string{"idempotency_key": "k1"},
		IdempotencyKey: "k1", Options: []paykit.CallOption{paykit.WithIdempotencyKey("k1")}}, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, rec.Count())
}

func TestCallOptionErrorsSendNothing(t *testing.T) {
	rec := newRecorder(t)
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	for name, opt := range map[string]paykit.CallOption{
		"bad header name":     paykit.WithHeader("X Bad", "v"),
		"reserved header":     paykit.WithHeader("Authorization", "Bearer other"),
		"api key header":      paykit.WithHeader("X-Api-Key", "other"),
		"header injection":    paykit.WithHeader("X-Ok", "a\r\nX-Evil: 1"),
		"zero timeout":        paykit.WithTimeout(0),
		"retries above limit": paykit.WithMaxRetries(11),
		"nil info":            paykit.WithResponseInfo(nil),
		"empty key":           paykit.WithIdempotencyKey(""),
		"key with space":      paykit.WithIdempotencyKey("a b"),
	} {
		err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "x", Options: []paykit.CallOption{opt}}, nil)
		var vErr *paykit.ValidationError
		assert.ErrorAs(t, err, &vErr, name)
	}
	// The idempotency header cannot be smuggled in through WithHeader.
	err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "x", IdempotencyHeader: "X-Idem",
		Options: []paykit.CallOption{paykit.WithHeader("x-idem", "k")}}, nil)
	var vErr *paykit.ValidationError
	assert.ErrorAs(t, err, &vErr)
	assert.Zero(t, rec.Count())
}

func TestCallMaxRetries(t *testing.T) {
	for _, n := range []int{0, 2, 5} {
		rec := newRecorder(t, respond(503, `{"error":"busy"}`))
		c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)}) // client default: 3
		var info paykit.ResponseInfo
		err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "x",
			Options: []paykit.CallOption{paykit.WithMaxRetries(n), paykit.WithResponseInfo(&info)}}, nil)
		require.True(t, paykit.IsStatus(err, 503), "n=%d: %v", n, err)
		assert.Equal(t, n+1, rec.Count(), "n=%d", n)
		assert.Equal(t, n+1, info.Attempts, "n=%d", n)
		assert.Equal(t, 503, info.StatusCode)
	}
	// Without the option the client's setting holds.
	rec := newRecorder(t, respond(503, `{}`))
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	require.Error(t, c.Do(context.Background(), Request{Method: http.MethodGet, Path: "x"}, nil))
	assert.Equal(t, DefaultMaxRetries+1, rec.Count())
}

func TestCallMaxRetriesNeverRetriesAnUnkeyedWrite(t *testing.T) {
	rec := newRecorder(t, respond(503, `{}`))
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "x", Body: []byte(`{}`),
		Options: []paykit.CallOption{paykit.WithMaxRetries(5)}}, nil)
	require.ErrorIs(t, err, paykit.ErrUnknownOutcome)
	assert.Equal(t, 1, rec.Count())
}

func TestCallTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	start := time.Now()
	err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "x",
		Options: []paykit.CallOption{paykit.WithTimeout(50 * time.Millisecond)}}, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestResponseInfoOnSuccessAndError(t *testing.T) {
	rec := newRecorder(t,
		respond(429, `{"error":"rate_limited","message":"slow down"}`, "Retry-After", "0", "X-Request-Id", "req-1",
			"X-RateLimit-Limit", "60", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "30"),
		respond(200, `{"ok":true}`, "X-Request-Id", "req-2", "RateLimit-Limit", "60", "RateLimit-Remaining", "59", "RateLimit-Reset", "1900000000"),
	)
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	var info paykit.ResponseInfo
	var out struct{ OK bool }
	require.NoError(t, c.Do(context.Background(), Request{Method: http.MethodGet, Path: "x",
		Options: []paykit.CallOption{paykit.WithResponseInfo(&info)}}, &out))
	assert.True(t, out.OK)
	assert.Equal(t, 200, info.StatusCode)
	assert.Equal(t, "req-2", info.RequestID)
	assert.Equal(t, 2, info.Attempts)
	assert.Positive(t, info.Duration)
	assert.Equal(t, "req-2", info.Header.Get("X-Request-Id"))
	if diff := cmp.Diff(paykit.RateLimit{Limit: 60, Remaining: 59, Reset: time.Unix(1900000000, 0)}, info.RateLimit); diff != "" {
		t.Errorf("RateLimit (-want +got):\n%s", diff)
	}

	// Failure: the last answer's status, id and limits.
	rec = newRecorder(t, respond(404, `{"error":"not_found"}`, "X-Request-Id", "req-3", "X-RateLimit-Remaining", "7"))
	c = newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	info = paykit.ResponseInfo{}
	err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "x",
		Options: []paykit.CallOption{paykit.WithResponseInfo(&info)}}, nil)
	require.True(t, paykit.IsStatus(err, 404), "%v", err)
	assert.Equal(t, 404, info.StatusCode)
	assert.Equal(t, "req-3", info.RequestID)
	assert.Equal(t, 1, info.Attempts)
	assert.Equal(t, 7, info.RateLimit.Remaining)
	assert.Zero(t, info.RateLimit.Limit)
	assert.True(t, info.RateLimit.Known())

	// No response at all: status 0, attempts counted.
	c = newTestClient(t, Config{Settings: fastSettings(t, "http://127.0.0.1:1")})
	info = paykit.ResponseInfo{}
	require.Error(t, c.Do(context.Background(), Request{Method: http.MethodGet, Path: "x",
		Options: []paykit.CallOption{paykit.WithResponseInfo(&info), paykit.WithMaxRetries(1)}}, nil))
	assert.Zero(t, info.StatusCode)
	assert.Nil(t, info.Header)
	assert.Equal(t, 2, info.Attempts)
	assert.False(t, info.RateLimit.Known())
}

func TestParseRateLimit(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		h    http.Header
		want paykit.RateLimit
	}{
		{"none", http.Header{}, paykit.RateLimit{Remaining: -1}},
		{"x-prefixed delta", http.Header{"X-Ratelimit-Limit": {"60"}, "X-Ratelimit-Remaining": {"12"}, "X-Ratelimit-Reset": {"30"}},
			paykit.RateLimit{Limit: 60, Remaining: 12, Reset: now.Add(30 * time.Second)}},
		{"ietf list form", http.Header{"Ratelimit-Limit": {"100, 100;w=60"}, "Ratelimit-Remaining": {"0"}},
			paykit.RateLimit{Limit: 100, Remaining: 0}},
		{"unix reset", http.Header{"X-Ratelimit-Reset": {"1900000000"}}, paykit.RateLimit{Remaining: -1, Reset: time.Unix(1900000000, 0)}},
		{"garbage", http.Header{"X-Ratelimit-Limit": {"many"}, "X-Ratelimit-Remaining": {"-3"}, "X-Ratelimit-Reset": {"99999999999999999999"}},
			paykit.RateLimit{Remaining: -1}},
	} {
		got := ParseRateLimit(tc.h, now)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestRouteOf(t *testing.T) {
	for path, want := range map[string]string{
		"requests":                  "requests",
		"/requests/req_8f3a/cancel": "requests/{id}/cancel",
		"invoices/123?expand=1":     "invoices/{id}",
		"min-amount":                "min-amount",
		"payment/5077125051":        "payment/{id}",
		"merchants/Acme%20Ltd/keys": "merchants/{id}/keys",
		"users/abcdefghijklmnopqrstuvwxyzabcdefghijklmnop": "users/{id}",
	} {
		assert.Equal(t, want, RouteOf(Request{Path: path}), path)
	}
	assert.Equal(t, "requests/{id}", RouteOf(Request{Path: "requests/abc", Route: "/requests/{id}"}))
}

func TestRawRequestRefusesPathsOutsideTheBase(t *testing.T) {
	for _, p := range []string{
		"", " ", "https://evil.example/x", "http:evil", "//evil.example/x", "../x", "a/../../x", "a/./b",
		"a/%2e%2e/b", "a/%2E%2e/b", "a%2Fb", "a%5cb", `\\evil\x`, "a#frag", "a\nb", "a b", "%zz",
	} {
		_, err := RawRequest(http.MethodGet, p, nil, nil)
		var vErr *paykit.ValidationError
		assert.ErrorAs(t, err, &vErr, "%q must be refused", p)
	}
	for _, p := range []string{"invoices", "/invoices", "invoices/inv_1", "keys?limit=10", "a-b_c/d.e", "time:now"} {
		req, err := RawRequest(http.MethodPost, p, nil, nil)
		if p == "time:now" {
			// A colon before any slash reads as a URL scheme: refused rather than guessed.
			assert.Error(t, err, p)
			continue
		}
		require.NoError(t, err, p)
		assert.Equal(t, p, req.Path)
	}
	_, err := RawRequest("get", "x", nil, nil)
	assert.Error(t, err, "methods are upper case")
}

// countingLimiter counts Wait calls and fails when err is set.
type countingLimiter struct {
	n   atomic.Int64
	err error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.n.Add(1)
	return l.err
}

func TestRateLimiterWaitsBeforeEveryAttempt(t *testing.T) {
	rec := newRecorder(t, respond(503, `{}`), respond(503, `{}`), respond(200, `{}`))
	lim, extra := &countingLimiter{}, &countingLimiter{}
	s := fastSettings(t, rec.URL)
	require.NoError(t, s.SetRateLimiter(lim))
	c := newTestClient(t, Config{Settings: s})
	require.NoError(t, c.Do(context.Background(), Request{Method: http.MethodGet, Path: "x", Limiter: extra}, nil))
	assert.Equal(t, 3, rec.Count())
	assert.Zero(t, lim.n.Load(), "the request's limiter replaces the client's")
	assert.EqualValues(t, 3, extra.n.Load(), "route limiter: once per attempt")
	require.NoError(t, c.Do(context.Background(), Request{Method: http.MethodGet, Path: "x"}, nil))
	assert.EqualValues(t, 1, lim.n.Load(), "client limiter: once per attempt")
}

func TestRateLimiterRefusal(t *testing.T) {
	rec := newRecorder(t)
	s := fastSettings(t, rec.URL)
	require.NoError(t, s.SetRateLimiter(&countingLimiter{err: errors.New("rate: Wait(n=1) would exceed context deadline")}))
	c := newTestClient(t, Config{Settings: s})
	var info paykit.ResponseInfo
	err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "x", Options: []paykit.CallOption{paykit.WithResponseInfo(&info)}}, nil)
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.Zero(t, rec.Count())
	assert.Zero(t, info.Attempts)

	// A cancelled context is the context's error, not a rate limit.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s = fastSettings(t, rec.URL)
	require.NoError(t, s.SetRateLimiter(&ctxLimiter{}))
	c = newTestClient(t, Config{Settings: s})
	err = c.Do(ctx, Request{Method: http.MethodGet, Path: "x"}, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, paykit.ErrRateLimited)

	// A refusal before a retry ends the call with what the limiter said.
	rec = newRecorder(t, respond(503, `{}`))
	s = fastSettings(t, rec.URL)
	lim := &secondRefused{}
	require.NoError(t, s.SetRateLimiter(lim))
	c = newTestClient(t, Config{Settings: s})
	err = c.Do(context.Background(), Request{Method: http.MethodGet, Path: "x"}, nil)
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.Equal(t, 1, rec.Count())
}

type ctxLimiter struct{}

func (ctxLimiter) Wait(ctx context.Context) error { return ctx.Err() }

type secondRefused struct{ n atomic.Int64 }

func (l *secondRefused) Wait(context.Context) error {
	if l.n.Add(1) > 1 {
		return paykit.ErrRateLimited
	}
	return nil
}

// recordingObserver records every observer event in order.
type recordingObserver struct {
	mu     sync.Mutex
	events []string
	starts []paykit.CallStart
	ends   []paykit.ResponseInfo
	errs   []error
}

type ctxKey struct{}

func (o *recordingObserver) add(e string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, e)
}

func (o *recordingObserver) StartCall(ctx context.Context, call paykit.CallStart) (context.Context, paykit.CallObserver) {
	o.mu.Lock()
	o.starts = append(o.starts, call)
	o.mu.Unlock()
	o.add("start " + call.Method + " " + call.Route)
	return context.WithValue(ctx, ctxKey{}, "call"), recordingCall{o}
}

type recordingCall struct{ o *recordingObserver }

func (c recordingCall) StartAttempt(ctx context.Context, n int) context.Context {
	c.o.add("attempt " + string(rune('0'+n)))
	return context.WithValue(ctx, ctxKey{}, "attempt "+string(rune('0'+n)))
}

func (c recordingCall) EndAttempt(ctx context.Context, n int, status int, err error) {
	c.o.add("end attempt " + string(rune('0'+n)) + " " + http.StatusText(status))
}

func (c recordingCall) End(ctx context.Context, info paykit.ResponseInfo, err error) {
	c.o.mu.Lock()
	c.o.ends = append(c.o.ends, info)
	c.o.errs = append(c.o.errs, err)
	c.o.mu.Unlock()
	c.o.add("end")
}

// seenCtx is a RoundTripper that records the attempt context value it sees.
type seenCtx struct {
	mu   sync.Mutex
	seen []any
}

func (s *seenCtx) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.seen = append(s.seen, r.Context().Value(ctxKey{}))
	s.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestObserverSeesCallsAndAttempts(t *testing.T) {
	rec := newRecorder(t, respond(503, `{}`), respond(200, `{}`))
	obs := &recordingObserver{}
	rt := &seenCtx{}
	s := fastSettings(t, rec.URL)
	require.NoError(t, s.SetObserver(obs))
	require.NoError(t, s.SetHTTPClient(&http.Client{Transport: rt}))
	c := newTestClient(t, Config{Settings: s})
	require.NoError(t, c.Do(context.Background(), Request{Method: http.MethodGet, Path: "requests/req_42", Route: "requests/{id}"}, nil))
	want := []string{"start GET /requests/{id}", "attempt 1", "end attempt 1 Service Unavailable", "attempt 2", "end attempt 2 OK", "end"}
	if diff := cmp.Diff(want, obs.events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	assert.Equal(t, []any{"attempt 1", "attempt 2"}, rt.seen, "each attempt's context reaches the RoundTripper")
	require.Len(t, obs.ends, 1)
	assert.Equal(t, 2, obs.ends[0].Attempts)
	assert.NoError(t, obs.errs[0])

	// Without a Route the template hides ids.
	require.NoError(t, c.Do(context.Background(), Request{Method: http.MethodGet, Path: "payment/5077125051"}, nil))
	assert.Equal(t, "/payment/{id}", obs.starts[1].Route)
}
