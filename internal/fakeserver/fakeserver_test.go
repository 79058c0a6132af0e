package fakeserver

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultServer serves "ok" behind f and counts the requests the inner handler saw.
func faultServer(t *testing.T, f *Faults) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var handled atomic.Int64
	srv := httptest.NewServer(f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		handled.Add(1)
		_, _ = io.WriteString(w, "ok")
	})))
	t.Cleanup(srv.Close)
	return srv, &handled
}

// send sends one request without transport-level retries (a fresh connection each time, so
// net/http cannot replay it on a reused one).
func send(t *testing.T, method, url string) (int, http.Header, string, error) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest(method, url, strings.NewReader(`{"a":1}`))
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), nil
}

func TestFaultsZeroValuePassesThrough(t *testing.T) {
	var f Faults
	srv, handled := faultServer(t, &f)
	status, _, body, err := send(t, http.MethodGet, srv.URL)
	require.NoError(t, err, "got %d %q %v, handled %d", status, body, err, handled.Load())
	require.Equal(t, 200, status, "got %d %q %v, handled %d", status, body, err, handled.Load())
	require.Equal(t, "ok", body, "got %d %q %v, handled %d", status, body, err, handled.Load())
	require.Equal(t, int64(1), handled.Load(), "got %d %q %v, handled %d", status, body, err, handled.Load())
}

func TestFailNext(t *testing.T) {
	var f Faults
	srv, handled := faultServer(t, &f)
	f.FailNext(2, http.StatusServiceUnavailable, 1500*time.Millisecond)
	for i := 0; i < 2; i++ {
		status, h, body, err := send(t, http.MethodGet, srv.URL)
		require.NoError(t, err, "request %d: %d %v", i, status, err)
		require.Equal(t, 503, status, "request %d: %d %v", i, status, err)
		assert.Equal(t, "2", h.Get("Retry-After"), "Retry-After, want 2") // whole seconds, rounded up
		assert.Equal(t, `{"error":"injected_fault"}`, body, "default body %q, type %q", body, h.Get("Content-Type"))
		assert.Equal(t, "application/json", h.Get("Content-Type"), "default body %q, type %q", body, h.Get("Content-Type"))
	}
	status, _, _, _ := send(t, http.MethodGet, srv.URL)
	assert.Equal(t, 200, status, "third request, want the faults used up")
	assert.Equal(t, int64(1), handled.Load(), "inner handler ran %d times, want 1", handled.Load())
}

func TestFailNextNoRetryAfterAndCustomBody(t *testing.T) {
	f := Faults{ErrorBody: func(status int) []byte { return []byte(`{"error":"e` + strconv.Itoa(status) + `"}`) }}
	srv, _ := faultServer(t, &f)
	f.FailNext(1, 429, 0)
	status, h, body, _ := send(t, http.MethodGet, srv.URL)
	assert.Equal(t, 429, status, "got %d, Retry-After %q, body %s", status, h.Get("Retry-After"), body)
	assert.Empty(t, h.Get("Retry-After"), "got %d, Retry-After %q, body %s", status, h.Get("Retry-After"), body)
	assert.Equal(t, `{"error":"e429"}`, body, "got %d, Retry-After %q, body %s", status, h.Get("Retry-After"), body)
}

func TestDropNext(t *testing.T) {
	var f Faults
	srv, handled := faultServer(t, &f)
	f.DropNext(1)
	_, _, _, err := send(t, http.MethodPost, srv.URL)
	require.Error(t, err, "dropped request got a response")
	assert.Zero(t, handled.Load(), "a dropped request reached the handler")
	status, _, _, err := send(t, http.MethodPost, srv.URL)
	require.NoError(t, err, "next request: %d %v", status, err)
	assert.Equal(t, 200, status, "next request: %d %v", status, err)
}

func TestLoseResponseNext(t *testing.T) {
	var f Faults
	srv, handled := faultServer(t, &f)
	f.LoseResponseNext(1)
	_, _, _, err := send(t, http.MethodPost, srv.URL)
	require.Error(t, err, "request with a lost response got a response")
	assert.Equal(t, int64(1), handled.Load(), "handler ran %d times, want 1: the server acts, only the answer is lost", handled.Load())
}

func TestMatchSelectsRequests(t *testing.T) {
	var f Faults
	srv, _ := faultServer(t, &f)
	f.Add(1, Fault{Status: 502, Match: func(r *http.Request) bool { return r.Method == http.MethodPost }})
	f.FailNext(1, 500, 0)
	// The GET skips the POST-only fault and takes the unconditional one behind it.
	status, _, _, _ := send(t, http.MethodGet, srv.URL)
	assert.Equal(t, 500, status, "GET, want 500")
	status, _, _, _ = send(t, http.MethodGet, srv.URL)
	assert.Equal(t, 200, status, "second GET, want 200 (the POST fault must stay queued)")
	status, _, _, _ = send(t, http.MethodPost, srv.URL)
	assert.Equal(t, 502, status, "POST, want 502")
}

func TestLatencyAndCancellation(t *testing.T) {
	var f Faults
	var finished atomic.Int64
	inner := f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { finished.Add(1) }))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()

	f.SetLatency(30 * time.Millisecond)
	start := time.Now()
	status, _, _, err := send(t, http.MethodGet, srv.URL)
	require.NoError(t, err, "%v %v", status, err)
	require.Equal(t, 200, status, "%v %v", status, err)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond, "answered before the latency")

	// A caller that gives up releases the handler at once, without running the inner handler.
	f.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded, "err")
	before := finished.Load()

	f.Reset()
	status, _, _, err = send(t, http.MethodGet, srv.URL)
	require.NoError(t, err, "after Reset: %d %v", status, err)
	require.Equal(t, 200, status, "after Reset: %d %v", status, err)
	assert.Equal(t, before+1, finished.Load(), "inner handler ran for a cancelled request")
	// srv.Close (deferred) waits for handlers: it returns only if the cancelled one is gone.
}

func TestResetClearsQueue(t *testing.T) {
	var f Faults
	srv, _ := faultServer(t, &f)
	f.FailNext(3, 500, 0)
	f.DropNext(2)
	f.Reset()
	status, _, _, err := send(t, http.MethodGet, srv.URL)
	require.NoError(t, err, "after Reset: %d %v", status, err)
	assert.Equal(t, 200, status, "after Reset: %d %v", status, err)
}

// receiver answers with the queued statuses in turn (then 200) and records each request.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	bodies   []string
	headers  []http.Header
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.bodies = append(rc.bodies, string(b))
	rc.headers = append(rc.headers, r.Header.Clone())
	status := 200
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	rc.mu.Unlock()
	w.WriteHeader(status)
}

// tickClock returns a clock that advances one second per call.
func tickClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	t := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func signer(body []byte, now time.Time) http.Header {
	h := http.Header{}
	h.Set("X-Sig", strconv.FormatInt(now.Unix(), 10)+":"+strconv.Itoa(len(body)))
	return h
}

func attemptStatuses(d Delivery) []int {
	var out []int
	for _, a := range d.Attempts {
		out = append(out, a.Status)
	}
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var fast = func(int) time.Duration { return time.Millisecond }

func TestDeliverRetriesServerErrorsAndResigns(t *testing.T) {
	rc := &receiver{statuses: []int{500, 429, 503}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	start := time.Unix(1_700_000_000, 0)
	d := (&Deliverer{Backoff: fast, Now: tickClock(start)}).Deliver(context.Background(), srv.URL, []byte(`{"x":1}`), signer)
	require.True(t, d.Delivered, "delivery = %+v", d)
	require.False(t, d.Abandoned, "delivery = %+v", d)
	require.True(t, equal(attemptStatuses(d), []int{500, 429, 503, 200}), "delivery = %+v", d)
	require.Len(t, rc.headers, 4, "%d requests", len(rc.headers))
	for i, h := range rc.headers {
		want := strconv.FormatInt(start.Add(time.Duration(i+1)*time.Second).Unix(), 10) + ":7"
		assert.Equal(t, want, h.Get("X-Sig"), "attempt %d signed (a new time per attempt)", i)
		assert.Equal(t, "application/json", h.Get("Content-Type"), "attempt %d: type %q body %q", i, h.Get("Content-Type"), rc.bodies[i])
		assert.Equal(t, `{"x":1}`, rc.bodies[i], "attempt %d: type %q body %q", i, h.Get("Content-Type"), rc.bodies[i])
		assert.True(t, d.Attempts[i].At.Equal(start.Add(time.Duration(i+1)*time.Second)), "attempt %d At = %v", i, d.Attempts[i].At)
	}
	assert.Equal(t, rc.headers[3].Get("X-Sig"), d.Header.Get("X-Sig"), "Delivery.Header is not the last attempt's")
}

func TestDeliverAbandons4xx(t *testing.T) {
	for _, status := range []int{400, 401, 404, 410} {
		rc := &receiver{statuses: []int{500, status}}
		srv := httptest.NewServer(rc)
		d := (&Deliverer{Backoff: fast}).Deliver(context.Background(), srv.URL, []byte(`{}`), nil)
		srv.Close()
		assert.False(t, d.Delivered, "status %d: delivery = %+v", status, d)
		assert.True(t, d.Abandoned, "status %d: delivery = %+v", status, d)
		assert.True(t, equal(attemptStatuses(d), []int{500, status}), "status %d: delivery = %+v", status, d)
	}
}

func TestDeliverRetryNon2xx(t *testing.T) {
	rc := &receiver{statuses: []int{400, 404, 302}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	d := (&Deliverer{Backoff: fast, Retry: RetryNon2xx, Client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}).Deliver(context.Background(), srv.URL, []byte(`{}`), nil)
	assert.True(t, d.Delivered, "delivery = %+v", d)
	assert.True(t, equal(attemptStatuses(d), []int{400, 404, 302, 200}), "delivery = %+v", d)
}

func TestDeliverGivesUpAfterMaxAttempts(t *testing.T) {
	rc := &receiver{statuses: []int{500, 500, 500, 500, 500, 500, 500}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	var waits []int
	d := (&Deliverer{MaxAttempts: 3, Backoff: func(n int) time.Duration { waits = append(waits, n); return 0 }}).
		Deliver(context.Background(), srv.URL, nil, nil)
	assert.False(t, d.Delivered, "delivery = %+v", d)
	assert.False(t, d.Abandoned, "delivery = %+v", d)
	assert.Len(t, d.Attempts, 3, "delivery = %+v", d)
	assert.True(t, equal(waits, []int{1, 2}), "Backoff called with %v, want [1 2]", waits)
	// Default: 5 attempts.
	rc.statuses = []int{500, 500, 500, 500, 500, 500}
	d = (&Deliverer{Backoff: fast}).Deliver(context.Background(), srv.URL, nil, nil)
	assert.Len(t, d.Attempts, 5, "default attempts = %d", len(d.Attempts))
}

func TestDeliverRetriesConnectionErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	d := (&Deliverer{MaxAttempts: 2, Backoff: fast}).Deliver(context.Background(), url, []byte(`{}`), nil)
	assert.False(t, d.Delivered, "delivery = %+v", d)
	require.Len(t, d.Attempts, 2, "delivery = %+v", d)
	require.Error(t, d.Attempts[0].Err, "delivery = %+v", d)
	assert.Zero(t, d.Attempts[0].Status, "delivery = %+v", d)
}

func TestDeliverStopsWhenContextEnds(t *testing.T) {
	rc := &receiver{statuses: []int{500, 500, 500, 500, 500}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	start := time.Now()
	d := (&Deliverer{Backoff: func(int) time.Duration {
		once.Do(cancel) // cancelled during the first backoff
		return time.Hour
	}}).Deliver(ctx, srv.URL, nil, nil)
	require.LessOrEqual(t, time.Since(start), 5*time.Second, "Deliver waited out its backoff after cancellation")
	assert.False(t, d.Delivered, "delivery = %+v", d)
	assert.Len(t, d.Attempts, 1, "delivery = %+v", d)

	// Cancelled during an attempt: the attempt fails and no more follow.
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(block)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	d = (&Deliverer{Backoff: fast}).Deliver(ctx2, slow.URL, nil, nil)
	assert.False(t, d.Delivered, "delivery = %+v", d)
	require.Len(t, d.Attempts, 1, "delivery = %+v", d)
	assert.ErrorIs(t, d.Attempts[0].Err, context.DeadlineExceeded, "delivery = %+v", d)
}

func TestDeliverBadURL(t *testing.T) {
	d := (&Deliverer{}).Deliver(context.Background(), "http://[::1", nil, nil)
	assert.False(t, d.Delivered, "delivery = %+v", d)
	require.Len(t, d.Attempts, 1, "delivery = %+v", d)
	assert.Error(t, d.Attempts[0].Err, "delivery = %+v", d)
}

func TestRetryRules(t *testing.T) {
	for status, want := range map[int]bool{200: false, 400: false, 404: false, 408: false, 429: true, 500: true, 502: true, 503: true} {
		assert.Equal(t, want, RetryServerErrors(status), "RetryServerErrors(%d)", status)
	}
	for status, want := range map[int]bool{199: true, 200: false, 204: false, 299: false, 300: true, 400: true, 500: true} {
		assert.Equal(t, want, RetryNon2xx(status), "RetryNon2xx(%d)", status)
	}
}

// A request abandoned during the latency must not use up the fault queued for the next one.
func TestCancelledRequestKeepsFault(t *testing.T) {
	var f Faults
	srv, _ := faultServer(t, &f)
	f.SetLatency(time.Hour)
	f.FailNext(1, 503, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err, "request during an hour of latency succeeded")
	f.SetLatency(0)
	status, _, _, err := send(t, http.MethodGet, srv.URL)
	require.NoError(t, err, "next request: %d %v, want the queued 503", status, err)
	assert.Equal(t, 503, status, "next request: %d %v, want the queued 503", status, err)
}
