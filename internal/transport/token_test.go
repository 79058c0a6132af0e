package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
	if fetches.Load() != 1 {
		t.Fatalf("%d logins for %d concurrent callers, want 1", fetches.Load(), workers)
	}
	for i := range workers {
		if errs[i] != nil || tokens[i] != "jwt-1" {
			t.Fatalf("caller %d got %q, %v", i, tokens[i], errs[i])
		}
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
		if err != nil || got != s.want {
			t.Fatalf("at +%v: got %q, %v; want %q", s.at, got, err, s.want)
		}
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
		if got, err := cache.Token(ctx); err != nil || got != s.want {
			t.Fatalf("at +%v: got %q, %v; want %q", s.at, got, err, s.want)
		}
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
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter got %v, want its own deadline", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("waiter returned after %v", waited)
	}
	close(release)
	if err := <-leader; err != nil {
		t.Fatalf("leader: %v", err)
	}
	// The login the waiter gave up on still filled the cache.
	if got, err := cache.Token(context.Background()); got != "jwt-1" || err != nil {
		t.Fatalf("got %q, %v", got, err)
	}
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
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader got %v, want context.Canceled", err)
	}
	wg.Wait()
	for i := range waiters {
		if errs[i] != nil || results[i] != "jwt-2" {
			t.Fatalf("waiter %d got %q, %v; want a fresh login under its own context", i, results[i], errs[i])
		}
	}
	if fetches.Load() != 2 {
		t.Fatalf("%d logins, want 2 (the cancelled one and one retry)", fetches.Load())
	}
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
	if _, err := cache.Token(ctx); err == nil || err.Error() != "ACCESS_DENIED" {
		t.Fatalf("got %v", err)
	}
	if _, err := cache.Token(ctx); err == nil || err.Error() != "login returned an empty token" {
		t.Fatalf("got %v", err)
	}
	// Failures are not cached.
	if got, err := cache.Token(ctx); got != "jwt-3" || err != nil {
		t.Fatalf("got %q, %v", got, err)
	}
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
		if err == nil {
			t.Fatal("waiter got no error from a login that panicked")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter stuck behind a login that panicked")
	}
	if got, err := cache.Token(context.Background()); got != "jwt-2" || err != nil {
		t.Fatalf("after the panic: %q, %v", got, err)
	}
}

func TestTokenCacheInvalidate(t *testing.T) {
	var fetches atomic.Int64
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		return fmt.Sprintf("jwt-%d", fetches.Add(1)), time.Time{}, nil
	}, 0, nil)
	ctx := context.Background()
	tok, _ := cache.Token(ctx)
	cache.Invalidate("jwt-old") // not the cached one: ignored
	if got, _ := cache.Token(ctx); got != tok {
		t.Fatalf("invalidating another token dropped the cached one: %q", got)
	}
	cache.Invalidate(tok)
	if got, _ := cache.Token(ctx); got != "jwt-2" {
		t.Fatalf("after Invalidate got %q, want a new login", got)
	}
}
