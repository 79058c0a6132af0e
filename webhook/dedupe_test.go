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
	if err := d.Do(ctx, "evt_1", fn); err != nil {
		t.Fatalf("first Do: %v", err)
	}
	if err := d.Do(ctx, "evt_1", fn); !errors.Is(err, webhook.ErrDuplicate) {
		t.Fatalf("second Do = %v, want ErrDuplicate", err)
	}
	if err := d.Do(ctx, "evt_2", fn); err != nil {
		t.Fatalf("other id: %v", err)
	}
	if runs != 2 {
		t.Fatalf("fn ran %d times, want 2", runs)
	}
}

func TestDeduperFailedHandlerRunsAgainOnRedelivery(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	boom := errors.New("database unavailable")
	runs := 0
	fail := func(context.Context) error { runs++; return boom }
	ok := func(context.Context) error { runs++; return nil }

	if err := d.Do(ctx, "evt", fail); !errors.Is(err, boom) {
		t.Fatalf("Do(fail) = %v, want the handler's error", err)
	}
	if got := webhook.StatusCode(d.Do(ctx, "evt", fail)); got != http.StatusInternalServerError {
		t.Fatalf("status of a handler error = %d, want 500", got)
	}
	if err := d.Do(ctx, "evt", ok); err != nil {
		t.Fatalf("redelivery after failures: %v", err)
	}
	if err := d.Do(ctx, "evt", ok); !errors.Is(err, webhook.ErrDuplicate) {
		t.Fatalf("after success = %v, want ErrDuplicate", err)
	}
	if runs != 3 {
		t.Fatalf("fn ran %d times, want 3", runs)
	}
}

func TestDeduperEmptyID(t *testing.T) {
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	called := false
	err := d.Do(context.Background(), "", func(context.Context) error { called = true; return nil })
	if !errors.Is(err, webhook.ErrEmptyEventID) || called {
		t.Fatalf("Do(\"\") = %v (called=%v), want ErrEmptyEventID without running fn", err, called)
	}
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
	if err := d.Do(ctx, "evt", func(context.Context) error { t.Error("ran concurrently"); return nil }); !errors.Is(err, webhook.ErrInFlight) {
		t.Fatalf("concurrent Do = %v, want ErrInFlight", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := d.Do(ctx, "evt", func(context.Context) error { return nil }); !errors.Is(err, webhook.ErrDuplicate) {
		t.Fatalf("after completion = %v, want ErrDuplicate", err)
	}
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
			t.Fatalf("unexpected error %v", err)
		}
	}
	if runs.Load() != 1 || ok != 1 || dup+inflight != goroutines-1 {
		t.Fatalf("runs=%d ok=%d dup=%d inflight=%d, want fn once", runs.Load(), ok, dup, inflight)
	}
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
		t.Fatal("redeliver did not stop at its deadline")
	}
	if len(ft.errs) != 1 || !strings.Contains(ft.errs[0], "not acknowledged") {
		t.Fatalf("errors = %q, want one about the event not being acknowledged", ft.errs)
	}
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
		if successes.Load() != 1 {
			t.Fatalf("%s: handler succeeded %d times, want exactly 1", id, successes.Load())
		}
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
	if r, err := store.Claim(ctx, "evt", "crashed-worker", clock.Now(), time.Minute); err != nil || r != webhook.Claimed {
		t.Fatalf("Claim = %v, %v", r, err)
	}
	runs := 0
	fn := func(context.Context) error { runs++; return nil }
	clock.Advance(59 * time.Second)
	if err := d.Do(ctx, "evt", fn); !errors.Is(err, webhook.ErrInFlight) {
		t.Fatalf("before lease end = %v, want ErrInFlight", err)
	}
	clock.Advance(time.Second)
	if err := d.Do(ctx, "evt", fn); err != nil {
		t.Fatalf("after lease end = %v, want takeover", err)
	}
	if runs != 1 {
		t.Fatalf("runs = %d, want 1", runs)
	}
	// The crashed worker coming back cannot overwrite the new outcome.
	if err := store.Complete(ctx, "evt", "crashed-worker", clock.Now(), time.Hour); !errors.Is(err, webhook.ErrClaimLost) {
		t.Fatalf("stale Complete = %v, want ErrClaimLost", err)
	}
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
	if inner != nil {
		t.Fatalf("takeover Do = %v, want nil", inner)
	}
	if !errors.Is(err, webhook.ErrClaimLost) || webhook.StatusCode(err) != http.StatusInternalServerError {
		t.Fatalf("slow Do = %v, want ErrClaimLost answered 500", err)
	}
	if err := d.Do(ctx, "evt", func(context.Context) error { return nil }); !errors.Is(err, webhook.ErrDuplicate) {
		t.Fatalf("after takeover completed = %v, want ErrDuplicate", err)
	}
}

func TestDeduperRetention(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	d := webhook.NewDeduper(webhook.NewMemoryStore(), webhook.WithRetention(time.Hour), webhook.WithDedupeClock(clock.Now))
	runs := 0
	fn := func(context.Context) error { runs++; return nil }
	if err := d.Do(ctx, "evt", fn); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour - time.Second)
	if err := d.Do(ctx, "evt", fn); !errors.Is(err, webhook.ErrDuplicate) {
		t.Fatalf("within retention = %v, want ErrDuplicate", err)
	}
	clock.Advance(time.Second)
	if err := d.Do(ctx, "evt", fn); err != nil {
		t.Fatalf("after retention = %v, want a fresh run", err)
	}
	if runs != 2 {
		t.Fatalf("runs = %d, want 2", runs)
	}
}

func TestDeduperPanicReleasesClaim(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	func() {
		defer func() {
			if r := recover(); r != "handler bug" {
				t.Fatalf("recovered %v, want the handler's panic", r)
			}
		}()
		_ = d.Do(ctx, "evt", func(context.Context) error { panic("handler bug") })
		t.Fatal("Do returned instead of panicking")
	}()
	ran := false
	if err := d.Do(ctx, "evt", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("after panic: err=%v ran=%v, want a fresh run", err, ran)
	}
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
		if !errors.Is(err, storeDown) || ran || webhook.StatusCode(err) != 500 {
			t.Fatalf("err=%v ran=%v, want wrapped store error, fn not run, 500", err, ran)
		}
	})
	t.Run("invalid claim result", func(t *testing.T) {
		s := &recordingStore{Store: webhook.NewMemoryStore(), result: webhook.ClaimResult(42)}
		if err := webhook.NewDeduper(s).Do(context.Background(), "evt", ok); err == nil || webhook.StatusCode(err) != 500 {
			t.Fatalf("err = %v, want an error answered 500", err)
		}
	})
	t.Run("complete error after success: reported and released", func(t *testing.T) {
		mem := webhook.NewMemoryStore()
		s := &recordingStore{Store: mem, completeErr: storeDown}
		d := webhook.NewDeduper(s)
		err := d.Do(context.Background(), "evt", ok)
		if !errors.Is(err, storeDown) || webhook.StatusCode(err) != 500 {
			t.Fatalf("err = %v, want wrapped store error answered 500", err)
		}
		if s.releases != 1 {
			t.Fatalf("releases = %d, want 1 (best effort)", s.releases)
		}
		// The redelivery runs the handler again rather than waiting for the lease.
		s.completeErr = nil
		if err := d.Do(context.Background(), "evt", ok); err != nil {
			t.Fatalf("redelivery: %v", err)
		}
	})
	t.Run("release error: handler error still visible", func(t *testing.T) {
		s := &recordingStore{Store: webhook.NewMemoryStore(), releaseErr: storeDown}
		err := webhook.NewDeduper(s).Do(context.Background(), "evt", fail)
		if !errors.Is(err, handlerErr) || !errors.Is(err, storeDown) {
			t.Fatalf("err = %v, want both the handler and the store error", err)
		}
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
		if len(s.finishCtxErr) != 2 || s.finishCtxErr[0] != nil || s.finishCtxErr[1] != nil {
			t.Fatalf("Complete/Release saw context errors %v, want live contexts", s.finishCtxErr)
		}
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
	if len(seen) != 200 {
		t.Fatalf("%d distinct tokens for 200 claims", len(seen))
	}
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
		if recover() == nil {
			t.Fatal("NewDeduper(nil) did not panic")
		}
	}()
	webhook.NewDeduper(nil)
}

func TestClaimResultString(t *testing.T) {
	for r, want := range map[webhook.ClaimResult]string{
		webhook.Claimed: "claimed", webhook.Duplicate: "duplicate", webhook.InFlight: "in_flight",
		webhook.ClaimResult(0): "ClaimResult(0)",
	} {
		if got := r.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(r), got, want)
		}
	}
}

// The regressions behind "saturate huge durations": WithRetention(math.MaxInt64) forgot an id at
// once and WithLease(math.MaxInt64) let a concurrent delivery in.
func TestDeduperHugeDurations(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore(), webhook.WithRetention(math.MaxInt64), webhook.WithLease(math.MaxInt64))
	if err := d.Do(ctx, "evt", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := d.Do(ctx, "evt", func(context.Context) error { return nil }); !errors.Is(err, webhook.ErrDuplicate) {
		t.Fatalf("after completion with retention forever = %v, want ErrDuplicate", err)
	}
	err := d.Do(ctx, "evt2", func(context.Context) error {
		inner := d.Do(ctx, "evt2", func(context.Context) error { t.Error("ran concurrently"); return nil })
		if !errors.Is(inner, webhook.ErrInFlight) {
			t.Errorf("concurrent delivery under a lease of forever = %v, want ErrInFlight", inner)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStoreKey(t *testing.T) {
	long := strings.Repeat("x", 1025)
	verbatim := []string{"evt_1", "ünïcødé 😀", "quote'\"\\;--", strings.Repeat("x", 1024), "sha256:abc", "paykit:sha256"}
	for _, id := range verbatim {
		if got := webhook.StoreKey(id); got != id {
			t.Errorf("StoreKey(%.40q) = %.40q, want the id itself", id, got)
		}
	}
	digested := []string{long, "a\x00b", "\xff", "ok\xc3", webhook.StoreKeyDigestPrefix, webhook.StoreKeyDigestPrefix + "evt_1",
		webhook.StoreKey(long)}
	seen := map[string]string{}
	for _, id := range digested {
		got := webhook.StoreKey(id)
		sum := sha256.Sum256([]byte(id))
		if want := webhook.StoreKeyDigestPrefix + hex.EncodeToString(sum[:]); got != want {
			t.Errorf("StoreKey(%.40q) = %q, want %q", id, got, want)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("StoreKey(%.40q) = StoreKey(%.40q)", id, prev)
		}
		seen[got] = id
		if len(got) != 78 || !utf8.ValidString(got) {
			t.Errorf("StoreKey(%.40q) = %q: want 78 bytes of text", id, got)
		}
	}
	// A literal id equal to another id's digest key is digested again, so the two differ.
	if k := webhook.StoreKey(long); webhook.StoreKey(k) == k {
		t.Errorf("StoreKey(StoreKey(long)) = StoreKey(long): a literal id collides with a digest")
	}
}

func FuzzStoreKey(f *testing.F) {
	for _, s := range []string{"evt_1", "", "a\x00b", "\xff", webhook.StoreKeyDigestPrefix, strings.Repeat("é", 513)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		k := webhook.StoreKey(id)
		if !utf8.ValidString(k) || strings.IndexByte(k, 0) >= 0 || len(k) > 1024 {
			t.Fatalf("StoreKey(%q) = %q: not short text", id, k)
		}
		// Injective: a verbatim key is the id itself, a digest key never equals a verbatim one.
		if strings.HasPrefix(k, webhook.StoreKeyDigestPrefix) {
			sum := sha256.Sum256([]byte(id))
			if k != webhook.StoreKeyDigestPrefix+hex.EncodeToString(sum[:]) {
				t.Fatalf("StoreKey(%q) = %q, not the id's digest", id, k)
			}
		} else if k != id {
			t.Fatalf("StoreKey(%q) = %q, neither the id nor a digest", id, k)
		}
	})
}
