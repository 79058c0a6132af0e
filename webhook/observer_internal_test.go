package webhook

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeduperWithoutObserverAllocatesNothing guards the hot path: a duplicate over a MemoryStore
// allocates nothing, without an observer and with an allocation-free one.
func TestDeduperWithoutObserverAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	ctx := context.Background()
	ok := func(context.Context) error { return nil }
	for name, d := range map[string]*Deduper{
		"none":     NewDeduper(NewMemoryStore()),
		"nil":      NewDeduper(NewMemoryStore(), WithDedupeObserver(nil)),
		"counting": NewDeduper(NewMemoryStore(), WithDedupeObserver(&obsCounter{})),
	} {
		require.NoError(t, d.Do(ctx, "evt_1", ok))
		allocs := testing.AllocsPerRun(200, func() {
			if err := d.Do(ctx, "evt_1", ok); err != ErrDuplicate {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, name)
	}
}

// obsCounter counts outcomes without allocating.
type obsCounter struct {
	mu sync.Mutex
	n  int
}

func (c *obsCounter) Rejected(context.Context, Rejection) {}

func (c *obsCounter) Deduped(context.Context, DedupeOutcome) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}
