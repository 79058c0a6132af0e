package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTokenCacheSingleFlight(t *testing.T) {
	var fetches atomic.Int64
	release := make(chan struct{})
	cache := NewTokenCache(func(ctx context.Context) (string, time.Time, error) {
		n := fetches.Add(1)
		<-release
		return fmt.Sprintf("jwt-%d", n), time.Now().Add(5 * time.Minute), nil
	}, 0, nil)

	const workers = 100
	var wg sync.WaitGroup
	tokens := make([]string, workers)
	errs := make([]error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[i], errs[i] = cache.Token(context.Background())
		}()
	}
	time.Sleep(20 * time.Millisecond) // let most of them pile up behind the one login
	close(release)
	wg.Wait()
	require.Equal(t, int64(1), fetches.Load(), "logins for %d concurrent callers, want 1", workers)
	for i := range workers {
		require.NoError(t, errs[i], "caller %d got %q, %v", i, tokens[i], errs[i])
		require.Equal(t, "jwt-1", tokens[i], "caller %d got %q, %v", i, tokens[i], errs[i])
	}
}

// fakeClock is a settable clock for the cache.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func TestTokenCacheRefreshesBeforeExpiry(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: t0}
	var fetches atomic.Int64
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		n := fetches.Add(1)
		return fmt.Sprintf("jwt-%d", n), clock.Now().Add(5 * time.Minute), nil
	}, 0, clock.Now)
	ctx := context.Background()

	steps := []struct {
		at   time.Duration // after t0
		want string
	}{
		{0, "jwt-1"},
		{4*time.Minute + 29*time.Second, "jwt-1"},             // 31 s left: still good
		{4*time.Minute + 30*time.Second, "jwt-2"},             // 30 s left: DefaultRefreshSkew, replaced
		{4*time.Minute + 31*time.Second, "jwt-2"},             // the new one lives until 9:30
		{8*time.Minute + 59*time.Second, "jwt-2"},             // 31 s left
		{9*time.Minute + 10*time.Second, "jwt-3"},             // 20 s left
		{9*time.Minute + 10*time.Second + time.Hour, "jwt-4"}, // long expired
	}
	for _, s := range steps {
		clock.Set(t0.Add(s.at))
		got, err := cache.Token(ctx)
		require.NoError(t, err, "at +%v: got %q, %v; want %q", s.at, got, err, s.want)
		require.Equal(t, s.want, got, "at +%v: got %q, %v; want %q", s.at, got, err, s.want)
	}
}

func TestTokenCacheUnknownExpiryAndSkew(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: t0}
	var fetches atomic.Int64
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		return fmt.Sprintf("jwt-%d", fetches.Add(1)), time.Time{}, nil // expiry unknown: 5 min assumed
	}, time.Minute, clock.Now)
	ctx := context.Background()
	for _, s := range []struct {
		at   time.Duration
		want string
	}{{0, "jwt-1"}, {3*time.Minute + 59*time.Second, "jwt-1"}, {4 * time.Minute, "jwt-2"}} {
		clock.Set(t0.Add(s.at))
		got, err := cache.Token(ctx)
		require.NoError(t, err, "at +%v: got %q, %v; want %q", s.at, got, err, s.want)
		require.Equal(t, s.want, got, "at +%v: got %q, %v; want %q", s.at, got, err, s.want)
	}
}

func TestTokenCacheWaiterHonoursOwnContext(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	cache := NewTokenCache(func(ctx context.Context) (string, time.Time, error) {
		close(started)
		<-release
		return "jwt-1", time.Time{}, nil
	}, 0, nil)
	leader := make(chan error, 1)
	go func() {
		_, err := cache.Token(context.Background())
		leader <- err
	}()
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := cache.Token(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "waiter, want its own deadline")
	require.LessOrEqual(t, time.Since(start), time.Second, "waiter returned too late")
	close(release)
	require.NoError(t, <-leader, "leader")
	// The login the waiter gave up on still filled the cache.
	got, err := cache.Token(context.Background())
	require.Equal(t, "jwt-1", got, "got %q, %v", got, err)
	require.NoError(t, err, "got %q, %v", got, err)
}

func TestTokenCacheCancelledLeaderDoesNotPoisonWaiters(t *testing.T) {
	var fetches atomic.Int64
	leaderIn := make(chan struct{})
	cache := NewTokenCache(func(ctx context.Context) (string, time.Time, error) {
		if fetches.Add(1) == 1 {
			close(leaderIn)
			<-ctx.Done() // the leader's login is cut off by its caller
			return "", time.Time{}, ctx.Err()
		}
		return "jwt-2", time.Time{}, nil
	}, 0, nil)

	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := cache.Token(leaderCtx)
		leaderErr <- err
	}()
	<-leaderIn

	const waiters = 10
	var wg sync.WaitGroup
	results := make([]string, waiters)
	errs := make([]error, waiters)
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = cache.Token(context.Background())
		}()
	}
	time.Sleep(20 * time.Millisecond) // the waiters are now queued behind the leader
	cancelLeader()
	require.ErrorIs(t, <-leaderErr, context.Canceled, "leader, want context.Canceled")
	wg.Wait()
	for i := range waiters {
		require.NoError(t, errs[i], "waiter %d got %q, %v; want a fresh login under its own context", i, results[i], errs[i])
		require.Equal(t, "jwt-2", results[i], "waiter %d got %q, %v; want a fresh login under its own context", i, results[i], errs[i])
	}
	require.Equal(t, int64(2), fetches.Load(), "logins, want 2 (the cancelled one and one retry)")
}

func TestTokenCacheLoginErrors(t *testing.T) {
	var fetches atomic.Int64
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		switch fetches.Add(1) {
		case 1:
			return "", time.Time{}, errors.New("ACCESS_DENIED")
		case 2:
			return "", time.Time{}, nil
		}
		return "jwt-3", time.Time{}, nil
	}, 0, nil)
	ctx := context.Background()
	_, err := cache.Token(ctx)
	require.Error(t, err, "got %v", err)
	require.Equal(t, "ACCESS_DENIED", err.Error(), "got %v", err)
	_, err = cache.Token(ctx)
	require.Error(t, err, "got %v", err)
	require.Equal(t, "login returned an empty token", err.Error(), "got %v", err)
	// Failures are not cached.
	got, err := cache.Token(ctx)
	require.Equal(t, "jwt-3", got, "got %q, %v", got, err)
	require.NoError(t, err, "got %q, %v", got, err)
}

func TestTokenCachePanickingLoginReleasesWaiters(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var fetches atomic.Int64
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		if fetches.Add(1) == 1 {
			close(entered)
			<-release
			panic("boom")
		}
		return "jwt-2", time.Time{}, nil
	}, 0, nil)
	go func() {
		defer func() { _ = recover() }()
		_, _ = cache.Token(context.Background())
	}()
	<-entered
	waiter := make(chan error, 1)
	go func() {
		_, err := cache.Token(context.Background())
		waiter <- err
	}()
	time.Sleep(10 * time.Millisecond)
	close(release)
	select {
	case err := <-waiter:
		require.Error(t, err, "waiter got no error from a login that panicked")
	case <-time.After(5 * time.Second):
		t.Fatal("waiter stuck behind a login that panicked")
	}
	got, err := cache.Token(context.Background())
	require.Equal(t, "jwt-2", got, "after the panic: %q, %v", got, err)
	require.NoError(t, err, "after the panic: %q, %v", got, err)
}

func TestTokenCacheInvalidate(t *testing.T) {
	var fetches atomic.Int64
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		return fmt.Sprintf("jwt-%d", fetches.Add(1)), time.Time{}, nil
	}, 0, nil)
	ctx := context.Background()
	tok, _ := cache.Token(ctx)
	cache.Invalidate("jwt-old") // not the cached one: ignored
	got, _ := cache.Token(ctx)
	require.Equal(t, tok, got, "invalidating another token dropped the cached one")
	cache.Invalidate(tok)
	got, _ = cache.Token(ctx)
	require.Equal(t, "jwt-2", got, "after Invalidate, want a new login")
}
