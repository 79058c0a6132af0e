package webhook_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/paykit-go/paykit/webhook"
	"github.com/stretchr/testify/require"
)

// Sweeps skip shards where nothing can have expired yet; a claim whose short lease ends among
// ids retained for long must still be evicted by the sweeps that new traffic triggers.
func TestMemoryStoreTrafficSweepsEvictShortLeasesAmongLongRetention(t *testing.T) {
	ctx := context.Background()
	s := webhook.NewMemoryStore()
	t0 := time.Unix(1767225600, 0)
	const n = 20000
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("done-%d", i)
		mustClaim(t, s, id, "tok", t0, webhook.Claimed)
		require.NoError(t, s.Complete(ctx, id, "tok", t0, time.Hour))
	}
	mustClaim(t, s, "crashed", "gone", t0, webhook.Claimed) // lease: one minute
	require.Equal(t, n+1, s.Len(), "Len before the lease ends")

	// Twice as many new ids after the lease ended make every shard sweep at least once.
	t1 := t0.Add(2 * time.Minute)
	for i := 0; i < 2*n; i++ {
		id := fmt.Sprintf("late-%d", i)
		mustClaim(t, s, id, "tok", t1, webhook.Claimed)
		require.NoError(t, s.Complete(ctx, id, "tok", t1, time.Hour))
	}
	require.Equal(t, 3*n, s.Len(), "Len after the crashed claim's lease ended: only it is evicted")
	require.ErrorIs(t, s.Release(ctx, "crashed", "gone"), webhook.ErrClaimLost, "Release of the evicted claim")
	require.Equal(t, 0, s.Sweep(t1), "explicit Sweep with nothing expired removed")
	require.Equal(t, 3*n, s.Sweep(t1.Add(2*time.Hour)), "explicit Sweep after every retention ended removed")
}
