package fakeserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil || status != 200 || body != "ok" || handled.Load() != 1 {
		t.Fatalf("got %d %q %v, handled %d", status, body, err, handled.Load())
	}
}

func TestFailNext(t *testing.T) {
	var f Faults
	srv, handled := faultServer(t, &f)
	f.FailNext(2, http.StatusServiceUnavailable, 1500*time.Millisecond)
	for i := 0; i < 2; i++ {
		status, h, body, err := send(t, http.MethodGet, srv.URL)
		if err != nil || status != 503 {
			t.Fatalf("request %d: %d %v", i, status, err)
		}
		if ra := h.Get("Retry-After"); ra != "2" { // whole seconds, rounded up
			t.Errorf("Retry-After = %q, want 2", ra)
		}
		if body != `{"error":"injected_fault"}` || h.Get("Content-Type") != "application/json" {
			t.Errorf("default body %q, type %q", body, h.Get("Content-Type"))
		}
	}
	if status, _, _, _ := send(t, http.MethodGet, srv.URL); status != 200 {
		t.Errorf("third request: %d, want the faults used up", status)
	}
	if handled.Load() != 1 {
		t.Errorf("inner handler ran %d times, want 1", handled.Load())
	}
}

func TestFailNextNoRetryAfterAndCustomBody(t *testing.T) {
	f := Faults{ErrorBody: func(status int) []byte { return []byte(`{"error":"e` + strconv.Itoa(status) + `"}`) }}
	srv, _ := faultServer(t, &f)
	f.FailNext(1, 429, 0)
	status, h, body, _ := send(t, http.MethodGet, srv.URL)
	if status != 429 || h.Get("Retry-After") != "" || body != `{"error":"e429"}` {
		t.Errorf("got %d, Retry-After %q, body %s", status, h.Get("Retry-After"), body)
	}
}

func TestDropNext(t *testing.T) {
	var f Faults
	srv, handled := faultServer(t, &f)
	f.DropNext(1)
	if _, _, _, err := send(t, http.MethodPost, srv.URL); err == nil {
		t.Fatal("dropped request got a response")
	}
	if handled.Load() != 0 {
		t.Error("a dropped request reached the handler")
	}
	if status, _, _, err := send(t, http.MethodPost, srv.URL); err != nil || status != 200 {
		t.Errorf("next request: %d %v", status, err)
	}
}

func TestLoseResponseNext(t *testing.T) {
	var f Faults
	srv, handled := faultServer(t, &f)
	f.LoseResponseNext(1)
	if _, _, _, err := send(t, http.MethodPost, srv.URL); err == nil {
		t.Fatal("request with a lost response got a response")
	}
	if handled.Load() != 1 {
		t.Errorf("handler ran %d times, want 1: the server acts, only the answer is lost", handled.Load())
	}
}

func TestMatchSelectsRequests(t *testing.T) {
	var f Faults
	srv, _ := faultServer(t, &f)
	f.Add(1, Fault{Status: 502, Match: func(r *http.Request) bool { return r.Method == http.MethodPost }})
	f.FailNext(1, 500, 0)
	// The GET skips the POST-only fault and takes the unconditional one behind it.
	if status, _, _, _ := send(t, http.MethodGet, srv.URL); status != 500 {
		t.Errorf("GET: %d, want 500", status)
	}
	if status, _, _, _ := send(t, http.MethodGet, srv.URL); status != 200 {
		t.Errorf("second GET: %d, want 200 (the POST fault must stay queued)", status)
	}
	if status, _, _, _ := send(t, http.MethodPost, srv.URL); status != 502 {
		t.Errorf("POST: %d, want 502", status)
	}
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
	if status, _, _, err := send(t, http.MethodGet, srv.URL); err != nil || status != 200 {
		t.Fatal(status, err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("answered after %v, before the latency", d)
	}

	// A caller that gives up releases the handler at once, without running the inner handler.
	f.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	before := finished.Load()

	f.Reset()
	if status, _, _, err := send(t, http.MethodGet, srv.URL); err != nil || status != 200 {
		t.Fatalf("after Reset: %d %v", status, err)
	}
	if finished.Load() != before+1 {
		t.Errorf("inner handler ran for a cancelled request")
	}
	// srv.Close (deferred) waits for handlers: it returns only if the cancelled one is gone.
}

func TestResetClearsQueue(t *testing.T) {
	var f Faults
	srv, _ := faultServer(t, &f)
	f.FailNext(3, 500, 0)
	f.DropNext(2)
	f.Reset()
	if status, _, _, err := send(t, http.MethodGet, srv.URL); err != nil || status != 200 {
		t.Errorf("after Reset: %d %v", status, err)
	}
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
	if !d.Delivered || d.Abandoned || !equal(attemptStatuses(d), []int{500, 429, 503, 200}) {
		t.Fatalf("delivery = %+v", d)
	}
	if len(rc.headers) != 4 {
		t.Fatalf("%d requests", len(rc.headers))
	}
	for i, h := range rc.headers {
		want := strconv.FormatInt(start.Add(time.Duration(i+1)*time.Second).Unix(), 10) + ":7"
		if got := h.Get("X-Sig"); got != want {
			t.Errorf("attempt %d signed %q, want %q (a new time per attempt)", i, got, want)
		}
		if h.Get("Content-Type") != "application/json" || rc.bodies[i] != `{"x":1}` {
			t.Errorf("attempt %d: type %q body %q", i, h.Get("Content-Type"), rc.bodies[i])
		}
		if !d.Attempts[i].At.Equal(start.Add(time.Duration(i+1) * time.Second)) {
			t.Errorf("attempt %d At = %v", i, d.Attempts[i].At)
		}
	}
	if d.Header.Get("X-Sig") != rc.headers[3].Get("X-Sig") {
		t.Error("Delivery.Header is not the last attempt's")
	}
}

func TestDeliverAbandons4xx(t *testing.T) {
	for _, status := range []int{400, 401, 404, 410} {
		rc := &receiver{statuses: []int{500, status}}
		srv := httptest.NewServer(rc)
		d := (&Deliverer{Backoff: fast}).Deliver(context.Background(), srv.URL, []byte(`{}`), nil)
		srv.Close()
		if d.Delivered || !d.Abandoned || !equal(attemptStatuses(d), []int{500, status}) {
			t.Errorf("status %d: delivery = %+v", status, d)
		}
	}
}

func TestDeliverRetryNon2xx(t *testing.T) {
	rc := &receiver{statuses: []int{400, 404, 302}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	d := (&Deliverer{Backoff: fast, Retry: RetryNon2xx, Client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}).Deliver(context.Background(), srv.URL, []byte(`{}`), nil)
	if !d.Delivered || !equal(attemptStatuses(d), []int{400, 404, 302, 200}) {
		t.Errorf("delivery = %+v", d)
	}
}

func TestDeliverGivesUpAfterMaxAttempts(t *testing.T) {
	rc := &receiver{statuses: []int{500, 500, 500, 500, 500, 500, 500}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	var waits []int
	d := (&Deliverer{MaxAttempts: 3, Backoff: func(n int) time.Duration { waits = append(waits, n); return 0 }}).
		Deliver(context.Background(), srv.URL, nil, nil)
	if d.Delivered || d.Abandoned || len(d.Attempts) != 3 {
		t.Errorf("delivery = %+v", d)
	}
	if !equal(waits, []int{1, 2}) {
		t.Errorf("Backoff called with %v, want [1 2]", waits)
	}
	// Default: 5 attempts.
	rc.statuses = []int{500, 500, 500, 500, 500, 500}
	if d := (&Deliverer{Backoff: fast}).Deliver(context.Background(), srv.URL, nil, nil); len(d.Attempts) != 5 {
		t.Errorf("default attempts = %d", len(d.Attempts))
	}
}

func TestDeliverRetriesConnectionErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	d := (&Deliverer{MaxAttempts: 2, Backoff: fast}).Deliver(context.Background(), url, []byte(`{}`), nil)
	if d.Delivered || len(d.Attempts) != 2 || d.Attempts[0].Err == nil || d.Attempts[0].Status != 0 {
		t.Errorf("delivery = %+v", d)
	}
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
	if time.Since(start) > 5*time.Second {
		t.Fatal("Deliver waited out its backoff after cancellation")
	}
	if d.Delivered || len(d.Attempts) != 1 {
		t.Errorf("delivery = %+v", d)
	}

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
	if d.Delivered || len(d.Attempts) != 1 || !errors.Is(d.Attempts[0].Err, context.DeadlineExceeded) {
		t.Errorf("delivery = %+v", d)
	}
}

func TestDeliverBadURL(t *testing.T) {
	d := (&Deliverer{}).Deliver(context.Background(), "http://[::1", nil, nil)
	if d.Delivered || len(d.Attempts) != 1 || d.Attempts[0].Err == nil {
		t.Errorf("delivery = %+v", d)
	}
}

func TestRetryRules(t *testing.T) {
	for status, want := range map[int]bool{200: false, 400: false, 404: false, 408: false, 429: true, 500: true, 502: true, 503: true} {
		if got := RetryServerErrors(status); got != want {
			t.Errorf("RetryServerErrors(%d) = %v", status, got)
		}
	}
	for status, want := range map[int]bool{199: true, 200: false, 204: false, 299: false, 300: true, 400: true, 500: true} {
		if got := RetryNon2xx(status); got != want {
			t.Errorf("RetryNon2xx(%d) = %v", status, got)
		}
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
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("request during an hour of latency succeeded")
	}
	f.SetLatency(0)
	if status, _, _, err := send(t, http.MethodGet, srv.URL); err != nil || status != 503 {
		t.Errorf("next request: %d %v, want the queued 503", status, err)
	}
}
