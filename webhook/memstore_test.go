package webhook_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/storetest"
	"github.com/stretchr/testify/require"
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
		_, err := s.Claim(ctx, id, "tok", t0, time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, id, "tok", t0, time.Hour))
	}
	require.GreaterOrEqual(t, s.Len(), n/2, "Len right after %d completions: retained ids were evicted", n)
	// Nothing is expired yet: an explicit sweep removes nothing.
	removed := s.Sweep(t0.Add(time.Hour - time.Second))
	require.Equal(t, 0, removed, "Sweep before retention end removed")
	// After the retention window, new traffic alone must evict the old ids (amortized sweeps):
	// twice as many new ids make every shard sweep at least once, so exactly the live ones stay.
	t1 := t0.Add(2 * time.Hour)
	for i := 0; i < 2*n; i++ {
		id := fmt.Sprintf("late-%d", i)
		_, err := s.Claim(ctx, id, "tok", t1, time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, id, "tok", t1, time.Hour))
	}
	require.Equal(t, 2*n, s.Len(), "Len after %d expired + %d live ids", n, 2*n)
	// An explicit sweep at a time when everything expired empties the store.
	s.Sweep(t1.Add(time.Hour))
	require.Equal(t, 0, s.Len(), "Len after full sweep")
}

func TestMemoryStoreSweepKeepsLiveEntries(t *testing.T) {
	ctx := context.Background()
	s := webhook.NewMemoryStore()
	t0 := time.Unix(1767225600, 0)
	mustClaim(t, s, "done", "a", t0, webhook.Claimed)
	require.NoError(t, s.Complete(ctx, "done", "a", t0, time.Hour))
	mustClaim(t, s, "crashed", "b", t0, webhook.Claimed)
	mustClaim(t, s, "running", "c", t0.Add(50*time.Second), webhook.Claimed)

	removed := s.Sweep(t0.Add(time.Minute))
	require.Equal(t, 1, removed, "Sweep removed") // only "crashed"'s lease ended
	mustClaim(t, s, "done", "x", t0.Add(time.Minute), webhook.Duplicate)
	mustClaim(t, s, "running", "x", t0.Add(time.Minute), webhook.InFlight)
	mustClaim(t, s, "crashed", "x", t0.Add(time.Minute), webhook.Claimed)
}

func mustClaim(t *testing.T, s webhook.Store, id, token string, now time.Time, want webhook.ClaimResult) {
	t.Helper()
	got, err := s.Claim(context.Background(), id, token, now, time.Minute)
	require.NoError(t, err, "Claim(%q)", id)
	require.Equal(t, want, got, "Claim(%q)", id)
}

// Times past 2262 do not fit int64 nanoseconds: they saturate instead of wrapping to 1677, so
// an id retained for an hour in 2200 is forgotten in 2300 while one retained forever is not.
func TestMemoryStoreSaturatesTimesPast2262(t *testing.T) {
	ctx := context.Background()
	s := webhook.NewMemoryStore()
	t2200 := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	t2300 := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	mustClaim(t, s, "hour", "a", t2200, webhook.Claimed)
	require.NoError(t, s.Complete(ctx, "hour", "a", t2200, time.Hour))
	mustClaim(t, s, "forever", "a", t2200, webhook.Claimed)
	require.NoError(t, s.Complete(ctx, "forever", "a", t2200, math.MaxInt64))
	require.Equal(t, 1, s.Sweep(t2300), "Sweep in 2300 removed, want only the id retained for an hour")
	mustClaim(t, s, "forever", "b", t2300, webhook.Duplicate)
	mustClaim(t, s, "hour", "b", t2300, webhook.Claimed)
}
