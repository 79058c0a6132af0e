package webhook

import (
	"hash/maphash"
	"math/bits"
)

// memTable is the hash table of one MemoryStore shard: an open-addressing table from id to an
// int64, laid out like the runtime's Swiss-table maps but driven by a hash its caller computed
// once, so that choosing the shard, looking an id up and inserting it hash the id only once.
//
// Slots come in groups of eight, each group with a control word: a control byte is
// memCtrlEmpty, memCtrlDeleted (a tombstone) or, for a full slot, the low seven bits of its id's
// hash. A lookup starts at the group chosen by the hash bits above those seven, compares the
// tag against the eight control bytes at once and the id only where a tag matches, and moves
// on (to groups 1, 3, 6, ... further along) until a group with an empty slot ends the search.
// Full and deleted slots together stay at most 7/8 of the slots, so every search ends: an
// insert that would pass that rebuilds the table with twice the groups, or at the same size
// when tombstones take half of the room. After deletions (a sweep), compact rebuilds it
// smaller. With a random hash key the hash bits are unpredictable to whoever chooses the ids, so
// the expected search length stays O(1) whatever they choose.
//
// A position (slot index) returned by find or insert stays valid until the next rebuild, which
// increments gen: a caller that holds a position across its lock checks gen before using it.
type memTable struct {
	groups []memGroup // a power of two of them
	used   int        // full slots
	dead   int        // tombstones
	gen    uint64     // rebuilds so far: positions from an earlier gen are stale
	seed   maphash.Seed
}

// memGroup is a group of slots with their control bytes and, for each full slot, the 16 hash
// bits above its tag: a rebuild to at most memFragGroups groups places entries from these
// alone, without reading (and hashing) their ids again. Control bytes and slots share cache
// lines, so a first delivery's probe and insert touch little more than one group: 216 bytes.
type memGroup struct {
	ctrl  uint64
	frag  [memGroupSlots]uint16
	slots [memGroupSlots]memSlot
}

// memSlot is a table entry: 24 bytes.
type memSlot struct {
	id string
	v  int64
}

const (
	memGroupSlots  = 8
	memCtrlEmpty   = 0x80
	memCtrlDeleted = 0xfe
	memTagBits     = 7
	memTagMask     = 1<<memTagBits - 1
	memLSB         = 0x0101010101010101
	memMSB         = 0x8080808080808080
	memEmptyGroup  = memLSB * memCtrlEmpty
	// memFragGroups is the most groups whose positions memGroup.frag determines.
	memFragGroups = 1 << 16
	// memShrinkGroups is the least number of groups at which a sweep shrinks a table that has
	// emptied: smaller tables are not worth a rebuild.
	memShrinkGroups = 32
)

// newMemTable returns an empty table of one group whose ids hash under the key k.
func newMemTable(k maphash.Seed) memTable {
	return memTable{groups: []memGroup{{ctrl: memEmptyGroup}}, seed: k}
}

// memMatchTag returns the control bytes of c equal to tag (below 0x80) as their top bits. A byte
// just above a match may match falsely (a borrow), never one with its top bit set: callers
// compare the id of each candidate.
func memMatchTag(c, tag uint64) uint64 {
	v := c ^ memLSB*tag
	return (v - memLSB) &^ v & memMSB
}

// memMatchEmpty returns the empty control bytes of c as their top bits.
func memMatchEmpty(c uint64) uint64 { return c &^ (c << 6) & memMSB }

// memMatchFree returns the empty or deleted control bytes of c as their top bits.
func memMatchFree(c uint64) uint64 { return c & memMSB }

// memMatchFull returns the full control bytes of c as their top bits.
func memMatchFull(c uint64) uint64 { return ^c & memMSB }

// memFirst returns the index in its group of the lowest byte in the match m (non-zero).
func memFirst(m uint64) int { return bits.TrailingZeros64(m) >> 3 }

// slot returns the slot at position pos.
func (t *memTable) slot(pos int) *memSlot {
	return &t.groups[pos/memGroupSlots].slots[pos%memGroupSlots]
}

// hash returns id's hash under the table's key; MemoryStore.hash computes the same.
func (t *memTable) hash(id string) uint64 { return maphash.String(t.seed, id) }

// limit is the most full and deleted slots the table may hold: 7/8 of its slots, so that every
// search meets an empty slot.
func (t *memTable) limit() int { return len(t.groups) * (memGroupSlots - 1) }

// find returns id's position and true if id (with hash h) is in the table; otherwise the
// position at which insert would put it, and false.
func (t *memTable) find(id string, h uint64) (int, bool) {
	mask := uint64(len(t.groups) - 1)
	g := h >> memTagBits & mask
	tag := h & memTagMask
	free := -1
	for step := uint64(1); ; step++ {
		grp := &t.groups[g]
		c := grp.ctrl
		for m := memMatchTag(c, tag); m != 0; m &= m - 1 {
			if k := memFirst(m); grp.slots[k].id == id {
				return int(g)*memGroupSlots + k, true
			}
		}
		if free < 0 {
			if m := memMatchFree(c); m != 0 {
				free = int(g)*memGroupSlots + memFirst(m)
			}
		}
		if memMatchEmpty(c) != 0 {
			return free, false
		}
		g = (g + step) & mask
	}
}

// findFree returns the first empty or deleted position on the search path of hash h.
func (t *memTable) findFree(h uint64) int {
	mask := uint64(len(t.groups) - 1)
	g := h >> memTagBits & mask
	for step := uint64(1); ; step++ {
		if m := memMatchFree(t.groups[g].ctrl); m != 0 {
			return int(g)*memGroupSlots + memFirst(m)
		}
		g = (g + step) & mask
	}
}

// set makes position i full with the entry e of hash h.
func (t *memTable) set(i int, h uint64, e memSlot) {
	g, k := &t.groups[i/memGroupSlots], i%memGroupSlots
	s := uint(k) * 8
	g.ctrl = g.ctrl&^(0xff<<s) | (h&memTagMask)<<s
	g.frag[k] = uint16(h >> memTagBits)
	g.slots[k] = e
}

// ctrlAt returns the control byte of position i.
func (t *memTable) ctrlAt(i int) uint64 {
	return t.groups[i/memGroupSlots].ctrl >> (uint(i%memGroupSlots) * 8) & 0xff
}

// insert adds id, absent from the table, with hash h and value v at pos, the position find
// returned for it, and returns the position id ends up at: pos, unless the table had to be
// rebuilt to make room (which changes gen).
func (t *memTable) insert(pos int, id string, h uint64, v int64) int {
	if t.ctrlAt(pos) == memCtrlDeleted {
		t.dead--
	} else if t.used+t.dead >= t.limit() {
		groups := len(t.groups)
		if 2*t.used >= t.limit() { // else tombstones take half the room: purge them only
			groups *= 2
		}
		t.rebuild(groups)
		pos = t.findFree(h)
	}
	t.set(pos, h, memSlot{id: id, v: v})
	t.used++
	return pos
}

// deleteAt removes the entry at pos. Its slot becomes empty if its group has an empty slot (no
// search ever went past that group), else a tombstone.
func (t *memTable) deleteAt(pos int) {
	g := &t.groups[pos/memGroupSlots]
	b := uint64(memCtrlDeleted)
	if memMatchEmpty(g.ctrl) != 0 {
		b = memCtrlEmpty
	} else {
		t.dead++
	}
	k := pos % memGroupSlots
	g.ctrl = g.ctrl&^(0xff<<(k*8)) | b<<(k*8)
	g.slots[k] = memSlot{}
	t.used--
}

// memGroupsFor returns the number of groups a rebuilt table gets for n entries: the fewest
// (a power of two) that n fills at most half of the limit, so that as many inserts again
// fit before the next rebuild.
func memGroupsFor(n int) int {
	need := (2*n + memGroupSlots - 2) / (memGroupSlots - 1) // ⌈2n/7⌉
	if need <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(need-1))
}

// compact rebuilds the table after entries were deleted (a sweep) if it became at least four
// times larger than its entries need or more than a quarter of its limit is tombstones. It
// reports whether it rebuilt.
func (t *memTable) compact() bool {
	want := memGroupsFor(t.used)
	switch {
	case len(t.groups) >= memShrinkGroups && len(t.groups) >= 4*want:
	case 4*t.dead > t.limit():
		want = min(want, len(t.groups))
	default:
		return false
	}
	t.rebuild(want)
	return true
}

// rebuild moves every entry into a new table of n groups (a power of two large enough for
// them), dropping the tombstones, and increments gen.
func (t *memTable) rebuild(n int) {
	groups := t.groups
	t.groups = make([]memGroup, n)
	for g := range t.groups {
		t.groups[g].ctrl = memEmptyGroup
	}
	t.dead = 0
	t.gen++
	for g := range groups {
		grp := &groups[g]
		for m := memMatchFull(grp.ctrl); m != 0; m &= m - 1 {
			k := memFirst(m)
			var h uint64
			if n <= memFragGroups { // the position needs no hash bits beyond frag's
				h = uint64(grp.frag[k])<<memTagBits | grp.ctrl>>(k*8)&memTagMask
			} else {
				h = t.hash(grp.slots[k].id)
			}
			t.set(t.findFree(h), h, grp.slots[k])
		}
	}
}
