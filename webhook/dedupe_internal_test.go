package webhook

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The coarse clock stops after a tick without reads, so an idle Deduper keeps no timer running,
// and the next read takes a fresh reading and starts it again.
func TestCoarseClockStopsWhenIdleAndRestarts(t *testing.T) {
	c := new(coarseClock)
	before := unixNano(time.Now())
	n := c.read()
	require.GreaterOrEqual(t, n, before, "first read %d is older than the clock before it (%d)", n, before)
	deadline := time.Now().Add(5 * time.Second)
	for c.now.Load() != 0 {
		require.False(t, time.Now().After(deadline), "coarse clock still running 5 s after its last read")
		time.Sleep(time.Millisecond)
	}
	before = unixNano(time.Now())
	n = c.read()
	require.GreaterOrEqual(t, n, before, "read after idle = %d, want a fresh reading ≥ %d", n, before)
}

// While busy, the coarse clock follows the system clock to within a few ticks.
func TestCoarseClockFollowsTheClock(t *testing.T) {
	c := new(coarseClock)
	start := time.Now()
	for time.Since(start) < 50*time.Millisecond {
		c.read()
		time.Sleep(100 * time.Microsecond)
	}
	lag := time.Duration(unixNano(time.Now()) - c.read())
	require.GreaterOrEqual(t, lag, time.Duration(0), "coarse clock is ahead of the system clock")
	require.LessOrEqual(t, lag, 2*time.Second, "coarse clock lags after 50 ms of reads")
}

// A claim made by Do over a MemoryStore has no token string: no token a Store caller passes
// owns it, and it blocks other claims like any claim.
func TestDeduperMemoryClaimRefusesTokens(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore()
	d := NewDeduper(s)
	now := time.Now()
	err := d.Do(ctx, "evt", func(context.Context) error {
		for _, tok := range []string{"", "x"} {
			assert.ErrorIs(t, s.Complete(ctx, "evt", tok, now, time.Hour), ErrClaimLost, "Complete(%q) on Do's claim", tok)
			assert.ErrorIs(t, s.Release(ctx, "evt", tok), ErrClaimLost, "Release(%q) on Do's claim", tok)
		}
		r, err := s.Claim(ctx, "evt", "x", now, time.Minute)
		assert.NoError(t, err, "Claim during Do")
		assert.Equal(t, InFlight, r, "Claim during Do")
		return nil
	})
	require.NoError(t, err)
	r, err := s.Claim(ctx, "evt", "x", now, time.Minute)
	require.NoError(t, err, "Claim after Do")
	require.Equal(t, Duplicate, r, "Claim after Do")
}

// A sweep that evicts a burst of expired claims drops their slots; a Deduper claim evicted that
// way is lost (ErrClaimLost), not an out-of-range slot.
func TestMemoryStoreSweepDropsClaimSlots(t *testing.T) {
	s := NewMemoryStore()
	t0 := time.Unix(1767225600, 0)
	var refs []memRef
	var ids []string
	for i := 0; i < 64*(minSweepOps+1); i++ {
		id := fmt.Sprint("evt-", i)
		res, ref := s.claim(id, unixNano(t0), time.Minute)
		require.Equal(t, Claimed, res, "claim(%s)", id)
		refs, ids = append(refs, ref), append(ids, id)
	}
	removed := s.Sweep(t0.Add(time.Hour))
	require.Equal(t, len(ids), removed, "Sweep removed")
	dropped := 0
	for i := range s.shards {
		if s.shards[i].claims == nil {
			dropped++
		}
	}
	require.NotZero(t, dropped, "no shard dropped its claim slots after every claim expired")
	for i, ref := range refs {
		require.ErrorIs(t, s.complete(ids[i], ref, unixNano(t0), time.Hour), ErrClaimLost, "complete of a swept claim")
		require.ErrorIs(t, s.release(ids[i], ref), ErrClaimLost, "release of a swept claim")
	}
	require.Equal(t, 0, s.Len(), "Len")
}
