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
// Ids are spread over 64 independently locked shards, each an open-addressing hash table of
// 24-byte slots (the id and an int64) in groups of eight, with a control byte and 16 more hash
// bits per slot, much like the runtime's maps. One hash of the id, keyed at random per store,
// picks the shard, the table position and the control byte's tag, so ids chosen by a
// sender cannot pile up in one place: a lookup or insert costs O(1) expected whatever the ids.
// A table doubles when its full and deleted slots would pass 7/8 of it, placing its entries
// from the stored hash bits rather than hashing the ids again; while ids only arrive, a table
// holds each in 31 to 62 bytes besides the id's own bytes.
//
// Eviction is amortized: a shard is swept after as many new ids as it held after its previous
// sweep (at least 256), so each write pays O(1) on average and the store holds at most about
// twice the ids still within their lease or retention. A sweep visits a shard's ids only when
// one of them may have expired: until the earliest lease or retention end in the shard, its
// sweeps cost nothing. A shard's table is rebuilt smaller when a sweep leaves it four times
// the size its ids need or more, so memory also returns after a burst, and rebuilt at its size
// when tombstones take a quarter of it; each rebuild follows writes or evictions in proportion
// to the entries it moves, so it too costs O(1) per write on average.
//
// A completed id costs one table slot; a claim in flight also holds a small record with its
// token until it completes or is released. A Deduper over a MemoryStore claims through a
// private fast path that needs no token string and remembers where the id sits in the table:
// a duplicate costs one hash and one probe, and a first delivery one hash, one probe that
// inserts, and a write to the same slot when the handler completes, with no allocation
// besides the table's own growth.
type MemoryStore struct {
	shards [memShards]memShard // first: each starts a cache line when the store does
	seed   maphash.Seed
}

// memShard is one lock's share of a MemoryStore: 128 bytes, so that the fields a claim touches
// span two cache lines that no other shard shares.
type memShard struct {
	mu sync.Mutex
	// t holds every id: a completed id maps to its retention end (unix ns, at least
	// memCompletedMin), a claimed id to memClaimTag plus the index of its claim in claims. One
	// int64 per id keeps a slot at 24 bytes; the token lives only as long as the claim.
	t      memTable
	claims []memClaim // claims in flight, indexed from t; a free slot has seq 0
	// Free slots in claims form a list through their expires fields: freeHead is the first,
	// nfree how many there are.
	freeHead, nfree int32
	seq             uint64 // last claim sequence number issued: unique per claim within the shard
	sweepIn         int    // inserts before the next sweep: after one, max(minSweepOps, its len)
	lastNow         int64  // latest "now" seen (unix ns), used by sweeps
	// minEnd is at most every lease and retention end in the shard (math.MaxInt64 when it
	// holds none): while it lies after lastNow, nothing can have expired and a sweep has
	// nothing to visit.
	minEnd int64
}

// memClaim is a claim in flight.
type memClaim struct {
	token   string // the token given to Claim; "" for the Deduper's own claims, fenced by seq
	seq     uint64 // sequence number of the claim owning the slot; 0 when the slot is free
	expires int64  // lease end, unix ns (see live); when the slot is free, the next free slot
}

// Values in memShard.t: memClaimTag+i (below memCompletedMin) is the claim in slot i; any
// other value is a completed id's retention end. A retention end below memCompletedMin (in
// the first seconds of the year 1677) is stored as memCompletedMin.
const (
	memClaimTag     = math.MinInt64
	memMaxClaims    = 1 << 31 // claims in flight per shard
	memCompletedMin = memClaimTag + memMaxClaims
)

// memShardBits is log2(memShards): the top bits of an id's hash pick its shard, and the table
// uses the low bits.
const memShardBits = 6

// memRef identifies a claim the Deduper made through MemoryStore.claim, and where its id sat
// in the shard's table.
type memRef struct {
	sh   *memShard
	seq  uint64
	gen  uint64 // sh.t.gen when pos was valid
	pos  int    // the id's position in sh.t
	slot int32
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
		s.shards[i].t = newMemTable(s.seed)
		s.shards[i].sweepIn = minSweepOps
		s.shards[i].minEnd = math.MaxInt64
	}
	return s
}

// hash returns the hash of id that picks its shard and its place in the shard's table.
func (s *MemoryStore) hash(id string) uint64 { return maphash.String(s.seed, id) }

// shard returns the shard of the id with hash h.
func (s *MemoryStore) shard(h uint64) *memShard { return &s.shards[h>>(64-memShardBits)] }

// Claim implements Store.
func (s *MemoryStore) Claim(_ context.Context, id, token string, now time.Time, lease time.Duration) (ClaimResult, error) {
	if token == "" {
		return 0, errEmptyToken
	}
	h := s.hash(id)
	sh := s.shard(h)
	sh.mu.Lock()
	pos, ok := sh.t.find(id, h)
	res, _ := sh.claimAt(id, h, token, unixNano(now), lease, pos, ok)
	sh.mu.Unlock()
	return res, nil
}

// claim is Claim for the Deduper: the claim's token is the returned reference, which costs no
// formatting or allocation. Deduper.Do repeats it inline.
func (s *MemoryStore) claim(id string, n int64, lease time.Duration) (ClaimResult, memRef) {
	h := s.hash(id)
	sh := s.shard(h)
	sh.mu.Lock()
	pos, ok := sh.t.find(id, h)
	res, ref := sh.claimAt(id, h, "", n, lease, pos, ok)
	sh.mu.Unlock()
	return res, ref
}

// claimAt claims id (hash h) for token (or, when token is "", for the sequence number in the
// returned reference) at n (unix ns), once it has been looked up: pos, ok = sh.t.find(id, h).
// The caller holds sh.mu.
func (sh *memShard) claimAt(id string, h uint64, token string, n int64, lease time.Duration, pos int, ok bool) (ClaimResult, memRef) {
	sh.observe(n)
	var v int64
	if ok {
		v = sh.t.slot(pos).v
		if v >= memCompletedMin && live(v, n) {
			return Duplicate, memRef{}
		}
	}
	end := addSat(n, lease)
	if ok && v < memCompletedMin { // claimed: in flight until its lease ends, then taken over in place
		slot := int32(v - memClaimTag)
		c := &sh.claims[slot]
		if live(c.expires, n) {
			return InFlight, memRef{}
		}
		sh.minEnd = min(sh.minEnd, end)
		sh.seq++
		*c = memClaim{token: token, seq: sh.seq, expires: end}
		return Claimed, memRef{sh: sh, seq: sh.seq, gen: sh.t.gen, pos: pos, slot: slot}
	}
	sh.minEnd = min(sh.minEnd, end)
	slot := sh.newClaim(token, end)
	if ok { // completed, retention over: claimed in place
		sh.t.slot(pos).v = memClaimTag + int64(slot)
		return Claimed, memRef{sh: sh, seq: sh.seq, gen: sh.t.gen, pos: pos, slot: slot}
	}
	pos = sh.t.insert(pos, id, h, memClaimTag+int64(slot))
	ref := memRef{sh: sh, seq: sh.seq, gen: sh.t.gen, pos: pos, slot: slot}
	sh.wrote() // a sweep may rebuild the table: ref's gen then no longer matches
	return Claimed, ref
}

// newClaim puts a claim in a free slot and returns its index; its seq is sh.seq.
func (sh *memShard) newClaim(token string, expires int64) int32 {
	sh.seq++
	if sh.nfree > 0 {
		slot := sh.freeHead
		c := &sh.claims[slot]
		sh.freeHead, sh.nfree = int32(c.expires), sh.nfree-1
		if token != "" { // a free slot's token is "": the Deduper's claims write no pointer
			c.token = token
		}
		c.seq, c.expires = sh.seq, expires
		return slot
	}
	if int64(len(sh.claims)) >= memMaxClaims {
		panic("webhook: MemoryStore: more than 2^31 claims in flight in one shard")
	}
	sh.claims = append(sh.claims, memClaim{token: token, seq: sh.seq, expires: expires})
	return int32(len(sh.claims) - 1)
}

// freeClaim empties slot, dropping its token.
func (sh *memShard) freeClaim(slot int32) {
	c := &sh.claims[slot]
	if c.token != "" {
		c.token = ""
	}
	c.seq = 0
	c.expires = int64(sh.freeHead)
	sh.freeHead, sh.nfree = slot, sh.nfree+1
}

// owner returns the claim slot and table position of id (hash h) if token owns its claim. The
// caller holds sh.mu.
func (sh *memShard) owner(id string, h uint64, token string) (int32, int, bool) {
	pos, ok := sh.t.find(id, h)
	if !ok || token == "" {
		return 0, 0, false
	}
	v := sh.t.slot(pos).v
	if v >= memCompletedMin {
		return 0, 0, false
	}
	slot := int32(v - memClaimTag)
	return slot, pos, sh.claims[slot].token == token
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, id, token string, now time.Time, retention time.Duration) error {
	n := unixNano(now)
	h := s.hash(id)
	sh := s.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	slot, pos, ok := sh.owner(id, h, token)
	if !ok {
		return ErrClaimLost
	}
	sh.observe(n)
	sh.complete(slot, pos, n, retention)
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
	sh.complete(r.slot, sh.position(id, r), n, retention)
	sh.mu.Unlock()
	return nil
}

// owns reports whether the Deduper's claim r still holds its id. The caller holds sh.mu.
func (sh *memShard) owns(r memRef) bool {
	return int(r.slot) < len(sh.claims) && sh.claims[r.slot].seq == r.seq // a sweep may drop the slots
}

// position returns the table position of id, which the Deduper's claim r owns: where the claim
// found it, unless the table was rebuilt since. The caller holds sh.mu.
func (sh *memShard) position(id string, r memRef) int {
	if r.gen == sh.t.gen {
		return r.pos
	}
	pos, _ := sh.t.find(id, sh.t.hash(id))
	return pos
}

// complete turns the claim in slot, on the id at pos, into a completed id. The caller holds
// sh.mu.
func (sh *memShard) complete(slot int32, pos int, n int64, retention time.Duration) {
	sh.freeClaim(slot)
	end := max(addSat(n, retention), memCompletedMin)
	sh.minEnd = min(sh.minEnd, end)
	sh.t.slot(pos).v = end
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, id, token string) error {
	h := s.hash(id)
	sh := s.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	slot, pos, ok := sh.owner(id, h, token)
	if !ok {
		return ErrClaimLost
	}
	sh.freeClaim(slot)
	sh.t.deleteAt(pos)
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
	sh.t.deleteAt(sh.position(id, r))
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
		total += sh.t.used
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
	if sh.sweepIn--; sh.sweepIn <= 0 {
		sh.sweep()
	}
}

// sweep removes expired entries, then compacts the table if it has become far larger than its
// entries need or full of tombstones. It visits the entries only if one of them may have
// expired: with retention far longer than the time between sweeps, most sweeps cost O(1).
func (sh *memShard) sweep() int {
	removed := 0
	if sh.minEnd <= sh.lastNow {
		t := &sh.t
		minEnd := int64(math.MaxInt64)
		for g := range t.groups {
			for m := memMatchFull(t.groups[g].ctrl); m != 0; m &= m - 1 {
				pos := g*memGroupSlots + memFirst(m)
				v := t.slot(pos).v
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
				t.deleteAt(pos)
				removed++
			}
		}
		sh.minEnd = minEnd
	}
	if int(sh.nfree) == len(sh.claims) && cap(sh.claims) > minSweepOps { // release a burst's slots
		sh.claims, sh.freeHead, sh.nfree = nil, 0, 0
	}
	sh.t.compact()
	sh.sweepIn = max(minSweepOps, sh.t.used)
	return removed
}
