package webhook

import (
	"context"
	"errors"
	"hash/maphash"
	"math"
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
// within one process and forgets everything on restart; use the sqlstore or redisstore package
// to share dedupe state between replicas. It accepts any id and keeps it as is.
//
// Times are kept as int64 nanoseconds. A lease or retention ending after the year 2262 (such as
// WithRetention(math.MaxInt64)) saturates and never ends.
//
// Eviction is amortized: a shard is swept after as many new ids as it held after its previous
// sweep (at least 256), so each write pays O(1) on average and the store holds at most about
// twice the ids still within their lease or retention. A sweep visits a shard's ids only when
// one of them may have expired: until the earliest lease or retention end in the shard, its
// sweeps cost nothing. A shard's map is rebuilt when it shrinks to a quarter of its peak, so memory
// also returns after a burst.
//
// A completed id costs one map entry of the id and an int64; a claim in flight also holds a
// small record with its token until it completes or is released. A Deduper over a MemoryStore
// claims through a private fast path that needs no token string, so a duplicate costs one map
// lookup and a first delivery no allocation besides the map's own growth.
type MemoryStore struct {
	seed   maphash.Seed
	shards [memShards]memShard
}

type memShard struct {
	mu sync.Mutex
	// m holds every id: a completed id maps to its retention end (unix ns, at least
	// memCompletedMin), a claimed id to memClaimTag plus the index of its claim in claims. One
	// int64 per id keeps a map slot at 24 bytes; the token lives only as long as the claim.
	m       map[string]int64
	claims  []memClaim // claims in flight, indexed from m; a free slot has seq 0
	free    []int32    // indexes of free slots in claims
	seq     uint64     // last claim sequence number issued: unique per claim within the shard
	writes  int        // inserts since the last sweep
	sweepAt int        // inserts that trigger the next sweep: max(minSweepOps, len after last sweep)
	peak    int        // largest len(m) since the map was last rebuilt
	lastNow int64      // latest "now" seen (unix ns), used by sweeps
	// minEnd is at most every lease and retention end in the shard (math.MaxInt64 when it
	// holds none): while it lies after lastNow, nothing can have expired and a sweep has
	// nothing to visit.
	minEnd int64
	_      [16]byte // pad to 128 bytes: shards locked by different cores do not false-share
}

// memClaim is a claim in flight.
type memClaim struct {
	token   string // the token given to Claim; "" for the Deduper's own claims, fenced by seq
	seq     uint64 // sequence number of the claim owning the slot; 0 when the slot is free
	expires int64  // lease end, unix ns; see live
}

// Values in memShard.m: memClaimTag+i (below memCompletedMin) is the claim in slot i; any
// other value is a completed id's retention end. A retention end below memCompletedMin (in
// the first seconds of the year 1677) is stored as memCompletedMin.
const (
	memClaimTag     = math.MinInt64
	memMaxClaims    = 1 << 31 // claims in flight per shard
	memCompletedMin = memClaimTag + memMaxClaims
)

// memRef identifies a claim the Deduper made through MemoryStore.claim.
type memRef struct {
	sh   *memShard
	slot int32
	seq  uint64
}

// live reports whether a lease or retention ending at end (unix ns) lasts beyond n. An end that
// saturated at math.MaxInt64 (a lease or retention reaching past the year 2262, such as
// WithRetention(math.MaxInt64)) never passes, even when n saturated too.
func live(end, n int64) bool { return end > n || end == math.MaxInt64 }

// unixNano is t.UnixNano saturated at the int64 range (years 1677 to 2262) instead of
// wrapping around outside it.
func unixNano(t time.Time) int64 {
	const (
		second  = int64(time.Second)
		maxSec  = math.MaxInt64 / second
		maxNsec = math.MaxInt64 % second
		minSec  = math.MinInt64 / second // checked to the second only: harmless in 1677
	)
	s, ns := t.Unix(), int64(t.Nanosecond())
	switch {
	case s > maxSec || s == maxSec && ns > maxNsec:
		return math.MaxInt64
	case s < minSec:
		return math.MinInt64
	}
	return s*second + ns
}

// addSat returns n+d saturated at the int64 range: a lease or retention of math.MaxInt64 means
// "forever", not an end in the past.
func addSat(n int64, d time.Duration) int64 {
	switch {
	case d > 0 && n > math.MaxInt64-int64(d):
		return math.MaxInt64
	case d < 0 && n < math.MinInt64-int64(d):
		return math.MinInt64
	}
	return n + int64(d)
}

var errEmptyToken = errors.New("webhook: MemoryStore.Claim with empty token")

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = make(map[string]int64)
		s.shards[i].sweepAt = minSweepOps
		s.shards[i].minEnd = math.MaxInt64
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
	sh := s.shard(id)
	sh.mu.Lock()
	res, _, _ := sh.claim(id, token, unixNano(now), lease)
	sh.mu.Unlock()
	return res, nil
}

// claim is Claim for the Deduper: the claim's token is the returned reference, which costs no
// formatting or allocation, and a duplicate is found with one map lookup.
func (s *MemoryStore) claim(id string, n int64, lease time.Duration) (ClaimResult, memRef) {
	sh := s.shard(id)
	sh.mu.Lock()
	res, slot, seq := sh.claim(id, "", n, lease)
	sh.mu.Unlock()
	return res, memRef{sh: sh, slot: slot, seq: seq}
}

// claim claims id for token (or, when token is "", for the sequence number it returns) at n
// (unix ns). The caller holds sh.mu.
func (sh *memShard) claim(id, token string, n int64, lease time.Duration) (ClaimResult, int32, uint64) {
	v, ok := sh.m[id]
	return sh.claimFound(id, token, n, lease, v, ok)
}

// claimFound is claim once id has been looked up: v, ok = sh.m[id]. The caller holds sh.mu.
func (sh *memShard) claimFound(id, token string, n int64, lease time.Duration, v int64, ok bool) (ClaimResult, int32, uint64) {
	sh.observe(n)
	if ok && v >= memCompletedMin && live(v, n) {
		return Duplicate, 0, 0
	}
	end := addSat(n, lease)
	if ok && v < memCompletedMin { // claimed: in flight until its lease ends, then taken over in place
		slot := int32(v - memClaimTag)
		c := &sh.claims[slot]
		if live(c.expires, n) {
			return InFlight, 0, 0
		}
		sh.minEnd = min(sh.minEnd, end)
		sh.seq++
		*c = memClaim{token: token, seq: sh.seq, expires: end}
		return Claimed, slot, sh.seq
	}
	sh.minEnd = min(sh.minEnd, end)
	slot := sh.newClaim(token, end)
	sh.m[id] = memClaimTag + int64(slot)
	if !ok {
		sh.wrote()
	}
	return Claimed, slot, sh.seq
}

// newClaim puts a claim in a free slot and returns its index; its seq is sh.seq.
func (sh *memShard) newClaim(token string, expires int64) int32 {
	sh.seq++
	c := memClaim{token: token, seq: sh.seq, expires: expires}
	if k := len(sh.free); k > 0 {
		slot := sh.free[k-1]
		sh.free = sh.free[:k-1]
		sh.claims[slot] = c
		return slot
	}
	if int64(len(sh.claims)) >= memMaxClaims {
		panic("webhook: MemoryStore: more than 2^31 claims in flight in one shard")
	}
	sh.claims = append(sh.claims, c)
	return int32(len(sh.claims) - 1)
}

// freeClaim empties slot, dropping its token.
func (sh *memShard) freeClaim(slot int32) {
	sh.claims[slot] = memClaim{}
	sh.free = append(sh.free, slot)
}

// owner returns the slot of id's claim if token owns it. The caller holds sh.mu.
func (sh *memShard) owner(id, token string) (int32, bool) {
	v, ok := sh.m[id]
	if !ok || v >= memCompletedMin || token == "" {
		return 0, false
	}
	slot := int32(v - memClaimTag)
	return slot, sh.claims[slot].token == token
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, id, token string, now time.Time, retention time.Duration) error {
	n := unixNano(now)
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	slot, ok := sh.owner(id, token)
	if !ok {
		return ErrClaimLost
	}
	sh.observe(n)
	sh.complete(id, slot, n, retention)
	return nil
}

// complete is Complete for the Deduper's claim r on id. A matching sequence number proves the
// claim still owns id: a slot is emptied or reissued whenever its claim ends.
func (s *MemoryStore) complete(id string, r memRef, n int64, retention time.Duration) error {
	sh := r.sh
	sh.mu.Lock()
	if !sh.owns(r) {
		sh.mu.Unlock()
		return ErrClaimLost
	}
	sh.observe(n)
	sh.complete(id, r.slot, n, retention)
	sh.mu.Unlock()
	return nil
}

// owns reports whether the Deduper's claim r still holds its id. The caller holds sh.mu.
func (sh *memShard) owns(r memRef) bool {
	return int(r.slot) < len(sh.claims) && sh.claims[r.slot].seq == r.seq // a sweep may drop the slots
}

// complete turns the claim in slot on id into a completed id. The caller holds sh.mu.
func (sh *memShard) complete(id string, slot int32, n int64, retention time.Duration) {
	sh.freeClaim(slot)
	end := max(addSat(n, retention), memCompletedMin)
	sh.minEnd = min(sh.minEnd, end)
	sh.m[id] = end
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, id, token string) error {
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	slot, ok := sh.owner(id, token)
	if !ok {
		return ErrClaimLost
	}
	sh.freeClaim(slot)
	delete(sh.m, id)
	return nil
}

// release is Release for the Deduper's claim r on id.
func (s *MemoryStore) release(id string, r memRef) error {
	sh := r.sh
	sh.mu.Lock()
	if !sh.owns(r) {
		sh.mu.Unlock()
		return ErrClaimLost
	}
	sh.freeClaim(r.slot)
	delete(sh.m, id)
	sh.mu.Unlock()
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
	n := unixNano(now)
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
// (Go maps never give memory back on delete). It visits the entries only if one of them may
// have expired: with retention far longer than the time between sweeps, most sweeps cost O(1).
func (sh *memShard) sweep() int {
	sh.writes = 0
	removed := 0
	if sh.minEnd <= sh.lastNow {
		minEnd := int64(math.MaxInt64)
		for id, v := range sh.m {
			end, slot := v, int32(-1)
			if v < memCompletedMin {
				slot = int32(v - memClaimTag)
				end = sh.claims[slot].expires
			}
			if live(end, sh.lastNow) {
				minEnd = min(minEnd, end)
				continue
			}
			if slot >= 0 {
				sh.freeClaim(slot)
			}
			delete(sh.m, id)
			removed++
		}
		sh.minEnd = minEnd
	}
	if len(sh.free) == len(sh.claims) && cap(sh.claims) > minSweepOps { // release a burst's slots
		sh.claims, sh.free = nil, nil
	}
	defer func() { sh.sweepAt = max(minSweepOps, len(sh.m)) }()
	if l := len(sh.m); sh.peak > 4*minSweepOps && l < sh.peak/4 {
		m := make(map[string]int64, l)
		for id, e := range sh.m {
			m[id] = e
		}
		sh.m = m
		sh.peak = l
	}
	return removed
}
