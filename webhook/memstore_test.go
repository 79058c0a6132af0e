package webhook_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/storetest"
)

func TestMemoryStoreContract(t *testing.T) {
	storetest.TestStore(t, func(*testing.T) webhook.Store { return webhook.NewMemoryStore() })
}

func TestMemoryStoreEvictsExpiredEntries(t *testing.T) {
	ctx := context.Background()
	s := webhook.NewMemoryStore()
	t0 := time.Unix(1767225600, 0)
	const n = 20000
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("evt-%d", i)
		if _, err := s.Claim(ctx, id, "tok", t0, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, id, "tok", t0, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got < n/2 {
		t.Fatalf("Len = %d right after %d completions; retained ids were evicted", got, n)
	}
	// Nothing is expired yet: an explicit sweep removes nothing.
	if removed := s.Sweep(t0.Add(time.Hour - time.Second)); removed != 0 {
		t.Fatalf("Sweep before retention end removed %d", removed)
	}
	// After the retention window, new traffic alone must evict the old ids (amortized sweeps):
	// twice as many new ids make every shard sweep at least once, so exactly the live ones stay.
	t1 := t0.Add(2 * time.Hour)
	for i := 0; i < 2*n; i++ {
		id := fmt.Sprintf("late-%d", i)
		if _, err := s.Claim(ctx, id, "tok", t1, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, id, "tok", t1, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != 2*n {
		t.Fatalf("Len = %d after %d expired + %d live ids, want %d", got, n, 2*n, 2*n)
	}
	// An explicit sweep at a time when everything expired empties the store.
	s.Sweep(t1.Add(time.Hour))
	if got := s.Len(); got != 0 {
		t.Fatalf("Len after full sweep = %d, want 0", got)
	}
}

func TestMemoryStoreSweepKeepsLiveEntries(t *testing.T) {
	ctx := context.Background()
	s := webhook.NewMemoryStore()
	t0 := time.Unix(1767225600, 0)
	mustClaim(t, s, "done", "a", t0, webhook.Claimed)
	if err := s.Complete(ctx, "done", "a", t0, time.Hour); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, "crashed", "b", t0, webhook.Claimed)
	mustClaim(t, s, "running", "c", t0.Add(50*time.Second), webhook.Claimed)

	if removed := s.Sweep(t0.Add(time.Minute)); removed != 1 { // only "crashed"'s lease ended
		t.Fatalf("Sweep removed %d, want 1", removed)
	}
	mustClaim(t, s, "done", "x", t0.Add(time.Minute), webhook.Duplicate)
	mustClaim(t, s, "running", "x", t0.Add(time.Minute), webhook.InFlight)
	mustClaim(t, s, "crashed", "x", t0.Add(time.Minute), webhook.Claimed)
}

func mustClaim(t *testing.T, s webhook.Store, id, token string, now time.Time, want webhook.ClaimResult) {
	t.Helper()
	got, err := s.Claim(context.Background(), id, token, now, time.Minute)
	if err != nil || got != want {
		t.Fatalf("Claim(%q) = %v, %v; want %v", id, got, err, want)
	}
}

// Times past 2262 do not fit int64 nanoseconds: they saturate instead of wrapping to 1677, so
// an id retained for an hour in 2200 is forgotten in 2300 while one retained forever is not.
func TestMemoryStoreSaturatesTimesPast2262(t *testing.T) {
	ctx := context.Background()
	s := webhook.NewMemoryStore()
	t2200 := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	t2300 := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	mustClaim(t, s, "hour", "a", t2200, webhook.Claimed)
	if err := s.Complete(ctx, "hour", "a", t2200, time.Hour); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, "forever", "a", t2200, webhook.Claimed)
	if err := s.Complete(ctx, "forever", "a", t2200, math.MaxInt64); err != nil {
		t.Fatal(err)
	}
	if removed := s.Sweep(t2300); removed != 1 {
		t.Fatalf("Sweep in 2300 removed %d, want 1 (the id retained for an hour)", removed)
	}
	mustClaim(t, s, "forever", "b", t2300, webhook.Duplicate)
	mustClaim(t, s, "hour", "b", t2300, webhook.Claimed)
}
