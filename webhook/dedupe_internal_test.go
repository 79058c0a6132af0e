package webhook

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// The coarse clock stops after a tick without reads, so an idle Deduper keeps no timer running,
// and the next read takes a fresh reading and starts it again.
func TestCoarseClockStopsWhenIdleAndRestarts(t *testing.T) {
	c := new(coarseClock)
	before := unixNano(time.Now())
	if n := c.read(); n < before {
		t.Fatalf("first read %d is older than the clock before it (%d)", n, before)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.now.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("coarse clock still running 5 s after its last read")
		}
		time.Sleep(time.Millisecond)
	}
	before = unixNano(time.Now())
	if n := c.read(); n < before {
		t.Fatalf("read after idle = %d, want a fresh reading ≥ %d", n, before)
	}
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
	if lag < 0 || lag > 2*time.Second {
		t.Fatalf("coarse clock lags by %v after 50 ms of reads", lag)
	}
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
			if err := s.Complete(ctx, "evt", tok, now, time.Hour); !errors.Is(err, ErrClaimLost) {
				t.Errorf("Complete(%q) on Do's claim = %v, want ErrClaimLost", tok, err)
			}
			if err := s.Release(ctx, "evt", tok); !errors.Is(err, ErrClaimLost) {
				t.Errorf("Release(%q) on Do's claim = %v, want ErrClaimLost", tok, err)
			}
		}
		if r, err := s.Claim(ctx, "evt", "x", now, time.Minute); r != InFlight || err != nil {
			t.Errorf("Claim during Do = %v, %v; want InFlight", r, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s.Claim(ctx, "evt", "x", now, time.Minute); r != Duplicate || err != nil {
		t.Fatalf("Claim after Do = %v, %v; want Duplicate", r, err)
	}
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
		if res != Claimed {
			t.Fatalf("claim(%s) = %v", id, res)
		}
		refs, ids = append(refs, ref), append(ids, id)
	}
	if removed := s.Sweep(t0.Add(time.Hour)); removed != len(ids) {
		t.Fatalf("Sweep removed %d, want %d", removed, len(ids))
	}
	dropped := 0
	for i := range s.shards {
		if s.shards[i].claims == nil {
			dropped++
		}
	}
	if dropped == 0 {
		t.Fatal("no shard dropped its claim slots after every claim expired")
	}
	for i, ref := range refs {
		if err := s.complete(ids[i], ref, unixNano(t0), time.Hour); !errors.Is(err, ErrClaimLost) {
			t.Fatalf("complete of a swept claim = %v, want ErrClaimLost", err)
		}
		if err := s.release(ids[i], ref); !errors.Is(err, ErrClaimLost) {
			t.Fatalf("release of a swept claim = %v, want ErrClaimLost", err)
		}
	}
	if s.Len() != 0 {
		t.Fatalf("Len = %d, want 0", s.Len())
	}
}
