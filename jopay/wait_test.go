package jopay_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopay"
)

// wtStep is one answer of the waiter's test server.
type wtStep struct {
	status     int // 0 means 200
	retryAfter string
	req        map[string]any
}

// wtSetup serves steps to successive GetRequest polls (the last one repeats) and returns a
// client whose WaitForRequest sleeps through sleep.
func wtSetup(t *testing.T, steps []wtStep, opts ...jopay.Option) (*jopay.Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, coRequestID, r.PathValue("id"))
		assert.Equal(t, "waiter", r.Header.Get("X-Paykit-Test"), "WithCallOptions reach every poll")
		i := int(n.Add(1)) - 1
		st := steps[min(i, len(steps)-1)]
		if st.retryAfter != "" {
			w.Header().Set("Retry-After", st.retryAfter)
		}
		switch {
		case st.status == http.StatusNotFound:
			coWriteJSON(w, st.status, map[string]any{"ok": false, "error": "not_found", "message": "no such request"})
		case st.status != 0:
			coWriteJSON(w, st.status, map[string]any{"ok": false, "error": "rate_limited", "message": "slow down"})
		default:
			coWriteJSON(w, http.StatusOK, st.req)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := []jopay.Option{jopay.WithBaseURL(srv.URL + "/api/v1"), jopay.WithRateLimiter(nil), jopay.WithMaxRetries(0)}
	c, err := jopay.NewClient(testKey, append(base, opts...)...)
	require.NoError(t, err)
	return c, &n
}

// wtSleeps records the waits and returns at once.
type wtSleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *wtSleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *wtSleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

var wtCall = jopay.WithCallOptions(paykit.WithHeader("X-Paykit-Test", "waiter"))

// WaitForRequest stops at the first terminal request and reports each change once.
func TestWaitForRequestStopsOnTerminal(t *testing.T) {
	steps := []wtStep{
		{req: coRequestJSON(jopay.StatusRequested, jopay.ProofStatusNone)},
		{req: coRequestJSON(jopay.StatusRequested, jopay.ProofStatusNone)},
		{req: coRequestJSON(jopay.StatusOpened, jopay.ProofStatusNone)},
		{req: coRequestJSON(jopay.StatusOpened, jopay.ProofStatusAttached)},
		{req: coRequestJSON(jopay.StatusOpened, jopay.ProofStatusAttached)},
		{req: coRequestJSON(jopay.StatusOpened, jopay.ProofStatusVerified)},
	}
	var sleeps wtSleeps
	c, n := wtSetup(t, steps)
	var changes []string
	var info paykit.ResponseInfo
	r, err := c.WaitForRequest(context.Background(), coRequestID, wtCall, jopay.WithWaitSleep(sleeps.sleep),
		jopay.WithPollInterval(time.Second, 4*time.Second),
		jopay.WithCallOptions(paykit.WithResponseInfo(&info)),
		jopay.OnStatusChange(func(r *jopay.PaymentRequest) {
			changes = append(changes, string(r.Status)+"/"+string(r.ProofStatus))
		}))
	require.NoError(t, err)
	assert.True(t, r.IsPaid())
	assert.Equal(t, int32(6), n.Load())
	assert.Equal(t, []string{"requested/none", "opened/none", "opened/attached", "opened/verified"}, changes)
	assert.Len(t, sleeps.all(), 5)
	for _, d := range sleeps.all() {
		assert.True(t, d >= 800*time.Millisecond && d <= 4*time.Second*12/10, "wait %v outside the poll interval", d)
	}
	assert.Equal(t, http.StatusOK, info.StatusCode, "the last poll's ResponseInfo")

	// An expired or cancelled request is terminal too.
	c2, n2 := wtSetup(t, []wtStep{{req: coRequestJSON(jopay.StatusExpired, jopay.ProofStatusNone)}})
	r, err = c2.WaitForRequest(context.Background(), coRequestID, wtCall, jopay.WithWaitSleep(sleeps.sleep))
	require.NoError(t, err)
	assert.Equal(t, jopay.StatusExpired, r.Status)
	assert.Equal(t, int32(1), n2.Load())
}

// When ctx ends, WaitForRequest returns the last request seen and ctx's error.
func TestWaitForRequestStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var polls int
	sleep := func(ctx context.Context, d time.Duration) error {
		polls++
		if polls == 3 {
			cancel()
		}
		return ctx.Err()
	}
	c, n := wtSetup(t, []wtStep{{req: coRequestJSON(jopay.StatusOpened, jopay.ProofStatusNone)}})
	r, err := c.WaitForRequest(ctx, coRequestID, wtCall, jopay.WithWaitSleep(sleep))
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, r)
	assert.Equal(t, coRequestID, r.ID)
	assert.Equal(t, jopay.StatusOpened, r.Status)
	assert.Equal(t, int32(3), n.Load())
}

// A permanent error is returned at once; a transient one is polled through.
func TestWaitForRequestErrors(t *testing.T) {
	var sleeps wtSleeps
	c, n := wtSetup(t, []wtStep{{status: http.StatusNotFound}})
	_, err := c.WaitForRequest(context.Background(), coRequestID, wtCall, jopay.WithWaitSleep(sleeps.sleep))
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.Status)
	assert.Equal(t, int32(1), n.Load())
	assert.Empty(t, sleeps.all())

	var vErr *paykit.ValidationError
	_, err = c.WaitForRequest(context.Background(), "", wtCall, jopay.WithWaitSleep(sleeps.sleep))
	require.ErrorAs(t, err, &vErr)
	assert.Equal(t, int32(1), n.Load())
}

// A 429 asking for a day makes the next poll wait the client's Retry-After cap, not a day.
func TestWaitForRequestCapsRetryAfter(t *testing.T) {
	var sleeps wtSleeps
	steps := []wtStep{
		{status: http.StatusTooManyRequests, retryAfter: "86400"},
		{req: coRequestJSON(jopay.StatusOpened, jopay.ProofStatusVerified)},
	}
	c, n := wtSetup(t, steps, jopay.WithMaxRetryAfter(5*time.Second))
	r, err := c.WaitForRequest(context.Background(), coRequestID, wtCall, jopay.WithWaitSleep(sleeps.sleep), jopay.WithPollInterval(10*time.Millisecond, 20*time.Millisecond))
	require.NoError(t, err)
	assert.True(t, r.IsPaid())
	assert.Equal(t, int32(2), n.Load())
	assert.Equal(t, []time.Duration{5 * time.Second}, sleeps.all())
}
