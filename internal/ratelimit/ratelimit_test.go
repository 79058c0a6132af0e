package ratelimit

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/paykit-go/paykit"
)

// fakeClock is a clock whose Sleep advances time at once, for sequential tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

func (c *fakeClock) clock() Clock { return Clock{Now: c.Now, Sleep: c.Sleep} }

func TestPerWindowAdmitsNPerSlidingWindow(t *testing.T) {
	for _, n := range []int{60, 30, 7} {
		fc := &fakeClock{now: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
		l := PerWindow(n, time.Minute, fc.clock())
		var at []time.Time
		for i := 0; i < 5*n; i++ {
			require.NoError(t, l.Wait(context.Background()))
			at = append(at, fc.Now())
		}
		// Every window [t, t+1m) starting at an admission holds at most n admissions.
		for i := range at {
			in := 0
			for j := i; j < len(at) && at[j].Before(at[i].Add(time.Minute)); j++ {
				in++
			}
			require.LessOrEqual(t, in, n, "n=%d window from admission %d", n, i)
		}
		// And it is not slower than needed: 5n admissions take (5n-1)·window/n, rounded up to
		// the nanosecond.
		took, ideal := at[len(at)-1].Sub(at[0]), time.Duration(5*n-1)*time.Minute/time.Duration(n)
		assert.GreaterOrEqual(t, took, ideal, "n=%d", n)
		assert.LessOrEqual(t, took, ideal+time.Duration(5*n), "n=%d", n)
	}
}

func TestWaitPastDeadlineIsRateLimited(t *testing.T) {
	fc := &fakeClock{now: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
	l := PerWindow(60, time.Minute, fc.clock())
	require.NoError(t, l.Wait(context.Background())) // takes the only token
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := l.Wait(ctx) // the next token comes in 1 s
	require.ErrorIs(t, err, paykit.ErrRateLimited)
	assert.Less(t, time.Since(start), 50*time.Millisecond, "refused at once, not after sleeping")
	assert.Equal(t, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), fc.Now(), "no time passed")
	// The refused wait took no token: the next caller waits exactly one interval.
	require.NoError(t, l.Wait(context.Background()))
	assert.Equal(t, time.Second, fc.Now().Sub(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)))
}

func TestCancelledWaitReturnsContextError(t *testing.T) {
	l := PerWindow(1, time.Hour, Clock{})
	require.NoError(t, l.Wait(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	err := l.Wait(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, paykit.ErrRateLimited)
}

func TestRealClockPaces(t *testing.T) {
	l := PerWindow(50, time.Second, Clock{}) // one per 20 ms
	start := time.Now()
	for i := 0; i < 4; i++ {
		require.NoError(t, l.Wait(context.Background()))
	}
	assert.GreaterOrEqual(t, time.Since(start), 55*time.Millisecond, "three intervals of 20 ms")
}

func TestRateLimiterInterfaceFits(t *testing.T) {
	var _ paykit.RateLimiter = (*Limiter)(nil)
	var _ paykit.RateLimiter = (*Joint)(nil)
	var _ paykit.RateLimiter = (*rate.Limiter)(nil)
}

// TestJointAdmitsOnBothAtOneInstant drives a key-wide bucket (60/min) and a route bucket
// (30/min) with interleaved requests and checks every sliding window of both, as JoPay counts
// them: all requests against 60, the route's against 30.
func TestJointAdmitsOnBothAtOneInstant(t *testing.T) {
	fc := &fakeClock{now: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
	g := NewGroup(fc.clock())
	key, route := g.PerWindow(60, time.Minute), g.PerWindow(30, time.Minute)
	both := g.All(key, route)
	var all, routed []time.Time
	for i := 0; i < 400; i++ {
		if i%3 == 0 || i > 300 { // bursts of route calls between reads
			require.NoError(t, both.Wait(context.Background()))
			routed = append(routed, fc.Now())
		} else {
			require.NoError(t, key.Wait(context.Background()))
		}
		all = append(all, fc.Now())
	}
	assertWindows(t, all, 60)
	assertWindows(t, routed, 30)
}

func TestJointRefusalTakesNothing(t *testing.T) {
	fc := &fakeClock{now: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}
	g := NewGroup(fc.clock())
	key, route := g.PerWindow(60, time.Minute), g.PerWindow(30, time.Minute)
	require.NoError(t, g.All(key, route).Wait(context.Background()))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, g.All(key, route).Wait(ctx), paykit.ErrRateLimited)
	// The key bucket is free again after its own interval, not the route's.
	start := fc.Now()
	require.NoError(t, key.Wait(context.Background()))
	assert.Equal(t, time.Second, fc.Now().Sub(start))
	assert.Panics(t, func() { NewGroup(Clock{}).All(key) })
}

func assertWindows(t *testing.T, at []time.Time, n int) {
	t.Helper()
	for i := range at {
		in := 0
		for j := i; j < len(at) && at[j].Before(at[i].Add(time.Minute)); j++ {
			in++
		}
		require.LessOrEqual(t, in, n, "window from admission %d", i)
	}
}
