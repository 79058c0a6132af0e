package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
)

// callKind is one way of sending a request, as far as the retry policy is concerned.
type callKind struct {
	name string
	req  Request
	safe bool // may be retried after it reached the server
}

func callKinds() []callKind {
	return []callKind{
		{name: "GET", req: Request{Method: http.MethodGet, Path: "requests/req_1"}, safe: true},
		{name: "POST_key_in_body", safe: true, req: Request{
			Method: http.MethodPost, Path: "requests/create", IdempotencyKey: "key-in-body-0001",
			Body: map[string]any{"amount": 2599, "idempotency_key": "key-in-body-0001"},
		}},
		{name: "POST_key_in_header", safe: true, req: Request{
			Method: http.MethodPost, Path: "requests/create", IdempotencyKey: "key-in-header-0001",
			IdempotencyHeader: "Idempotency-Key", Body: map[string]any{"amount": 2599},
		}},
		{name: "POST_unkeyed", safe: false, req: Request{
			Method: http.MethodPost, Path: "payment", Body: map[string]any{"price_amount": "25.99"},
		}},
		{name: "DELETE", req: Request{Method: http.MethodDelete, Path: "requests/req_1"}, safe: true},
		{name: "POST_idempotent_by_nature", safe: true, req: Request{
			Method: http.MethodPost, Path: "requests/req_1/cancel", Idempotent: true,
		}},
	}
}

func TestRetryMatrix(t *testing.T) {
	statuses := []int{200, 400, 401, 404, 409, 429, 500, 502, 503, 504}
	for _, kind := range callKinds() {
		for _, status := range statuses {
			t.Run(fmt.Sprintf("%s/%d", kind.name, status), func(t *testing.T) {
				t.Parallel()
				body := `{"ok":false,"error":"code_` + fmt.Sprint(status) + `","message":"status ` + fmt.Sprint(status) + `"}`
				if status == 200 {
					body = `{"id":"req_1"}`
				}
				rec := newRecorder(t, respond(status, body))
				c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL+"/api/v1"), Auth: Bearer("jo_test_matrix")})

				var out struct{ ID string }
				err := doBounded(t, context.Background(), c, kind.req, &out)

				retryable := status == 429 || status >= 500
				want := 1
				if retryable && kind.safe {
					want = 1 + DefaultMaxRetries
				}
				attempts := rec.Attempts()
				require.Len(t, attempts, want, "server saw %d attempts (err %v)", len(attempts), err)
				wantBody, _ := json.Marshal(kind.req.Body)
				for i, a := range attempts {
					assert.Equal(t, kind.req.Method, a.Method, "attempt %d: %s %s", i+1, a.Method, a.Path)
					assert.Equal(t, "/api/v1/"+kind.req.Path, a.Path, "attempt %d: %s %s", i+1, a.Method, a.Path)
					assert.Equal(t, "Bearer jo_test_matrix", a.Header.Get("Authorization"), "attempt %d: Authorization", i+1)
					if got := a.Header.Get("Idempotency-Key"); got != kind.req.IdempotencyKey && kind.req.IdempotencyHeader != "" {
						t.Errorf("attempt %d: Idempotency-Key %q, want %q", i+1, got, kind.req.IdempotencyKey)
					}
					if kind.req.IdempotencyHeader == "" && a.Header.Get("Idempotency-Key") != "" {
						t.Errorf("attempt %d: unexpected Idempotency-Key header", i+1)
					}
					if kind.req.Body != nil && string(a.Body) != string(wantBody) {
						t.Errorf("attempt %d: body %s, want %s", i+1, a.Body, wantBody)
					}
				}

				if status == 200 {
					require.NoError(t, err, "got %+v, %v", out, err)
					require.Equal(t, "req_1", out.ID, "got %+v, %v", out, err)
					return
				}
				var apiErr *paykit.Error
				require.ErrorAs(t, err, &apiErr, "error is not a *paykit.Error")
				assert.Equal(t, status, apiErr.Status, "got %+v", apiErr)
				assert.Equal(t, fmt.Sprintf("code_%d", status), apiErr.Code, "got %+v", apiErr)
				assert.Equal(t, "jopay", apiErr.Provider, "got %+v", apiErr)
				assert.Equal(t, !kind.safe && status >= 500, errors.Is(err, paykit.ErrUnknownOutcome), "errors.Is(err, ErrUnknownOutcome) (err %v)", err)
				assert.Equal(t, retryable, apiErr.Retryable(), "Retryable")
			})
		}
	}
}

func TestRetryDroppedConnection(t *testing.T) {
	ok := respond(200, `{"id":"req_1"}`)
	for _, kind := range callKinds() {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, hangUp, hangUp, ok)
			c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
			var out struct{ ID string }
			err := doBounded(t, context.Background(), c, kind.req, &out)
			if kind.safe {
				require.NoError(t, err, "got %+v, %v after %d attempts; want success after 3", out, err, rec.Count())
				require.Equal(t, "req_1", out.ID, "got %+v, %v after %d attempts; want success after 3", out, err, rec.Count())
				require.Equal(t, 3, rec.Count(), "got %+v, %v after %d attempts; want success after 3", out, err, rec.Count())
				return
			}
			// The server read the request and hung up: it may have acted on it.
			require.Equal(t, 1, rec.Count(), "unkeyed write sends after a dropped connection, want 1")
			require.ErrorIs(t, err, paykit.ErrUnknownOutcome, "error %v does not wrap ErrUnknownOutcome", err)
			var apiErr *paykit.Error
			require.False(t, errors.As(err, &apiErr), "a dropped connection is not an API error: %v", apiErr)
		})
	}
}

// flakyDialer refuses the first failures dials the way a closed port does, then dials for real.
type flakyDialer struct {
	failures int64
	dials    atomic.Int64
}

func (d *flakyDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.dials.Add(1) <= d.failures {
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func TestRetryUnkeyedWriteAfterRefusedDial(t *testing.T) {
	rec := newRecorder(t, respond(201, `{"payment_id":"5077"}`))
	dialer := &flakyDialer{failures: 2}
	s := fastSettings(t, rec.URL)
	s.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	c := newTestClient(t, Config{Provider: "jovepay", Settings: s, Auth: Header("x-api-key", "jp_key_0001")})

	var out struct {
		PaymentID string `json:"payment_id"`
	}
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "payment", Body: map[string]int{"price_amount": 10}}, &out)
	require.NoError(t, err, "got %+v, %v", out, err)
	require.Equal(t, "5077", out.PaymentID, "got %+v, %v", out, err)
	require.Equal(t, int64(3), dialer.dials.Load(), "dials %d, server attempts %d; want 3 dials and exactly 1 request", dialer.dials.Load(), rec.Count())
	require.Equal(t, 1, rec.Count(), "dials %d, server attempts %d; want 3 dials and exactly 1 request", dialer.dials.Load(), rec.Count())
}

func TestUnkeyedWriteNeverConnected(t *testing.T) {
	// Every dial refused: retried like a GET, and the error says nothing reached the server.
	dialer := &flakyDialer{failures: 100}
	s := fastSettings(t, "http://127.0.0.1:9/api")
	s.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	c := newTestClient(t, Config{Provider: "jovepay", Settings: s})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "payment", Body: []byte(`{}`)}, nil)
	require.Error(t, err, "got %v; want a refused-connection error without ErrUnknownOutcome", err)
	require.NotErrorIs(t, err, paykit.ErrUnknownOutcome, "got %v; want a refused-connection error without ErrUnknownOutcome", err)
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "got %v; want a refused-connection error without ErrUnknownOutcome", err)
	require.Equal(t, int64(1+DefaultMaxRetries), dialer.dials.Load(), "dials")
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"1", time.Second, true},
		{" 120 ", 120 * time.Second, true},
		{"99999999999", 365 * 24 * time.Hour, true}, // clamped, still "beyond any cap"
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"Sat, 01 Mar 2025 12:01:30 GMT", 90 * time.Second, true},    // IMF-fixdate
		{"Saturday, 01-Mar-25 12:00:10 GMT", 10 * time.Second, true}, // RFC 850
		{"Sat Mar  1 12:00:05 2025", 5 * time.Second, true},          // ANSI C
		{"Sat, 01 Mar 2025 11:59:00 GMT", 0, true},                   // in the past: retry now
		{"Sat, 01 Mar 2025 12:01:30 +0000", 0, false},                // not an HTTP-date
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		assert.Equal(t, tt.want, got, "retryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		assert.Equal(t, tt.wantOK, ok, "retryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
	}
}

func TestBackoff(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := newTestClient(t, Config{Settings: DefaultSettings("https://example.com")})
	c.now = func() time.Time { return now }
	withHeader := func(v string) *http.Response {
		return &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {v}}, Request: &http.Request{}}
	}
	assert.Equal(t, 3*time.Second, c.backoff(time.Millisecond, time.Second, 0, withHeader("3")), "Retry-After: 3")
	assert.Equal(t, 42*time.Second, c.backoff(time.Millisecond, time.Second, 0, withHeader("Sat, 01 Mar 2025 12:00:42 GMT")), "Retry-After date 42 s ahead")
	// Exponential with jitter in [d/2, d], d = min·2^attempt capped at max.
	min, max := 100*time.Millisecond, time.Second
	for attempt, d := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		d *= time.Millisecond
		for range 200 {
			for _, resp := range []*http.Response{nil, withHeader("garbage")} {
				got := c.backoff(min, max, attempt, resp)
				require.GreaterOrEqual(t, got, d/2, "attempt %d: wait %v outside [%v, %v]", attempt, got, d/2, d)
				require.LessOrEqual(t, got, d, "attempt %d: wait %v outside [%v, %v]", attempt, got, d/2, d)
			}
		}
	}
}

func TestRetryAfterSecondsHonoured(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, respond(429, `{"error":"rate_limited"}`, "Retry-After", "1"), respond(200, `{}`))
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	require.NoError(t, doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil))
	a := rec.Attempts()
	require.Len(t, a, 2, "%d attempts, want 2", len(a))
	gap := a[1].At.Sub(a[0].At)
	require.GreaterOrEqual(t, gap, time.Second, "retried after %v, want Retry-After's 1 s", gap)
	require.LessOrEqual(t, gap, 3*time.Second, "retried after %v, want Retry-After's 1 s", gap)
}

func TestRetryAfterHTTPDateHonouredOn503(t *testing.T) {
	t.Parallel()
	date := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	const ahead = 80 * time.Millisecond
	rec := newRecorder(t, respond(503, `{"error":"maintenance"}`, "Retry-After", date.Format(http.TimeFormat)), respond(200, `{}`))
	var logs logCapture
	s := fastSettings(t, rec.URL)
	s.Logger = logs.Logger()
	c := newTestClient(t, Config{Settings: s})
	c.now = func() time.Time { return date.Add(-ahead) } // the server's date is 80 ms ahead of us
	require.NoError(t, doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil))
	a := rec.Attempts()
	require.Len(t, a, 2, "%d attempts, want 2", len(a))
	gap := a[1].At.Sub(a[0].At)
	require.GreaterOrEqual(t, gap, ahead, "retried after %v, want the %v up to the Retry-After date", gap, ahead)
	require.LessOrEqual(t, gap, 3*time.Second, "retried after %v, want the %v up to the Retry-After date", gap, ahead)
	var waited []any
	for _, l := range logs.Lines(t) {
		if l["msg"] == "paykit: retrying request" {
			waited = append(waited, l["waited"])
		}
	}
	assert.Empty(t, cmp.Diff([]any{float64(ahead)}, waited), "retry log lines' waited (-want +got)") // slog's JSON durations are nanoseconds
}

func TestRetryAfterBeyondCapReturnsAtOnce(t *testing.T) {
	for v, atLeast := range map[string]time.Duration{
		"120": 2 * time.Minute,
		time.Now().Add(10 * time.Minute).UTC().Format(http.TimeFormat): 9 * time.Minute,
	} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, respond(429, `{"success":false,"message":"slow down","error_code":"RATE_LIMIT_EXCEEDED","retry_after":"15 minutes"}`, "Retry-After", v))
			c := newTestClient(t, Config{Provider: "pepay", Settings: fastSettings(t, rec.URL)})
			start := time.Now()
			err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "api/v1/invoices"}, nil)
			assert.LessOrEqual(t, time.Since(start), 5*time.Second, "blocked too long") // far below the minutes asked for
			var apiErr *paykit.Error
			require.ErrorAs(t, err, &apiErr, "got %v", err)
			require.Equal(t, 429, apiErr.Status, "got %v", err)
			require.Equal(t, "RATE_LIMIT_EXCEEDED", apiErr.Code, "got %v", err)
			require.GreaterOrEqual(t, apiErr.RetryAfter, atLeast, "RetryAfter %v, Retryable %v", apiErr.RetryAfter, apiErr.Retryable())
			assert.LessOrEqual(t, apiErr.RetryAfter, atLeast+time.Minute, "RetryAfter %v, Retryable %v", apiErr.RetryAfter, apiErr.Retryable())
			assert.True(t, apiErr.Retryable(), "RetryAfter %v, Retryable %v", apiErr.RetryAfter, apiErr.Retryable())
			assert.Equal(t, 1, rec.Count(), "attempts, want 1")
		})
	}
}

func TestRetryAfterCapConfigurable(t *testing.T) {
	// MaxRetryAfter 0: never wait for a Retry-After, even a short one.
	rec := newRecorder(t, respond(503, ``, "Retry-After", "1"))
	s := fastSettings(t, rec.URL)
	require.NoError(t, s.SetMaxRetryAfter(0))
	c := newTestClient(t, Config{Settings: s})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil)
	require.True(t, paykit.IsStatus(err, 503), "got %v after %d attempts", err, rec.Count())
	require.Equal(t, 1, rec.Count(), "got %v after %d attempts", err, rec.Count())
}

// signalHandler is a slog.Handler that reports every Debug attempt line on a channel.
type signalHandler struct {
	slog.Handler
	attempts chan struct{}
}

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h signalHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "paykit: request attempt" {
		select {
		case h.attempts <- struct{}{}:
		default:
		}
	}
	return h.Handler.Handle(ctx, r)
}

func TestCancelDuringBackoff(t *testing.T) {
	for _, kind := range callKinds()[:3] { // the kinds that are retried
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, respond(503, `{"error":"busy"}`))
			attempts := make(chan struct{}, 1)
			s := DefaultSettings(rec.URL)
			require.NoError(t, s.SetRetryWait(10*time.Second, 10*time.Second))
			s.Logger = slog.New(signalHandler{Handler: slog.DiscardHandler, attempts: attempts})
			c := newTestClient(t, Config{Settings: s})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- doBounded(t, ctx, c, kind.req, nil) }()
			select {
			case <-attempts: // the first attempt failed; the client now backs off for 5–10 s
			case <-time.After(retryGuard):
				t.Fatalf("no attempt within %v", retryGuard)
			}
			cancelled := time.Now()
			cancel()
			var err error
			select {
			case err = <-done:
			case <-time.After(retryGuard):
				t.Fatalf("Do did not return within %v of the cancel", retryGuard)
			}
			// The bound only has to tell an interrupted backoff from a completed one (at least
			// 5 s): a wide margin, so a loaded runner under -race cannot miss it.
			assert.LessOrEqual(t, time.Since(cancelled), 2*time.Second, "after cancel: the backoff was not interrupted")
			assert.ErrorIs(t, err, context.Canceled, "error %v does not wrap context.Canceled", err)
			assert.NotErrorIs(t, err, paykit.ErrUnknownOutcome, "a retry-safe call's error wraps ErrUnknownOutcome")
			assert.Equal(t, 1, rec.Count(), "attempts, want 1")
		})
	}
}

func TestDeadlineWhileInFlight(t *testing.T) {
	for _, kind := range callKinds() {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
			c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			err := doBounded(t, ctx, c, kind.req, nil)
			require.ErrorIs(t, err, context.DeadlineExceeded, "error %v does not wrap context.DeadlineExceeded", err)
			// An unkeyed write cut off in flight may have been acted on.
			assert.Equal(t, !kind.safe, errors.Is(err, paykit.ErrUnknownOutcome), "errors.Is(err, ErrUnknownOutcome)")
			assert.Equal(t, 1, rec.Count(), "attempts, want 1")
		})
	}
}

func TestSameKeyAndBodyOnEveryAttempt(t *testing.T) {
	params := struct {
		MerchantID string            `json:"merchant_id"`
		Amount     int64             `json:"fiat_amount_int"`
		Memo       string            `json:"memo"`
		Metadata   map[string]string `json:"metadata"`
	}{"m_1", 2599, "order <1234> & co", map[string]string{"order_id": "1234"}}
	wantBody, err := json.Marshal(params)
	require.NoError(t, err)
	rec := newRecorder(t,
		respond(503, `{"error":"busy"}`),
		hangUp,
		respond(429, `{"error":"rate_limited"}`, "Retry-After", "0"),
		respond(201, `{"ok":true,"request_id":"req_9"}`),
	)
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL+"/api/v1/"), Auth: Bearer("jo_test_key")})
	var out struct {
		RequestID string `json:"request_id"`
	}
	err = doBounded(t, context.Background(), c, Request{
		Method: http.MethodPost, Path: "/requests/create", Body: params,
		IdempotencyKey: "6f1c2a7e9b3d4f5a8c0e1b2d3f4a5b6c", IdempotencyHeader: "Idempotency-Key",
	}, &out)
	require.NoError(t, err, "got %+v, %v", out, err)
	require.Equal(t, "req_9", out.RequestID, "got %+v, %v", out, err)
	attempts := rec.Attempts()
	require.Len(t, attempts, 4, "%d attempts, want 4", len(attempts))
	for i, a := range attempts {
		assert.Equal(t, []string{"6f1c2a7e9b3d4f5a8c0e1b2d3f4a5b6c"}, a.Header.Values("Idempotency-Key"), "attempt %d: Idempotency-Key", i+1)
		assert.Equal(t, string(wantBody), string(a.Body), "attempt %d: body\n%s\nwant\n%s", i+1, a.Body, wantBody)
		assert.Equal(t, fmt.Sprint(len(wantBody)), a.Header.Get("Content-Length"), "attempt %d: Content-Length %q Content-Type %q", i+1, a.Header.Get("Content-Length"), a.Header.Get("Content-Type"))
		assert.Equal(t, "application/json", a.Header.Get("Content-Type"), "attempt %d: Content-Length %q Content-Type %q", i+1, a.Header.Get("Content-Length"), a.Header.Get("Content-Type"))
	}
}

func TestRawBodySentAsIs(t *testing.T) {
	rec := newRecorder(t, respond(200, `{}`))
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	for _, body := range []any{[]byte(`{"a": 1}`), json.RawMessage(`{"a": 1}`)} {
		require.NoError(t, doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "x", Body: body}, nil))
	}
	require.NoError(t, doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "x"}, nil))
	a := rec.Attempts()
	for i, want := range []string{`{"a": 1}`, `{"a": 1}`, ``} {
		assert.Equal(t, want, string(a[i].Body), "request %d: body %q", i, a[i].Body)
	}
	assert.Empty(t, a[2].Header.Get("Content-Type"), "no body but Content-Type")
}

func TestEncodeErrorSendsNothing(t *testing.T) {
	rec := newRecorder(t)
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "x", Body: map[string]any{"f": func() {}}}, nil)
	var unsupported *json.UnsupportedTypeError
	require.ErrorAs(t, err, &unsupported, "got %v after %d requests", err, rec.Count())
	require.Zero(t, rec.Count(), "got %v after %d requests", err, rec.Count())
	assert.True(t, strings.HasPrefix(err.Error(), "jopay: encode request"), "error %q", err)
}
