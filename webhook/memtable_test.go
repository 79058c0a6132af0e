package webhook

import (
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkMemTable checks the table's invariants and that find locates every entry under hash,
// and returns its contents.
func checkMemTable(t testing.TB, tb *memTable, hash func(string) uint64) map[string]int64 {
	t.Helper()
	n := len(tb.groups)
	require.Positive(t, n, "groups")
	require.Zero(t, n&(n-1), "groups = %d, want a power of two", n)
	got := make(map[string]int64, tb.used)
	full, dead := 0, 0
	for g := range tb.groups {
		for k := range memGroupSlots {
			pos := g*memGroupSlots + k
			s := *tb.slot(pos)
			c := tb.ctrlAt(pos)
			if c == memCtrlEmpty || c == memCtrlDeleted {
				if c == memCtrlDeleted {
					dead++
				}
				if s != (memSlot{}) {
					require.Equal(t, memSlot{}, s, "free slot %d keeps an entry", pos)
				}
				continue
			}
			// Cheap checks first, and require (with its formatting) only on failure: tables
			// checked here hold up to 20000 entries.
			h := hash(s.id)
			at, ok := tb.find(s.id, h)
			_, dup := got[s.id]
			if c >= 0x80 || c != h&memTagMask || tb.groups[g].frag[k] != uint16(h>>memTagBits) || dup || !ok || at != pos {
				require.Less(t, c, uint64(0x80), "control byte %#x of slot %d", c, pos)
				require.Equal(t, h&memTagMask, c, "tag of %q", s.id)
				require.Equal(t, uint16(h>>memTagBits), tb.groups[g].frag[k], "hash bits of %q", s.id)
				require.False(t, dup, "%q is in the table twice", s.id)
				require.True(t, ok, "find(%q) misses it", s.id)
				require.Equal(t, pos, at, "find(%q)", s.id)
			}
			got[s.id] = s.v
			full++
		}
	}
	require.Equal(t, full, tb.used, "used")
	require.Equal(t, dead, tb.dead, "dead")
	require.LessOrEqual(t, tb.used+tb.dead, tb.limit(), "full and deleted slots beyond the limit")
	return got
}

// memPut sets id to v in tb under hash h and returns its position.
func memPut(tb *memTable, id string, h uint64, v int64) int {
	pos, ok := tb.find(id, h)
	if ok {
		tb.slot(pos).v = v
		return pos
	}
	return tb.insert(pos, id, h, v)
}

// memDelete removes id (hash h) from tb and reports whether it was there.
func memDelete(tb *memTable, id string, h uint64) bool {
	pos, ok := tb.find(id, h)
	if ok {
		tb.deleteAt(pos)
	}
	return ok
}

func TestMemTableGrowsAndFindsEverything(t *testing.T) {
	tb := newMemTable(maphash.MakeSeed())
	want := map[string]int64{}
	for i := range 20000 {
		id := "evt_" + strconv.Itoa(i)
		gen, groups := tb.gen, len(tb.groups)
		pos := memPut(&tb, id, tb.hash(id), int64(i))
		require.Equal(t, id, tb.slot(pos).id, "insert returned position %d", pos)
		if tb.gen != gen {
			require.Equal(t, 2*groups, len(tb.groups), "groups after the rebuild at %d entries", i)
		}
		want[id] = int64(i)
		if i%4999 == 0 {
			require.Empty(t, cmp.Diff(want, checkMemTable(t, &tb, tb.hash)), "contents after %d inserts", i+1)
		}
	}
	require.Empty(t, cmp.Diff(want, checkMemTable(t, &tb, tb.hash)), "contents")
	assert.GreaterOrEqual(t, 2*tb.used, tb.limit(), "inserts only: the table is at least half full after doubling")
	assert.Zero(t, tb.dead, "tombstones without deletes")
}

// fixedHash gives every id the group and tag bits of its entry in h, so that tests can place
// ids in chosen groups and make them collide.
func fixedHash(h map[string]uint64) func(string) uint64 {
	return func(id string) uint64 { return h[id] }
}

func TestMemTableTombstones(t *testing.T) {
	tb := newMemTable(maphash.MakeSeed())
	tb.rebuild(4)
	hashes := map[string]uint64{}
	hash := fixedHash(hashes)
	// 16 ids starting in group 0 fill groups 0 and 1 (the search visits groups 0, 1, 3, 2).
	for i := range 16 {
		id := fmt.Sprint("g0-", i)
		hashes[id] = uint64(i % 3) // group 0, tags 0 to 2
		memPut(&tb, id, hash(id), int64(i))
	}
	require.Equal(t, uint64(0), memMatchEmpty(tb.groups[0].ctrl)|memMatchEmpty(tb.groups[1].ctrl), "groups 0 and 1 full")
	// A full group cannot empty a slot (a search may have passed it): a tombstone.
	require.True(t, memDelete(&tb, "g0-3", hash("g0-3")))
	require.Equal(t, 1, tb.dead, "tombstones after deleting from a full group")
	for i := 8; i < 16; i++ { // the ids that went past group 0 are still found
		_, ok := tb.find(fmt.Sprint("g0-", i), hash(fmt.Sprint("g0-", i)))
		require.True(t, ok, "g0-%d lost after a delete in group 0", i)
	}
	_, ok := tb.find("g0-3", hash("g0-3"))
	require.False(t, ok, "deleted id found")
	// A new id reuses the tombstone.
	hashes["new"] = 1
	pos := memPut(&tb, "new", hash("new"), 100)
	require.Less(t, pos, memGroupSlots, "new id placed at %d, want the tombstone in group 0", pos)
	require.Zero(t, tb.dead, "tombstones after reuse")
	// A group with an empty slot ends every search that reaches it: its deletes leave empty slots.
	hashes["g2"] = 2 << memTagBits
	memPut(&tb, "g2", hash("g2"), 7)
	require.True(t, memDelete(&tb, "g2", hash("g2")))
	require.Zero(t, tb.dead, "tombstones after deleting from a group with room")
	// Delete and insert again: the same contents.
	require.True(t, memDelete(&tb, "g0-12", hash("g0-12")))
	memPut(&tb, "g0-12", hash("g0-12"), 12)
	want := map[string]int64{"new": 100}
	for i := range 16 {
		if i != 3 {
			want[fmt.Sprint("g0-", i)] = int64(i)
		}
	}
	require.Empty(t, cmp.Diff(want, checkMemTable(t, &tb, hash)), "contents")
}

// Inserts and deletes of ever new ids with few live at a time leave tombstones; the table
// purges them by rebuilding at its size instead of growing.
func TestMemTablePurgesTombstonesWithoutGrowing(t *testing.T) {
	tb := newMemTable(maphash.MakeSeed())
	want := map[string]int64{}
	maxGroups := 0
	for i := range 100000 {
		id := "evt_" + strconv.Itoa(i)
		memPut(&tb, id, tb.hash(id), int64(i))
		want[id] = int64(i)
		if i >= 20 {
			old := "evt_" + strconv.Itoa(i-20)
			require.True(t, memDelete(&tb, old, tb.hash(old)), "delete %s", old)
			delete(want, old)
		}
		maxGroups = max(maxGroups, len(tb.groups))
	}
	require.Empty(t, cmp.Diff(want, checkMemTable(t, &tb, tb.hash)), "contents")
	assert.LessOrEqual(t, maxGroups, 2*memGroupsFor(21), "groups for at most 21 live ids")
	assert.Greater(t, tb.gen, uint64(10), "rebuilds: tombstones were never purged")
}

func TestMemTableCompact(t *testing.T) {
	tb, want := filledMemTable(10000)
	require.False(t, tb.compact(), "compact of a table without deletes rebuilt it")
	for i := range 9900 {
		id := "evt_" + strconv.Itoa(i)
		require.True(t, memDelete(&tb, id, tb.hash(id)))
		delete(want, id)
	}
	gen := tb.gen
	require.True(t, tb.compact(), "compact of a table with 1%% left")
	assert.Equal(t, memGroupsFor(100), len(tb.groups), "groups after shrinking")
	assert.Equal(t, gen+1, tb.gen, "gen after a rebuild")
	require.Empty(t, cmp.Diff(want, checkMemTable(t, &tb, tb.hash)), "contents after shrinking")

	// Tombstones past a quarter of the limit: rebuilt in place, not grown.
	hashes := map[string]uint64{}
	hash := fixedHash(hashes)
	small := newMemTable(maphash.MakeSeed())
	small.rebuild(8)
	for i := range 48 { // groups 0 to 5 full
		id := fmt.Sprint("c", i)
		hashes[id] = uint64(i/memGroupSlots) << memTagBits
		memPut(&small, id, hash(id), 1)
	}
	for i := range 16 {
		require.True(t, memDelete(&small, fmt.Sprint("c", 2*i), hash(fmt.Sprint("c", 2*i))))
	}
	require.Equal(t, 16, small.dead, "tombstones")
	require.True(t, small.compact(), "compact with 16 tombstones in 56")
	assert.Zero(t, small.dead, "tombstones after compact")
	assert.LessOrEqual(t, len(small.groups), 8, "groups after compact")
	assert.Len(t, checkMemTable(t, &small, hash), 32, "entries after compact")
}

// Ids sharing their whole hash all follow one search path: slower, still correct.
func TestMemTableCollidingHashes(t *testing.T) {
	tb := newMemTable(maphash.MakeSeed())
	hash := func(string) uint64 { return 0x5a5a5a5a5a5a5a5a }
	want := map[string]int64{}
	for i := range 1500 {
		id := fmt.Sprint("same-", i)
		memPut(&tb, id, hash(id), int64(i))
		want[id] = int64(i)
	}
	for i := 0; i < 1500; i += 2 {
		id := fmt.Sprint("same-", i)
		require.True(t, memDelete(&tb, id, hash(id)), "delete %s", id)
		delete(want, id)
	}
	require.Empty(t, cmp.Diff(want, checkMemTable(t, &tb, hash)), "after deleting half")
	for i := 0; i < 1500; i += 4 {
		id := fmt.Sprint("same-", i)
		memPut(&tb, id, hash(id), -int64(i))
		want[id] = -int64(i)
	}
	require.Empty(t, cmp.Diff(want, checkMemTable(t, &tb, hash)), "after inserting a quarter again")
}

// Beyond memFragGroups groups, a rebuild hashes the ids again.
func TestMemTableRebuildBeyondStoredHashBits(t *testing.T) {
	tb, want := filledMemTable(1000)
	tb.rebuild(2 * memFragGroups)
	require.Empty(t, cmp.Diff(want, checkMemTable(t, &tb, tb.hash)), "contents in %d groups", len(tb.groups))
	require.True(t, tb.compact(), "compact of 1000 ids in %d groups", len(tb.groups))
	require.Empty(t, cmp.Diff(want, checkMemTable(t, &tb, tb.hash)), "contents after shrinking")
}

func TestMemGroupsFor(t *testing.T) {
	for _, tc := range []struct{ n, want int }{{0, 1}, {1, 1}, {3, 1}, {4, 2}, {7, 2}, {8, 4}, {14, 4}, {15, 8}, {3584, 1024}, {3585, 2048}} {
		assert.Equal(t, tc.want, memGroupsFor(tc.n), "memGroupsFor(%d)", tc.n)
	}
}

func TestMemMatch(t *testing.T) {
	c := uint64(0x05_80_7f_fe_00_05_80_fe)
	assert.Equal(t, uint64(0x80_00_00_00_00_80_00_00), memMatchTag(c, 5), "tag 5")
	assert.Equal(t, uint64(0x00_00_00_00_80_00_00_00), memMatchTag(c, 0), "tag 0")
	assert.Equal(t, uint64(0x00_00_80_00_00_00_00_00), memMatchTag(c, 0x7f), "tag 0x7f")
	assert.Equal(t, uint64(0x00_80_00_00_00_00_80_00), memMatchEmpty(c), "empty")
	assert.Equal(t, uint64(0x00_80_00_80_00_00_80_80), memMatchFree(c), "free")
	assert.Equal(t, uint64(0x80_00_80_00_80_80_00_00), memMatchFull(c), "full")
}

func TestMemShardSizeAvoidsFalseSharing(t *testing.T) {
	assert.Zero(t, unsafe.Sizeof(memShard{})%128, "memShard is %d bytes", unsafe.Sizeof(memShard{}))
}

// sameShardIDs returns n ids that s places in the shard of "evt".
func sameShardIDs(s *MemoryStore, prefix string, n int) []string {
	sh := s.shard(s.hash("evt"))
	var ids []string
	for i := 0; len(ids) < n; i++ {
		if id := prefix + strconv.Itoa(i); s.shard(s.hash(id)) == sh {
			ids = append(ids, id)
		}
	}
	return ids
}

// A Deduper claim remembers its id's table position; when the table was rebuilt before the
// claim completes or is released, the id is found again.
func TestMemoryStoreClaimOutlivesTableRebuild(t *testing.T) {
	ctx := context.Background()
	t0 := time.Unix(1767225600, 0)
	n := unixNano(t0)
	for _, complete := range []bool{true, false} {
		s := NewMemoryStore()
		res, ref := s.claim("evt", n, time.Minute)
		require.Equal(t, Claimed, res, "claim")
		gen := ref.sh.t.gen
		for _, id := range sameShardIDs(s, "other-", 200) {
			mustClaimToken(t, s, id, "tok", t0, Claimed)
			require.NoError(t, s.Complete(ctx, id, "tok", t0, time.Hour))
		}
		require.Greater(t, ref.sh.t.gen, gen, "200 more ids did not rebuild the shard's table")
		if complete {
			require.NoError(t, s.complete("evt", ref, n, time.Hour), "complete after the rebuild")
			mustClaimToken(t, s, "evt", "x", t0, Duplicate)
		} else {
			require.NoError(t, s.release("evt", ref), "release after the rebuild")
			mustClaimToken(t, s, "evt", "x", t0, Claimed)
		}
		require.Equal(t, 201, s.Len(), "Len")
	}
}

// Many ids in one shard: claims, duplicates, releases and new claims of released ids.
func TestMemoryStoreManyIDsInOneShard(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore()
	t0 := time.Unix(1767225600, 0)
	ids := sameShardIDs(s, "one-", 3000)
	for i, id := range ids {
		mustClaimToken(t, s, id, "tok", t0, Claimed)
		if i%2 == 0 {
			require.NoError(t, s.Complete(ctx, id, "tok", t0, time.Hour))
		} else {
			require.NoError(t, s.Release(ctx, id, "tok"))
		}
	}
	require.Equal(t, len(ids)/2, s.Len(), "Len after completing half and releasing half")
	for i, id := range ids {
		if i%2 == 0 {
			mustClaimToken(t, s, id, "again", t0, Duplicate)
		} else {
			mustClaimToken(t, s, id, "again", t0, Claimed)
		}
	}
	require.Equal(t, len(ids), s.Len(), "Len after claiming the released ids again")
	sh := s.shard(s.hash("evt"))
	require.Empty(t, cmp.Diff(len(ids), len(checkMemTable(t, &sh.t, s.hash))), "entries in the shard's table")
}

// A sweep that empties most of a shard shrinks its table; the remaining ids stay claimed or
// completed, and evicted ids can be claimed again.
func TestMemoryStoreSweepShrinksTables(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore()
	t0 := time.Unix(1767225600, 0)
	ids := sameShardIDs(s, "burst-", 5000)
	for _, id := range ids {
		mustClaimToken(t, s, id, "tok", t0, Claimed)
		require.NoError(t, s.Complete(ctx, id, "tok", t0, time.Minute))
	}
	mustClaimToken(t, s, "evt", "long", t0, Claimed) // lease: one minute
	require.NoError(t, s.Complete(ctx, "evt", "long", t0, time.Hour))
	sh := s.shard(s.hash("evt"))
	peak := len(sh.t.groups)
	require.Equal(t, len(ids), s.Sweep(t0.Add(2*time.Minute)), "Sweep removed")
	assert.Less(t, len(sh.t.groups), peak/4, "groups after the sweep (peak %d)", peak)
	mustClaimToken(t, s, "evt", "x", t0.Add(2*time.Minute), Duplicate)
	mustClaimToken(t, s, ids[0], "x", t0.Add(2*time.Minute), Claimed)
	require.Equal(t, 2, s.Len(), "Len")
}

func mustClaimToken(t *testing.T, s *MemoryStore, id, token string, now time.Time, want ClaimResult) {
	t.Helper()
	got, err := s.Claim(context.Background(), id, token, now, time.Minute)
	require.NoError(t, err, "Claim(%q)", id)
	require.Equal(t, want, got, "Claim(%q)", id)
}

// FuzzMemTable runs random operation sequences on a memTable and on a Go map and compares
// them. The first byte picks the hash: the table's own, or one whose bits collide (every id in
// group 0 with one of eight tags, or one hash for all); each following pair of bytes is an
// operation and its argument.
func FuzzMemTable(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 3, 1, 5, 1})
	f.Add([]byte{1, 0, 1, 0, 2, 0, 3, 0, 4, 3, 1, 0, 5, 6, 0})
	f.Add([]byte{2, 0, 9, 1, 8, 2, 7, 3, 8, 0, 10, 7, 2, 5, 7})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 {
			return
		}
		tb := newMemTable(maphash.MakeSeed())
		var hash func(string) uint64
		switch ops[0] % 3 {
		case 0:
			hash = tb.hash
		case 1:
			hash = func(id string) uint64 { return tb.hash(id) & 7 }
		case 2:
			hash = func(string) uint64 { return 0xfedcba9876543210 }
		}
		model := map[string]int64{}
		for i := 1; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%8, ops[i+1]
			id := "id-" + strconv.Itoa(int(arg))
			if arg >= 200 {
				id = string([]byte{arg, 0, arg}) // not UTF-8, with NUL
			}
			h := hash(id)
			switch op {
			case 0, 1, 2: // insert or update
				memPut(&tb, id, h, int64(i))
				model[id] = int64(i)
			case 3, 4: // delete
				_, want := model[id]
				if got := memDelete(&tb, id, h); got != want {
					require.Equal(t, want, got, "delete %q at op %d", id, i)
				}
				delete(model, id)
			case 5: // look up
				pos, ok := tb.find(id, h)
				v, want := model[id]
				if ok != want || ok && tb.slot(pos).v != v {
					require.Equal(t, want, ok, "find %q at op %d", id, i)
					require.Equal(t, v, tb.slot(pos).v, "value of %q at op %d", id, i)
				}
			case 6:
				tb.compact()
			case 7: // rebuild at a size that fits
				tb.rebuild(memGroupsFor(tb.used) << (arg % 3))
			}
			if len(model) != tb.used {
				require.Equal(t, len(model), tb.used, "entries after op %d", i)
			}
		}
		require.Empty(t, cmp.Diff(model, checkMemTable(t, &tb, hash)), "contents")
	})
}

// filledMemTable returns a table holding ids evt_0 … evt_<n-1> mapped to their index, and the
// map of what it holds.
func filledMemTable(n int) (memTable, map[string]int64) {
	tb := newMemTable(maphash.MakeSeed())
	want := make(map[string]int64, n)
	for i := range n {
		id := "evt_" + strconv.Itoa(i)
		memPut(&tb, id, tb.hash(id), int64(i))
		want[id] = int64(i)
	}
	return tb, want
}
