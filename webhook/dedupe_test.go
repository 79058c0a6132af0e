package webhook_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paykit-go/paykit/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testClock is a settable clock safe for concurrent use.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Unix(1767225600, 0)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestDeduperRunsOnceThenDuplicate(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	runs := 0
	fn := func(context.Context) error { runs++; return nil }
	require.NoError(t, d.Do(ctx, "evt_1", fn), "first Do")
	require.ErrorIs(t, d.Do(ctx, "evt_1", fn), webhook.ErrDuplicate, "second Do")
	require.NoError(t, d.Do(ctx, "evt_2", fn), "other id")
	require.Equal(t, 2, runs, "fn runs")
}

func TestDeduperFailedHandlerRunsAgainOnRedelivery(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	boom := errors.New("database unavailable")
	runs := 0
	fail := func(context.Context) error { runs++; return boom }
	ok := func(context.Context) error { runs++; return nil }

	err := d.Do(ctx, "evt", fail)
	require.ErrorIs(t, err, boom, "Do(fail): want the handler's error")
	require.Equal(t, http.StatusInternalServerError, webhook.StatusCode(d.Do(ctx, "evt", fail)), "status of a handler error")
	require.NoError(t, d.Do(ctx, "evt", ok), "redelivery after failures")
	require.ErrorIs(t, d.Do(ctx, "evt", ok), webhook.ErrDuplicate, "after success")
	require.Equal(t, 3, runs, "fn runs")
}

func TestDeduperEmptyID(t *testing.T) {
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	called := false
	err := d.Do(context.Background(), "", func(context.Context) error { called = true; return nil })
	require.ErrorIs(t, err, webhook.ErrEmptyEventID, "Do(\"\")")
	require.False(t, called, "Do(\"\") ran fn")
}

func TestDeduperInFlight(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- d.Do(ctx, "evt", func(context.Context) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	require.ErrorIs(t, d.Do(ctx, "evt", func(context.Context) error { assert.Fail(t, "ran concurrently"); return nil }), webhook.ErrInFlight, "concurrent Do")
	close(release)
	require.NoError(t, <-done)
	require.ErrorIs(t, d.Do(ctx, "evt", func(context.Context) error { return nil }), webhook.ErrDuplicate, "after completion")
}

func TestDeduperConcurrentSameID(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	const goroutines = 64
	var runs atomic.Int32
	results := make(chan error, goroutines)
	start := make(chan struct{})
	for i := 0; i < goroutines; i++ {
		go func() {
			<-start
			results <- d.Do(ctx, "evt_same", func(context.Context) error {
				runs.Add(1)
				time.Sleep(time.Millisecond) // widen the window for overlap
				return nil
			})
		}()
	}
	close(start)
	var ok, dup, inflight int
	for i := 0; i < goroutines; i++ {
		switch err := <-results; {
		case err == nil:
			ok++
		case errors.Is(err, webhook.ErrDuplicate):
			dup++
		case errors.Is(err, webhook.ErrInFlight):
			inflight++
		default:
			require.Failf(t, "unexpected error", "%v", err)
		}
	}
	require.Equal(t, int32(1), runs.Load(), "runs, want fn once")
	require.Equal(t, 1, ok, "ok=%d dup=%d inflight=%d", ok, dup, inflight)
	require.Equal(t, goroutines-1, dup+inflight, "ok=%d dup=%d inflight=%d", ok, dup, inflight)
}

// Redelivery loop: every worker keeps retrying (as a provider would) until the event is
// acknowledged; handlers fail at random. The event must be processed successfully exactly once.
// The retries are bounded by a deadline, so a Deduper that never frees a failed claim fails the
// test with a message instead of spinning until the test binary's timeout.
func TestDeduperConcurrentRedeliveryWithFailures(t *testing.T) {
	testConcurrentRedelivery(t, webhook.NewMemoryStore())
}

// A store whose Release reports success without releasing (release-on-failure broken): the
// redelivery loop must end at its deadline with a clear failure.
func TestRedeliveryLoopEndsAtDeadline(t *testing.T) {
	ft := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		redeliver(ft, webhook.NewDeduper(noReleaseStore{webhook.NewMemoryStore()}), "evt", 200*time.Millisecond,
			func(context.Context) error { return errors.New("transient") })
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		require.FailNow(t, "redeliver did not stop at its deadline")
	}
	require.Len(t, ft.errs, 1, "want one error about the event not being acknowledged")
	require.Contains(t, ft.errs[0], "not acknowledged")
}

// fakeT records Errorf calls.
type fakeT struct {
	mu   sync.Mutex
	errs []string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

// noReleaseStore claims and completes normally but never frees a failed claim.
type noReleaseStore struct{ webhook.Store }

func (noReleaseStore) Release(context.Context, string, string) error { return nil }

func testConcurrentRedelivery(t *testing.T, store webhook.Store) {
	d := webhook.NewDeduper(store)
	for ev := 0; ev < 50; ev++ {
		id := fmt.Sprintf("evt_%d", ev)
		var successes, attempts atomic.Int32
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				redeliver(t, d, id, 10*time.Second, func(context.Context) error {
					if attempts.Add(1)%3 != 0 { // two of three attempts fail
						return errors.New("transient")
					}
					successes.Add(1)
					return nil
				})
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		require.Equal(t, int32(1), successes.Load(), "%s: handler successes", id)
	}
}

// redeliver calls d.Do like a provider redelivering id until it is acknowledged (200), and
// reports an error if that has not happened by the deadline.
func redeliver(t interface {
	Helper()
	Errorf(string, ...any)
}, d *webhook.Deduper, id string, within time.Duration, fn func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for tries := 1; ; tries++ {
		last = d.Do(context.Background(), id, fn)
		if webhook.StatusCode(last) == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s not acknowledged after %d deliveries in %v; last result: %v (status %d)",
				id, tries, within, last, webhook.StatusCode(last))
			return
		}
		runtime.Gosched()
	}
}

func TestDeduperLeaseTakeoverAfterCrash(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	store := webhook.NewMemoryStore()
	d := webhook.NewDeduper(store, webhook.WithLease(time.Minute), webhook.WithDedupeClock(clock.Now))

	// A worker claimed the event and crashed: its claim stays until the lease ends.
	r, err := store.Claim(ctx, "evt", "crashed-worker", clock.Now(), time.Minute)
	require.NoError(t, err, "Claim")
	require.Equal(t, webhook.Claimed, r, "Claim")
	runs := 0
	fn := func(context.Context) error { runs++; return nil }
	clock.Advance(59 * time.Second)
	require.ErrorIs(t, d.Do(ctx, "evt", fn), webhook.ErrInFlight, "before lease end")
	clock.Advance(time.Second)
	require.NoError(t, d.Do(ctx, "evt", fn), "after lease end")
	require.Equal(t, 1, runs, "runs")
	// The crashed worker coming back cannot overwrite the new outcome.
	require.ErrorIs(t, store.Complete(ctx, "evt", "crashed-worker", clock.Now(), time.Hour), webhook.ErrClaimLost, "stale Complete")
}

func TestDeduperSlowHandlerLosesItsClaim(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	d := webhook.NewDeduper(webhook.NewMemoryStore(), webhook.WithLease(time.Minute), webhook.WithDedupeClock(clock.Now))
	var inner error
	err := d.Do(ctx, "evt", func(context.Context) error {
		clock.Advance(2 * time.Minute)                                       // outlives its lease ...
		inner = d.Do(ctx, "evt", func(context.Context) error { return nil }) // ... and is taken over
		return nil
	})
	require.NoError(t, inner, "takeover Do")
	require.ErrorIs(t, err, webhook.ErrClaimLost, "slow Do")
	require.Equal(t, http.StatusInternalServerError, webhook.StatusCode(err), "slow Do status")
	require.ErrorIs(t, d.Do(ctx, "evt", func(context.Context) error { return nil }), webhook.ErrDuplicate, "after takeover completed")
}

func TestDeduperRetention(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	d := webhook.NewDeduper(webhook.NewMemoryStore(), webhook.WithRetention(time.Hour), webhook.WithDedupeClock(clock.Now))
	runs := 0
	fn := func(context.Context) error { runs++; return nil }
	require.NoError(t, d.Do(ctx, "evt", fn))
	clock.Advance(time.Hour - time.Second)
	require.ErrorIs(t, d.Do(ctx, "evt", fn), webhook.ErrDuplicate, "within retention")
	clock.Advance(time.Second)
	err := d.Do(ctx, "evt", fn)
	require.NoError(t, err, "after retention: want a fresh run")
	require.Equal(t, 2, runs, "runs")
}

func TestDeduperPanicReleasesClaim(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	func() {
		defer func() {
			require.Equal(t, "handler bug", recover(), "recovered want the handler's panic")
		}()
		_ = d.Do(ctx, "evt", func(context.Context) error { panic("handler bug") })
		require.FailNow(t, "Do returned instead of panicking")
	}()
	ran := false
	require.NoError(t, d.Do(ctx, "evt", func(context.Context) error { ran = true; return nil }), "after panic")
	require.True(t, ran, "after panic: want a fresh run")
}

// recordingStore wraps a Store, records the context state it sees and can inject errors.
type recordingStore struct {
	webhook.Store
	claimErr, completeErr, releaseErr error
	result                            webhook.ClaimResult
	releases                          int
	finishCtxErr                      []error
}

func (s *recordingStore) Claim(ctx context.Context, id, token string, now time.Time, lease time.Duration) (webhook.ClaimResult, error) {
	if s.claimErr != nil || s.result != 0 {
		return s.result, s.claimErr
	}
	return s.Store.Claim(ctx, id, token, now, lease)
}

func (s *recordingStore) Complete(ctx context.Context, id, token string, now time.Time, retention time.Duration) error {
	s.finishCtxErr = append(s.finishCtxErr, ctx.Err())
	if s.completeErr != nil {
		return s.completeErr
	}
	return s.Store.Complete(ctx, id, token, now, retention)
}

func (s *recordingStore) Release(ctx context.Context, id, token string) error {
	s.releases++
	s.finishCtxErr = append(s.finishCtxErr, ctx.Err())
	if s.releaseErr != nil {
		return s.releaseErr
	}
	return s.Store.Release(ctx, id, token)
}

func TestDeduperStoreFailures(t *testing.T) {
	storeDown := errors.New("store down")
	handlerErr := errors.New("handler failed")
	ok := func(context.Context) error { return nil }
	fail := func(context.Context) error { return handlerErr }

	t.Run("claim error: fn not run", func(t *testing.T) {
		s := &recordingStore{Store: webhook.NewMemoryStore(), claimErr: storeDown}
		ran := false
		err := webhook.NewDeduper(s).Do(context.Background(), "evt", func(context.Context) error { ran = true; return nil })
		require.ErrorIs(t, err, storeDown)
		require.False(t, ran, "fn ran")
		require.Equal(t, 500, webhook.StatusCode(err))
	})
	t.Run("invalid claim result", func(t *testing.T) {
		s := &recordingStore{Store: webhook.NewMemoryStore(), result: webhook.ClaimResult(42)}
		err := webhook.NewDeduper(s).Do(context.Background(), "evt", ok)
		require.Error(t, err)
		require.Equal(t, 500, webhook.StatusCode(err))
	})
	t.Run("complete error after success: reported and released", func(t *testing.T) {
		mem := webhook.NewMemoryStore()
		s := &recordingStore{Store: mem, completeErr: storeDown}
		d := webhook.NewDeduper(s)
		err := d.Do(context.Background(), "evt", ok)
		require.ErrorIs(t, err, storeDown)
		require.Equal(t, 500, webhook.StatusCode(err))
		require.Equal(t, 1, s.releases, "releases (best effort)")
		// The redelivery runs the handler again rather than waiting for the lease.
		s.completeErr = nil
		require.NoError(t, d.Do(context.Background(), "evt", ok), "redelivery")
	})
	t.Run("release error: handler error still visible", func(t *testing.T) {
		s := &recordingStore{Store: webhook.NewMemoryStore(), releaseErr: storeDown}
		err := webhook.NewDeduper(s).Do(context.Background(), "evt", fail)
		require.ErrorIs(t, err, handlerErr)
		require.ErrorIs(t, err, storeDown)
	})
	t.Run("outcome recorded after the request context is cancelled", func(t *testing.T) {
		s := &recordingStore{Store: webhook.NewMemoryStore()}
		d := webhook.NewDeduper(s)
		for i, fn := range []func(context.Context) error{ok, fail} {
			ctx, cancel := context.WithCancel(context.Background())
			_ = d.Do(ctx, fmt.Sprint("evt", i), func(ctx context.Context) error {
				cancel() // the provider hung up while we worked
				return fn(ctx)
			})
		}
		require.Len(t, s.finishCtxErr, 2)
		require.NoError(t, s.finishCtxErr[0], "Complete saw a context error, want a live context")
		require.NoError(t, s.finishCtxErr[1], "Release saw a context error, want a live context")
	})
}

func TestDeduperTokensAreUnique(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	s := &tokenStore{Store: webhook.NewMemoryStore(), seen: seen, mu: &mu}
	d1, d2 := webhook.NewDeduper(s), webhook.NewDeduper(s)
	for i := 0; i < 100; i++ {
		_ = d1.Do(context.Background(), fmt.Sprint("a", i), func(context.Context) error { return nil })
		_ = d2.Do(context.Background(), fmt.Sprint("b", i), func(context.Context) error { return nil })
	}
	require.Len(t, seen, 200, "%d distinct tokens for 200 claims", len(seen))
}

type tokenStore struct {
	webhook.Store
	mu   *sync.Mutex
	seen map[string]bool
}

func (s *tokenStore) Claim(ctx context.Context, id, token string, now time.Time, lease time.Duration) (webhook.ClaimResult, error) {
	s.mu.Lock()
	s.seen[token] = true
	s.mu.Unlock()
	return s.Store.Claim(ctx, id, token, now, lease)
}

func TestNewDeduperNilStorePanics(t *testing.T) {
	defer func() {
		require.NotNil(t, recover(), "NewDeduper(nil) did not panic")
	}()
	webhook.NewDeduper(nil)
}

func TestClaimResultString(t *testing.T) {
	for r, want := range map[webhook.ClaimResult]string{
		webhook.Claimed: "claimed", webhook.Duplicate: "duplicate", webhook.InFlight: "in_flight",
		webhook.ClaimResult(0): "ClaimResult(0)",
	} {
		assert.Equal(t, want, r.String(), "%d.String()", int(r))
	}
}

// The regressions behind "saturate huge durations": WithRetention(math.MaxInt64) forgot an id at
// once and WithLease(math.MaxInt64) let a concurrent delivery in.
func TestDeduperHugeDurations(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore(), webhook.WithRetention(math.MaxInt64), webhook.WithLease(math.MaxInt64))
	require.NoError(t, d.Do(ctx, "evt", func(context.Context) error { return nil }))
	require.ErrorIs(t, d.Do(ctx, "evt", func(context.Context) error { return nil }), webhook.ErrDuplicate, "after completion with retention forever")
	err := d.Do(ctx, "evt2", func(context.Context) error {
		inner := d.Do(ctx, "evt2", func(context.Context) error { assert.Fail(t, "ran concurrently"); return nil })
		assert.ErrorIs(t, inner, webhook.ErrInFlight, "concurrent delivery under a lease of forever")
		return nil
	})
	require.NoError(t, err)
}

func TestStoreKey(t *testing.T) {
	long := strings.Repeat("x", 1025)
	verbatim := []string{"evt_1", "ünïcødé 😀", "quote'\"\\;--", strings.Repeat("x", 1024), "sha256:abc", "paykit:sha256"}
	for _, id := range verbatim {
		got := webhook.StoreKey(id)
		assert.Equal(t, id, got, "StoreKey(%.40q) = %.40q, want the id itself", id, got)
	}
	digested := []string{long, "a\x00b", "\xff", "ok\xc3", webhook.StoreKeyDigestPrefix, webhook.StoreKeyDigestPrefix + "evt_1",
		webhook.StoreKey(long)}
	seen := map[string]string{}
	for _, id := range digested {
		got := webhook.StoreKey(id)
		sum := sha256.Sum256([]byte(id))
		assert.Equal(t, webhook.StoreKeyDigestPrefix+hex.EncodeToString(sum[:]), got, "StoreKey(%.40q)", id)
		prev, dup := seen[got]
		assert.False(t, dup, "StoreKey(%.40q) = StoreKey(%.40q)", id, prev)
		seen[got] = id
		assert.Len(t, got, 78, "StoreKey(%.40q)", id)
		assert.True(t, utf8.ValidString(got), "StoreKey(%.40q) = %q: want text", id, got)
	}
	// A literal id equal to another id's digest key is digested again, so the two differ.
	k := webhook.StoreKey(long)
	assert.NotEqual(t, k, webhook.StoreKey(k), "StoreKey(StoreKey(long)) = StoreKey(long): a literal id collides with a digest")
}

func FuzzStoreKey(f *testing.F) {
	for _, s := range []string{"evt_1", "", "a\x00b", "\xff", webhook.StoreKeyDigestPrefix, strings.Repeat("é", 513)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		k := webhook.StoreKey(id)
		require.True(t, utf8.ValidString(k), "StoreKey(%q) = %q: not text", id, k)
		require.NotContains(t, k, "\x00", "StoreKey(%q)", id)
		require.LessOrEqual(t, len(k), 1024, "StoreKey(%q) = %q: not short", id, k)
		// Injective: a verbatim key is the id itself, a digest key never equals a verbatim one.
		if strings.HasPrefix(k, webhook.StoreKeyDigestPrefix) {
			sum := sha256.Sum256([]byte(id))
			require.Equal(t, webhook.StoreKeyDigestPrefix+hex.EncodeToString(sum[:]), k, "StoreKey(%q) = %q, not the id's digest", id, k)
		} else {
			require.Equal(t, id, k, "StoreKey(%q) is neither the id nor a digest", id)
		}
	})
}
