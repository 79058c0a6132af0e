package jopay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/ratelimit"
	"github.com/paykit-go/paykit/jopay"
)

// rlCounter is a paykit.RateLimiter that counts its Wait calls and admits every one.
type rlCounter struct{ n atomic.Int32 }

func (l *rlCounter) Wait(ctx context.Context) error { l.n.Add(1); return ctx.Err() }

// rlRefuser refuses every wait, as a shared limiter out of quota would.
type rlRefuser struct{}

func (rlRefuser) Wait(context.Context) error {
	return fmt.Errorf("redis limiter: quota spent: %w", paykit.ErrRateLimited)
}

// rlServer answers GetRequest (after failures 503s) and CreateMerchant, counting requests.
func rlServer(t *testing.T, failures int32, n *atomic.Int32) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= failures {
			coWriteJSON2(w, http.StatusServiceUnavailable)
			return
		}
		coWriteJSON(w, http.StatusOK, coRequestJSON(jopay.StatusOpened, jopay.ProofStatusNone))
	})
	mux.HandleFunc("POST /api/v1/merchants", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		coWriteJSON(w, http.StatusOK, coMerchantJSON)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/api/v1"
}

// The limiter is waited on once per attempt, retries included; WithRateLimiter replaces the
// default limits, CreateMerchant's own included.
func TestWithRateLimiterWaitsPerAttempt(t *testing.T) {
	var n atomic.Int32
	base := rlServer(t, 2, &n)
	lim := &rlCounter{}
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(base), jopay.WithRetryWait(time.Millisecond, time.Millisecond), jopay.WithRateLimiter(lim))
	require.NoError(t, err)
	var info paykit.ResponseInfo
	_, err = c.GetRequest(context.Background(), coRequestID, paykit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, int32(3), n.Load())
	assert.Equal(t, 3, info.Attempts)
	assert.Equal(t, int32(3), lim.n.Load(), "one Wait per attempt")

	_, err = c.CreateMerchant(context.Background(), jopay.CreateMerchantParams{})
	require.NoError(t, err)
	assert.Equal(t, int32(4), lim.n.Load(), "CreateMerchant waits on the caller's limiter only")
}

// A limiter's refusal fails the call with ErrRateLimited, and nothing is sent.
func TestRateLimiterRefusal(t *testing.T) {
	var n atomic.Int32
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(rlServer(t, 0, &n)), jopay.WithRateLimiter(rlRefuser{}))
	require.NoError(t, err)
	var info paykit.ResponseInfo
	_, err = c.GetRequest(context.Background(), coRequestID, paykit.WithResponseInfo(&info))
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	_, err = c.CreateRequest(context.Background(), jopay.CreateRequestParams{MerchantID: coMerchantID, FiatAmountInt: 1})
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.Zero(t, n.Load(), "nothing may be sent")
	assert.Zero(t, info.Attempts)
	assert.Zero(t, info.StatusCode)
}

// A *rate.Limiter fits WithRateLimiter, and can be shared by several clients.
func TestRateLimiterFromXTimeRate(t *testing.T) {
	var n atomic.Int32
	base := rlServer(t, 0, &n)
	shared := rate.NewLimiter(rate.Inf, 1)
	var _ paykit.RateLimiter = shared
	c1, err := jopay.NewClient(testKey, jopay.WithBaseURL(base), jopay.WithRateLimiter(shared))
	require.NoError(t, err)
	c2, err := jopay.NewClient(testKey, jopay.WithBaseURL(base), jopay.WithRateLimiter(shared))
	require.NoError(t, err)
	for _, c := range []*jopay.Client{c1, c2} {
		_, err := c.GetRequest(context.Background(), coRequestID)
		require.NoError(t, err)
	}
	assert.Equal(t, int32(2), n.Load())

	// An exhausted *rate.Limiter refuses a wait past the deadline: ErrRateLimited, nothing sent.
	slow := rate.NewLimiter(rate.Every(time.Hour), 1)
	c3, err := jopay.NewClient(testKey, jopay.WithBaseURL(base), jopay.WithRateLimiter(slow))
	require.NoError(t, err)
	_, err = c3.GetRequest(context.Background(), coRequestID)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = c3.GetRequest(ctx, coRequestID)
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.Equal(t, int32(3), n.Load())
}

// rlClock is a deterministic fake clock for the default limiters. Sleep blocks until the fake
// time reaches the wake time; drive advances the fake time to the earliest pending wake only
// when no call is in flight, that is every unfinished call is asleep: a call is in flight from
// its start, and again from its wake-up, until it sleeps, its arrival is recorded or it ends.
type rlClock struct {
	mu       sync.Mutex
	cond     *sync.Cond
	now      time.Time
	sleepers []*rlSleeper
	inflight int // calls between starting or waking and sleeping or arriving
	running  int // calls not finished
	arrivals []time.Duration
	start    time.Time
	sleeps   int
	broken   string // set when the accounting goes wrong
}

type rlSleeper struct {
	wake time.Time
	ch   chan struct{}
}

func newRLClock() *rlClock {
	c := &rlClock{now: time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)}
	c.start = c.now
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *rlClock) clock() ratelimit.Clock { return ratelimit.Clock{Now: c.Now, Sleep: c.Sleep} }

func (c *rlClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *rlClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	s := &rlSleeper{wake: c.now.Add(d), ch: make(chan struct{})}
	c.sleepers = append(c.sleepers, s)
	c.sleeps++
	c.inflight--
	c.cond.Broadcast()
	c.mu.Unlock()
	select {
	case <-s.ch: // drive counted the call in flight again
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		if i := slices.Index(c.sleepers, s); i >= 0 {
			c.sleepers = slices.Delete(c.sleepers, i, i+1)
			c.inflight++
		}
		return ctx.Err()
	}
}

// begin counts a call that is about to start.
func (c *rlClock) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running++
	c.inflight++
}

// arrive records a request's arrival at the server at the current fake time.
func (c *rlClock) arrive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.arrivals = append(c.arrivals, c.now.Sub(c.start))
	c.inflight--
	c.cond.Broadcast()
}

// end counts a finished call; one that failed before arriving leaves the in-flight count.
func (c *rlClock) end(arrived bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running--
	if !arrived {
		c.inflight--
	}
	c.cond.Broadcast()
}

// drive advances the fake time until every call has finished.
func (c *rlClock) drive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for c.broken == "" && (c.inflight > 0 || c.running > 0 && len(c.sleepers) == 0) {
			if c.inflight < 0 {
				c.broken = "negative in-flight count"
				break
			}
			c.cond.Wait()
		}
		if c.broken != "" || c.running == 0 {
			return
		}
		if c.inflight < 0 {
			c.broken = "negative in-flight count"
			return
		}
		next := slices.MinFunc(c.sleepers, func(a, b *rlSleeper) int { return a.wake.Compare(b.wake) }).wake
		if next.After(c.now) {
			c.now = next
		}
		c.sleepers = slices.DeleteFunc(c.sleepers, func(s *rlSleeper) bool {
			if s.wake.After(c.now) {
				return false
			}
			c.inflight++
			close(s.ch)
			return true
		})
	}
}

// stop makes drive return (a watchdog for a broken test, not part of its correctness).
func (c *rlClock) stop(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken == "" {
		c.broken = reason
	}
	c.cond.Broadcast()
}

// maxInWindow is the largest number of arrivals in any window [t, t+w) of fake time.
func maxInWindow(arrivals []time.Duration, w time.Duration) int {
	a := slices.Sorted(slices.Values(arrivals))
	best, j := 0, 0
	for i := range a {
		for a[i]-a[j] >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// rlFakeClockServer records the fake time of every arrival, per route.
func rlFakeClockServer(t *testing.T, clk *rlClock, merchants *[]time.Duration) string {
	t.Helper()
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		clk.arrive()
		coWriteJSON(w, http.StatusOK, coRequestJSON(jopay.StatusOpened, jopay.ProofStatusNone))
	})
	mux.HandleFunc("POST /api/v1/merchants", func(w http.ResponseWriter, r *http.Request) {
		now := clk.Now().Sub(clk.start)
		mu.Lock()
		*merchants = append(*merchants, now)
		mu.Unlock()
		clk.arrive()
		coWriteJSON(w, http.StatusOK, coMerchantJSON)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/api/v1"
}

// rlRun runs calls concurrently under the fake clock and returns once all have finished.
func rlRun(t *testing.T, clk *rlClock, calls []func() error) {
	t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for _, call := range calls {
		clk.begin()
		wg.Go(func() {
			err := call()
			if err != nil {
				failed.Add(1)
				t.Errorf("call: %v", err)
			}
			clk.end(err == nil)
		})
	}
	done := make(chan struct{})
	go func() {
		clk.drive()
		close(done)
	}()
	watchdog := time.AfterFunc(2*time.Minute, func() { clk.stop("watchdog: the calls did not finish") })
	<-done
	watchdog.Stop()
	clk.mu.Lock()
	broken := clk.broken
	clk.mu.Unlock()
	require.Empty(t, broken)
	wg.Wait()
	require.Zero(t, failed.Load(), "every call completes")
}

func (c *rlClock) snapshot() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.arrivals)
}

// JoPay's default limiter keeps 200 concurrent calls within its rate (fake clock): no 60-second
// window of fake time holds more than 60 arrivals, and all 200 complete.
func TestDefaultLimiterKeeps200ConcurrentCallsWithinRate(t *testing.T) {
	clk := newRLClock()
	var merchants []time.Duration
	base := rlFakeClockServer(t, clk, &merchants)
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(base), jopay.WithTestClock(clk.clock()))
	require.NoError(t, err)
	calls := make([]func() error, 200)
	for i := range calls {
		calls[i] = func() error {
			_, err := c.GetRequest(context.Background(), coRequestID)
			return err
		}
	}
	rlRun(t, clk, calls)
	arrivals := clk.snapshot()
	require.Len(t, arrivals, 200)
	assert.LessOrEqual(t, maxInWindow(arrivals, time.Minute), jopay.RateLimitPerMinute)
	assert.Equal(t, jopay.RateLimitPerMinute, maxInWindow(arrivals, time.Minute), "the limiter uses its whole quota")
	// 200 calls at one per second take 199 s of fake time (x/time/rate's float arithmetic adds
	// well under a millisecond).
	assert.InDelta(t, float64(199*time.Second), float64(slices.Max(arrivals)), float64(time.Millisecond))
}

// CreateMerchant keeps to 30 per minute on its own bucket (fake clock): 100 concurrent creates
// never put more than 30 into a 60-second window, and all complete.
func TestDefaultLimiterMerchantsRoute(t *testing.T) {
	clk := newRLClock()
	var merchants []time.Duration
	base := rlFakeClockServer(t, clk, &merchants)
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(base), jopay.WithTestClock(clk.clock()))
	require.NoError(t, err)
	calls := make([]func() error, 100)
	for i := range calls {
		calls[i] = func() error {
			_, err := c.CreateMerchant(context.Background(), jopay.CreateMerchantParams{BusinessName: "Acme"})
			return err
		}
	}
	rlRun(t, clk, calls)
	require.Len(t, merchants, 100)
	assert.LessOrEqual(t, maxInWindow(merchants, time.Minute), jopay.CreateMerchantRateLimitPerMinute)
	assert.Equal(t, jopay.CreateMerchantRateLimitPerMinute, maxInWindow(merchants, time.Minute), "the limiter uses its whole quota")
}

// Creates and reads together keep to both limits: a create is admitted on the key's quota and
// its own at one instant, so it can never arrive later than its admission next to reads
// admitted after it (which let 61 requests into one minute when the two were waited on one
// after the other).
func TestDefaultLimiterMixedLoad(t *testing.T) {
	clk := newRLClock()
	var merchants []time.Duration
	base := rlFakeClockServer(t, clk, &merchants)
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(base), jopay.WithTestClock(clk.clock()))
	require.NoError(t, err)
	var calls []func() error
	for range 80 {
		calls = append(calls, func() error {
			_, err := c.CreateMerchant(context.Background(), jopay.CreateMerchantParams{BusinessName: "Acme"})
			return err
		}, func() error {
			_, err := c.GetRequest(context.Background(), coRequestID)
			return err
		})
	}
	rlRun(t, clk, calls)
	require.Len(t, merchants, 80)
	require.Len(t, clk.snapshot(), 160)
	assert.LessOrEqual(t, maxInWindow(merchants, time.Minute), jopay.CreateMerchantRateLimitPerMinute)
	assert.LessOrEqual(t, maxInWindow(clk.snapshot(), time.Minute), jopay.RateLimitPerMinute)
}

// A call whose deadline comes before the limiter's next slot fails at once with
// ErrRateLimited, sending nothing; WithRateLimiter(nil) turns the default limits off.
func TestDefaultLimiterRefusesWaitPastDeadline(t *testing.T) {
	var n atomic.Int32
	base := rlServer(t, 0, &n)
	now := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
	var sleeps atomic.Int32
	clk := ratelimit.Clock{
		Now:   func() time.Time { return now },
		Sleep: func(context.Context, time.Duration) error { sleeps.Add(1); return errors.New("must not sleep") },
	}
	c, err := jopay.NewClient(testKey, jopay.WithBaseURL(base), jopay.WithTestClock(clk))
	require.NoError(t, err)
	_, err = c.GetRequest(context.Background(), coRequestID)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var info paykit.ResponseInfo
	_, err = c.GetRequest(ctx, coRequestID, paykit.WithResponseInfo(&info))
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.NoError(t, ctx.Err(), "the call failed at once, not at the deadline")
	assert.Equal(t, int32(1), n.Load(), "the second call sent nothing")
	assert.Zero(t, sleeps.Load())
	assert.Zero(t, info.Attempts)

	off, err := jopay.NewClient(testKey, jopay.WithBaseURL(base), jopay.WithTestClock(clk), jopay.WithRateLimiter(nil))
	require.NoError(t, err)
	for range 5 {
		_, err := off.GetRequest(ctx, coRequestID)
		require.NoError(t, err)
		_, err = off.CreateMerchant(ctx, jopay.CreateMerchantParams{})
		require.NoError(t, err)
	}
	assert.Equal(t, int32(11), n.Load())
	assert.Zero(t, sleeps.Load())
}
