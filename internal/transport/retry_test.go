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
				if len(attempts) != want {
					t.Fatalf("server saw %d attempts, want %d (err %v)", len(attempts), want, err)
				}
				wantBody, _ := json.Marshal(kind.req.Body)
				for i, a := range attempts {
					if a.Method != kind.req.Method || a.Path != "/api/v1/"+kind.req.Path {
						t.Errorf("attempt %d: %s %s", i+1, a.Method, a.Path)
					}
					if got := a.Header.Get("Authorization"); got != "Bearer jo_test_matrix" {
						t.Errorf("attempt %d: Authorization %q", i+1, got)
					}
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
					if err != nil || out.ID != "req_1" {
						t.Fatalf("got %+v, %v", out, err)
					}
					return
				}
				var apiErr *paykit.Error
				if !errors.As(err, &apiErr) {
					t.Fatalf("error %v (%T) is not a *paykit.Error", err, err)
				}
				if apiErr.Status != status || apiErr.Code != fmt.Sprintf("code_%d", status) || apiErr.Provider != "jopay" {
					t.Errorf("got %+v", apiErr)
				}
				if got, want := errors.Is(err, paykit.ErrUnknownOutcome), !kind.safe && status >= 500; got != want {
					t.Errorf("errors.Is(err, ErrUnknownOutcome) = %v, want %v (err %v)", got, want, err)
				}
				if apiErr.Retryable() != retryable {
					t.Errorf("Retryable() = %v, want %v", apiErr.Retryable(), retryable)
				}
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
				if err != nil || out.ID != "req_1" || rec.Count() != 3 {
					t.Fatalf("got %+v, %v after %d attempts; want success after 3", out, err, rec.Count())
				}
				return
			}
			// The server read the request and hung up: it may have acted on it.
			if rec.Count() != 1 {
				t.Fatalf("unkeyed write sent %d times after a dropped connection, want 1", rec.Count())
			}
			if !errors.Is(err, paykit.ErrUnknownOutcome) {
				t.Fatalf("error %v does not wrap ErrUnknownOutcome", err)
			}
			var apiErr *paykit.Error
			if errors.As(err, &apiErr) {
				t.Fatalf("a dropped connection is not an API error: %v", apiErr)
			}
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
	if err != nil || out.PaymentID != "5077" {
		t.Fatalf("got %+v, %v", out, err)
	}
	if dialer.dials.Load() != 3 || rec.Count() != 1 {
		t.Fatalf("dials %d, server attempts %d; want 3 dials and exactly 1 request", dialer.dials.Load(), rec.Count())
	}
}

func TestUnkeyedWriteNeverConnected(t *testing.T) {
	// Every dial refused: retried like a GET, and the error says nothing reached the server.
	dialer := &flakyDialer{failures: 100}
	s := fastSettings(t, "http://127.0.0.1:9/api")
	s.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	c := newTestClient(t, Config{Provider: "jovepay", Settings: s})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "payment", Body: []byte(`{}`)}, nil)
	if err == nil || errors.Is(err, paykit.ErrUnknownOutcome) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v; want a refused-connection error without ErrUnknownOutcome", err)
	}
	if got := dialer.dials.Load(); got != 1+DefaultMaxRetries {
		t.Fatalf("dialled %d times, want %d", got, 1+DefaultMaxRetries)
	}
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
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestBackoff(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := newTestClient(t, Config{Settings: DefaultSettings("https://example.com")})
	c.now = func() time.Time { return now }
	withHeader := func(v string) *http.Response {
		return &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {v}}, Request: &http.Request{}}
	}
	if got := c.backoff(time.Millisecond, time.Second, 0, withHeader("3")); got != 3*time.Second {
		t.Errorf("Retry-After: 3 gave %v", got)
	}
	if got := c.backoff(time.Millisecond, time.Second, 0, withHeader("Sat, 01 Mar 2025 12:00:42 GMT")); got != 42*time.Second {
		t.Errorf("Retry-After date 42 s ahead gave %v", got)
	}
	// Exponential with jitter in [d/2, d], d = min·2^attempt capped at max.
	min, max := 100*time.Millisecond, time.Second
	for attempt, d := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		d *= time.Millisecond
		for range 200 {
			for _, resp := range []*http.Response{nil, withHeader("garbage")} {
				got := c.backoff(min, max, attempt, resp)
				if got < d/2 || got > d {
					t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, got, d/2, d)
				}
			}
		}
	}
}

func TestRetryAfterSecondsHonoured(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, respond(429, `{"error":"rate_limited"}`, "Retry-After", "1"), respond(200, `{}`))
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	if err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	a := rec.Attempts()
	if len(a) != 2 {
		t.Fatalf("%d attempts, want 2", len(a))
	}
	if gap := a[1].At.Sub(a[0].At); gap < time.Second || gap > 3*time.Second {
		t.Fatalf("retried after %v, want Retry-After's 1 s", gap)
	}
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
	if err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	a := rec.Attempts()
	if len(a) != 2 {
		t.Fatalf("%d attempts, want 2", len(a))
	}
	if gap := a[1].At.Sub(a[0].At); gap < ahead || gap > 3*time.Second {
		t.Fatalf("retried after %v, want the %v up to the Retry-After date", gap, ahead)
	}
	var waited []any
	for _, l := range logs.Lines(t) {
		if l["msg"] == "paykit: retrying request" {
			waited = append(waited, l["waited"])
		}
	}
	if diff := cmp.Diff([]any{float64(ahead)}, waited); diff != "" { // slog's JSON durations are nanoseconds
		t.Errorf("retry log lines' waited (-want +got):\n%s", diff)
	}
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
			if elapsed := time.Since(start); elapsed > 5*time.Second { // far below the minutes asked for
				t.Errorf("blocked for %v", elapsed)
			}
			var apiErr *paykit.Error
			if !errors.As(err, &apiErr) || apiErr.Status != 429 || apiErr.Code != "RATE_LIMIT_EXCEEDED" {
				t.Fatalf("got %v", err)
			}
			if apiErr.RetryAfter < atLeast || apiErr.RetryAfter > atLeast+time.Minute || !apiErr.Retryable() {
				t.Errorf("RetryAfter %v, Retryable %v", apiErr.RetryAfter, apiErr.Retryable())
			}
			if rec.Count() != 1 {
				t.Errorf("%d attempts, want 1", rec.Count())
			}
		})
	}
}

func TestRetryAfterCapConfigurable(t *testing.T) {
	// MaxRetryAfter 0: never wait for a Retry-After, even a short one.
	rec := newRecorder(t, respond(503, ``, "Retry-After", "1"))
	s := fastSettings(t, rec.URL)
	if err := s.SetMaxRetryAfter(0); err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, Config{Settings: s})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil)
	if !paykit.IsStatus(err, 503) || rec.Count() != 1 {
		t.Fatalf("got %v after %d attempts", err, rec.Count())
	}
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
			if err := s.SetRetryWait(10*time.Second, 10*time.Second); err != nil {
				t.Fatal(err)
			}
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
			if took := time.Since(cancelled); took > 2*time.Second {
				t.Errorf("returned %v after cancel: the backoff was not interrupted", took)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v does not wrap context.Canceled", err)
			}
			if errors.Is(err, paykit.ErrUnknownOutcome) {
				t.Errorf("a retry-safe call's error wraps ErrUnknownOutcome: %v", err)
			}
			if rec.Count() != 1 {
				t.Errorf("%d attempts, want 1", rec.Count())
			}
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
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v does not wrap context.DeadlineExceeded", err)
			}
			// An unkeyed write cut off in flight may have been acted on.
			if got := errors.Is(err, paykit.ErrUnknownOutcome); got != !kind.safe {
				t.Errorf("errors.Is(err, ErrUnknownOutcome) = %v, want %v", got, !kind.safe)
			}
			if rec.Count() != 1 {
				t.Errorf("%d attempts, want 1", rec.Count())
			}
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
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil || out.RequestID != "req_9" {
		t.Fatalf("got %+v, %v", out, err)
	}
	attempts := rec.Attempts()
	if len(attempts) != 4 {
		t.Fatalf("%d attempts, want 4", len(attempts))
	}
	for i, a := range attempts {
		if got := a.Header.Values("Idempotency-Key"); !cmp.Equal(got, []string{"6f1c2a7e9b3d4f5a8c0e1b2d3f4a5b6c"}) {
			t.Errorf("attempt %d: Idempotency-Key %q", i+1, got)
		}
		if string(a.Body) != string(wantBody) {
			t.Errorf("attempt %d: body\n%s\nwant\n%s", i+1, a.Body, wantBody)
		}
		if a.Header.Get("Content-Length") != fmt.Sprint(len(wantBody)) || a.Header.Get("Content-Type") != "application/json" {
			t.Errorf("attempt %d: Content-Length %q Content-Type %q", i+1, a.Header.Get("Content-Length"), a.Header.Get("Content-Type"))
		}
	}
}

func TestRawBodySentAsIs(t *testing.T) {
	rec := newRecorder(t, respond(200, `{}`))
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	for _, body := range []any{[]byte(`{"a": 1}`), json.RawMessage(`{"a": 1}`)} {
		if err := doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "x", Body: body}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	a := rec.Attempts()
	for i, want := range []string{`{"a": 1}`, `{"a": 1}`, ``} {
		if string(a[i].Body) != want {
			t.Errorf("request %d: body %q, want %q", i, a[i].Body, want)
		}
	}
	if a[2].Header.Get("Content-Type") != "" {
		t.Errorf("no body but Content-Type %q", a[2].Header.Get("Content-Type"))
	}
}

func TestEncodeErrorSendsNothing(t *testing.T) {
	rec := newRecorder(t)
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "x", Body: map[string]any{"f": func() {}}}, nil)
	var unsupported *json.UnsupportedTypeError
	if !errors.As(err, &unsupported) || rec.Count() != 0 {
		t.Fatalf("got %v after %d requests", err, rec.Count())
	}
	if !strings.HasPrefix(err.Error(), "jopay: encode request") {
		t.Errorf("error %q", err)
	}
}
