package webhook

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"time"
)

// memShards is the number of independently locked shards; a power of two well above the core
// count keeps lock contention negligible.
const memShards = 64

// minSweepOps is the least number of writes between two sweeps of a shard.
const minSweepOps = 256

// MemoryStore is an in-process Store: fast, safe for concurrent use, and bounded in memory
// because expired claims and completed ids past their retention are evicted. It only dedupes
// within one process and forgets everything on restart; use the sqlstore package to share
// dedupe state between replicas.
//
// Eviction is amortized: a shard is swept after as many new ids as it held after its previous
// sweep (at least 256), so each write pays O(1) on average and the store holds at most about
// twice the ids still within their lease or retention. A shard's map is rebuilt when it shrinks to a quarter of its
// peak, so memory also returns after a burst.
type MemoryStore struct {
	seed   maphash.Seed
	shards [memShards]memShard
}

type memShard struct {
	mu      sync.Mutex
	m       map[string]memEntry
	writes  int      // inserts since the last sweep
	sweepAt int      // inserts that trigger the next sweep: max(minSweepOps, len after last sweep)
	peak    int      // largest len(m) since the map was last rebuilt
	lastNow int64    // latest "now" seen (unix ns), used by sweeps
	_       [16]byte // pad to a cache line: shards locked by different cores do not false-share
}

// memEntry is one id's state: claimed by token, or completed when token is "" (claims always
// carry a non-empty token), which also frees the token's memory. 24 bytes.
type memEntry struct {
	token   string
	expires int64 // unix ns: lease end while claimed, retention end once completed
}

var errEmptyToken = errors.New("webhook: MemoryStore.Claim with empty token")

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = make(map[string]memEntry)
		s.shards[i].sweepAt = minSweepOps
	}
	return s
}

func (s *MemoryStore) shard(id string) *memShard {
	return &s.shards[maphash.String(s.seed, id)&(memShards-1)]
}

// Claim implements Store.
func (s *MemoryStore) Claim(_ context.Context, id, token string, now time.Time, lease time.Duration) (ClaimResult, error) {
	if token == "" {
		return 0, errEmptyToken
	}
	n := now.UnixNano()
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.observe(n)
	if e, ok := sh.m[id]; ok && e.expires > n {
		if e.token == "" {
			return Duplicate, nil
		}
		return InFlight, nil
	}
	sh.m[id] = memEntry{token: token, expires: n + int64(lease)}
	sh.wrote()
	return Claimed, nil
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, id, token string, now time.Time, retention time.Duration) error {
	n := now.UnixNano()
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.observe(n)
	e, ok := sh.m[id]
	if !ok || token == "" || e.token != token {
		return ErrClaimLost
	}
	sh.m[id] = memEntry{expires: n + int64(retention)}
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, id, token string) error {
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[id]
	if !ok || token == "" || e.token != token {
		return ErrClaimLost
	}
	delete(sh.m, id)
	return nil
}

// Len reports how many ids (claimed or completed, including expired ones not yet evicted) the
// store holds.
func (s *MemoryStore) Len() int {
	total := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		total += len(sh.m)
		sh.mu.Unlock()
	}
	return total
}

// Sweep evicts every entry expired at now and returns how many it removed. Sweeps also happen
// automatically as the store is written to; call Sweep to reclaim memory after a burst when no
// more events arrive.
func (s *MemoryStore) Sweep(now time.Time) int {
	n := now.UnixNano()
	removed := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.observe(n)
		removed += sh.sweep()
		sh.mu.Unlock()
	}
	return removed
}

// observe records the latest time seen; clocks may differ slightly between callers, so keep
// the maximum.
func (sh *memShard) observe(n int64) {
	if n > sh.lastNow {
		sh.lastNow = n
	}
}

// wrote counts an insert and sweeps once the shard has seen as many inserts as it held entries
// after the previous sweep: a sweep visits at most twice the inserts that paid for it.
func (sh *memShard) wrote() {
	sh.writes++
	if l := len(sh.m); l > sh.peak {
		sh.peak = l
	}
	if sh.writes >= sh.sweepAt {
		sh.sweep()
	}
}

// sweep removes expired entries, rebuilding the map when it has shrunk well below its peak
// (Go maps never give memory back on delete).
func (sh *memShard) sweep() int {
	sh.writes = 0
	removed := 0
	for id, e := range sh.m {
		if e.expires <= sh.lastNow {
			delete(sh.m, id)
			removed++
		}
	}
	defer func() { sh.sweepAt = max(minSweepOps, len(sh.m)) }()
	if l := len(sh.m); sh.peak > 4*minSweepOps && l < sh.peak/4 {
		m := make(map[string]memEntry, l)
		for id, e := range sh.m {
			m[id] = e
		}
		sh.m = m
		sh.peak = l
	}
	return removed
}
