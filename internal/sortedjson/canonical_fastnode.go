package sortedjson

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/bits"
	"slices"
)

// fastNode computes the Node form of the bodies JovePay actually sends — an object of objects
// and arrays whose keys are plain ASCII words, whose strings need no escaping and whose
// numbers JavaScript prints as written or with trailing fraction zeros dropped — in one pass
// over the body, without building the parse tree the three-form canonicaliser needs. Verify
// tries it first: for such a body the Node form is all it takes to accept the signature
// JovePay makes, and this pass costs a fraction of the general one.
//
// It declines (ok false) at the first thing outside that subset: escapes, control or
// non-ASCII bytes, keys that could be array indexes (a leading digit) or "__proto__", numbers
// JavaScript would print other than as written (after dropping trailing fraction zeros),
// duplicate keys, deep nesting, a top level that is not an object, and anything that is not
// valid JSON. Declining never rejects a body: the general parser then decides, with its own
// errors. So the fast path only has to be right on what it accepts, where its output must
// equal the general Node form byte for byte (TestFastNodeMatchesGeneral, the fuzz targets).
//
// Arrays come out as the Node reference writes them: objects keyed "0", "1", … in index order.
//
// An IPN sender's objects have the same few shapes (the same keys in the same order), so the
// fast path remembers the last few (see shape): an object whose keys match one is put in
// order without sorting, and its keys are compared with the remembered ones, quotes and ':'
// included, a masked word at a time rather than scanned. An object finds its shape by its
// first key's prefixes, or, nested in a member or array of a known shape, from the hint its
// parent remembered for that place (see shape.child), its first key then compared rather than
// scanned and looked up. A body that matches no shape costs what it would without them, plus
// remembering its objects' shapes: a copy of each key of at most maxPredicted bytes, so still
// linear in the body.
//
// A pass like this one waits mostly on its own chain of positions: each token's end decides
// where the next one starts. Where the end can be computed without looking at the text (a
// predicted key) or found by a loop whose exit the branch predictor learns (short strings,
// number digits, indentation: see skipShort), the processor runs ahead on the predicted
// position while the check completes; a word-at-a-time scan, whose result feeds the next
// load, makes it wait instead. So short texts are read a byte at a time, and only their rest
// eight bytes at a time.
//
// Every step is linear in the body: members are sorted with an O(n log n) sort whatever their
// order (keys are unique in an accepted body, and byte order is a strict total order, so any
// sort gives the same text), and the text is written once, in one pass at the end, rather than
// object by object (which copied a nested object's text again at every enclosing level).
type fastNode struct {
	src []byte
	// out holds the canonical text, written once the whole body is parsed.
	out []byte
	// mem is a stack of the members of the objects being parsed, innermost last.
	mem []fastMember
	// done holds the spans of the sorted members of the finished objects, each object's
	// contiguous: half a member's size, since only the sort needs its key prefixes.
	done []fastSpan
	// cmps counts the key comparisons of pdqsort on large objects (tests bound it).
	cmps int
	// shapes remembers the keys and key order of recently sorted objects (see shape), in
	// sets of two slots chosen by the first key.
	shapes [numShapes]shape
	// gen counts the shapes remembered, so that an object can tell whether the shape that
	// predicted its keys was replaced while its values were parsed.
	gen uint32
	// slot is 1 + the index in shapes of the shape of the object parsed last, 0 if it has
	// none: its parent remembers it as the hint for the next object in the same place.
	slot int
	// root is the slot of the last body's top-level object: the hint for the next body's.
	root int
}

// shape is the key order of an object of n members, minShape <= n <= maxInsertionSort, whose
// keys differ within their first sixteen bytes: their (pre, pre2) prefixes in member order,
// and perm, the member order sorted. Webhooks from one sender have the same few shapes (every
// payment IPN has the same keys in the same order, and so has every item of an array of
// objects), so an object with exactly those prefixes is sorted by perm, which is what sorting
// it would give: keys that differ within their prefixes sort by their prefixes alone.
//
// A shape also predicts the keys of an object that starts with its first key: klen holds
// each key's length, 0 for one longer than maxPredicted bytes, and words its text as it
// appears in a compact body, `"key":` (see predictedKey).
type shape struct {
	n     int
	gen   uint32 // fastNode.gen when the shape was remembered
	keys  [2 * maxInsertionSort]uint64
	words [maxInsertionSort]keyWords
	perm  [maxInsertionSort]uint8
	klen  [maxInsertionSort]uint8
	// child holds, for a member whose value was an object, 1 + the index in shapes of that
	// object's shape (0 if none): the hint for the object in the same member of the next
	// object of this shape, whose first key is then compared with the hinted shape's rather
	// than scanned and looked up. A hint is only ever a guess, checked against the text.
	child [maxInsertionSort]uint8
}

// keyWords is the text `"key":` of a key of at most maxPredicted bytes as three little-endian
// words, zero padded, and the masks of its bytes in them.
type keyWords struct{ w, m [3]uint64 }

// maxPredicted is the length of the longest key a shape predicts: `"key":` fills the three
// words of keyWords.
const maxPredicted = 24 - 3

// shapeSet returns the index of the first of the two slots (a set) that may hold the shapes
// of objects whose first key starts with pre.
func shapeSet(pre uint64) int {
	pre ^= pre >> 29
	return int((pre*0x9e3779b97f4a7c15)>>(64-shapeBits)) &^ 1
}

// findSlot returns the index in shapes of the remembered shape whose first key has the
// prefixes pre and pre2, or -1.
func (f *fastNode) findSlot(pre, pre2 uint64) int {
	i := shapeSet(pre)
	for j := i; j < i+2; j++ {
		if s := &f.shapes[j]; s.n > 0 && s.keys[0] == pre && s.keys[1] == pre2 {
			return j
		}
	}
	return -1
}

// shapeSlot returns the index of the slot where to remember the shape of an object whose
// first key has the prefixes pre and pre2: the slot of its set holding a shape with that first
// key, else an empty one, else the second, whose shape moves to the first.
func (f *fastNode) shapeSlot(pre, pre2 uint64) int {
	if j := f.findSlot(pre, pre2); j >= 0 {
		return j
	}
	i := shapeSet(pre)
	a, b := &f.shapes[i], &f.shapes[i+1]
	if a.n == 0 {
		return i
	}
	if b.n != 0 {
		*a = *b
	}
	return i + 1
}

const (
	// numShapes (1 << shapeBits) is how many shapes a fastNode remembers: about 1.6 KiB each.
	shapeBits = 3
	numShapes = 1 << shapeBits
	// minShape: smaller objects are sorted directly, which costs less than a shape look-up.
	minShape = 3
)

// fastMember is one object member or array element: its key's text (between the quotes;
// unused for an element) and where its value's canonical text is: in src for a scalar (copied
// from valStart to valEnd), or the container's members or elements in done.
type fastMember struct {
	pre  uint64 // the key's first 8 bytes, big-endian, zero padded: most comparisons end here
	pre2 uint64 // the key's next 8 bytes, likewise: most of the other comparisons end here
	fastSpan
}

// fastSpan is where a member's key and value are (see fastMember).
type fastSpan struct {
	keyStart uint32
	keyEnd   uint32
	// valStart has inOut in its top bit when the value is an array.
	valStart uint32
	// valEnd has inOut in its top bit when the value is an object or array
	// (valStart&^inOut:valEnd&^inOut are then its members or elements in done).
	valEnd uint32
}

const (
	inOut = 1 << 31
	// maxFastBody: bodies this long or longer take the general path (offsets must fit 31
	// bits). Compared as a uint64: the constant does not fit a 32-bit int.
	maxFastBody uint64 = inOut
)

// appendNode appends the Node form of src to dst, or returns ok false when src is outside the
// subset (see fastNode).
func (f *fastNode) appendNode(dst, src []byte) (_ []byte, ok bool) {
	form, ok := f.nodeForm(src)
	if !ok {
		return dst, false
	}
	return append(dst, form...), true
}

// nodeForm returns the Node form of src, in f's buffer (valid until the next call), or ok
// false when src is outside the subset. Verify hashes it in place.
func (f *fastNode) nodeForm(src []byte) (_ []byte, ok bool) {
	if uint64(len(src)) >= maxFastBody {
		return nil, false
	}
	f.src, f.out, f.mem, f.done, f.cmps = src, f.out[:0], f.mem[:0], f.done[:0], 0
	pos := skipWS(src, 0)
	if pos >= len(src) || src[pos] != '{' {
		f.src = nil
		return nil, false
	}
	end, start, stop, ok := f.object(pos, 1, f.root)
	f.root = f.slot // one sender's bodies have the same shape
	if ok && skipWS(src, end) == len(src) {
		// Without arrays the form is never longer than the body (the same tokens, whitespace
		// dropped); array index keys lengthen it, and append grows it for them.
		f.out = f.emit(slices.Grow(f.out, len(src)), start, stop)
	} else {
		ok = false
	}
	f.src = nil // do not keep the caller's body alive in a pooled state
	if !ok {
		return nil, false
	}
	return f.out, true
}

// object parses the object opening at pos, depth levels deep, and records its members,
// sorted, in f.done. It returns the position after the object and where its members lie in
// f.done, and sets f.slot. hint is 1 + the index in f.shapes of the shape the object likely
// has (see shape.child), or 0.
func (f *fastNode) object(pos, depth, hint int) (end, start, stop int, ok bool) {
	if depth > MaxDepth {
		return 0, 0, 0, false
	}
	src := f.src
	m0 := len(f.mem)
	pos = skipIndent(src, pos+1)
	if pos < len(src) && src[pos] == '}' {
		f.slot = 0
		return pos + 1, len(f.done), len(f.done), true
	}
	var sh *shape // the remembered shape predicting the keys, if any
	shi := -1     // its index in f.shapes
	var gen uint32
	if hint > 0 {
		// The hinted shape (see shape.child) predicts the first key too; if the key is not
		// its first, the key is read and looked up as without a hint.
		if shi = (hint - 1) % numShapes; f.shapes[shi].n > 0 {
			sh = &f.shapes[shi]
			gen = sh.gen
		}
	}
	predicted := 0 // members after the first whose keys sh predicted
	count := 0     // members so far
	for i := 0; ; i++ {
		count++
		var ks, ke int
		var pre, pre2 uint64
		ok = false
		if sh != nil && i < sh.n {
			if l := int(sh.klen[i]); l != 0 && pos+(l+3+7)&^7 <= len(src) {
				// The key sh predicts, with its quotes and the ':' after it, compared in as
				// many masked words as it takes (see predictedKey; its check is written out
				// here, in the loop every member takes).
				kw := &sh.words[i]
				d := (binary.LittleEndian.Uint64(src[pos:]) ^ kw.w[0]) & kw.m[0]
				if l > 8-3 {
					d |= (binary.LittleEndian.Uint64(src[pos+8:]) ^ kw.w[1]) & kw.m[1]
					if l > 16-3 {
						d |= (binary.LittleEndian.Uint64(src[pos+16:]) ^ kw.w[2]) & kw.m[2]
					}
				}
				if d == 0 {
					ks, ke, pre, pre2, ok = pos+1, pos+1+l, sh.keys[2*i], sh.keys[2*i+1], true
					pos = skipWS(src, pos+3+l)
				}
			}
			if !ok {
				pos, ks, ke, pre, pre2, ok = f.predictedKey(pos, sh, i)
			}
			if ok && i > 0 {
				predicted++
			}
		}
		if !ok {
			if pos, ks, ke, pre, pre2, ok = f.key(pos); !ok {
				return 0, 0, 0, false
			}
			if i == 0 {
				shi = f.findSlot(pre, pre2)
				if sh = f.shapeAt(shi); sh != nil {
					gen = sh.gen
				}
			}
		}
		var vs, ve uint32
		if pos >= len(src) {
			return 0, 0, 0, false
		}
		// Strings and numbers, the most common values, are read here; objects here too, to
		// pass them their hint.
		switch c := src[pos]; {
		case c == '"':
			end := skipShort(src, pos+1)
			if end >= len(src) || src[end] != '"' {
				return 0, 0, 0, false
			}
			vs, ve, pos = uint32(pos), uint32(end+1), end+1
		case c-'0' < 10 || c == '-':
			var end, printed int
			if end, printed, ok = number(src, pos); !ok {
				return 0, 0, 0, false
			}
			vs, ve, pos = uint32(pos), uint32(printed), end
		case c == '{':
			hint := 0
			if sh != nil && i < sh.n {
				hint = int(sh.child[i])
			}
			end, start, stop, ok := f.object(pos, depth+1, hint)
			if !ok {
				return 0, 0, 0, false
			}
			vs, ve, pos = uint32(start), uint32(stop)|inOut, end
			if sh != nil && i < sh.n && sh.gen == gen {
				sh.child[i] = uint8(f.slot) // the hint for the next object of this shape
			}
		default:
			if pos, vs, ve, ok = f.value(pos, depth, 0); !ok {
				return 0, 0, 0, false
			}
		}
		// Filled in place: appending a struct literal assembles it on the stack first and
		// then copies it, a store-forwarding stall per member.
		if len(f.mem) == cap(f.mem) {
			f.mem = slices.Grow(f.mem, 16)
		}
		f.mem = f.mem[:len(f.mem)+1]
		m := &f.mem[len(f.mem)-1]
		m.pre, m.pre2, m.keyStart, m.keyEnd, m.valStart, m.valEnd = pre, pre2, uint32(ks), uint32(ke), vs, ve
		pos = skipIndent(src, pos)
		if pos >= len(src) {
			return 0, 0, 0, false
		}
		if src[pos] == ',' {
			pos++
			// A newline and a run of spaces, as pretty-printed bodies have before members,
			// read a byte at a time: a body's indentation repeats, so the loop's exit is a
			// branch the processor predicts (see skipShort).
			if pos < len(src) && src[pos] == '\n' {
				pos++
				for pos < len(src) && src[pos] == ' ' {
					pos++
				}
			}
			pos = skipWS(src, pos)
			continue
		}
		if src[pos] != '}' {
			return 0, 0, 0, false
		}
		pos++
		break
	}
	// Every key after the first predicted by a shape that has not changed since: the keys'
	// prefixes are the shape's.
	allPredicted := sh != nil && predicted == count-1 && sh.gen == gen
	members := f.mem[m0:]
	start = len(f.done)
	f.slot = 0
	if len(members) <= maxInsertionSort {
		if f.done, ok = f.appendShaped(f.done, members, shi, allPredicted); !ok {
			return 0, 0, 0, false // duplicate key: the general parser reports it
		}
	} else {
		f.sortMembers(members)
		for i := 1; i < len(members); i++ {
			if a, b := &members[i-1], &members[i]; a.pre == b.pre && a.pre2 == b.pre2 && bytes.Equal(f.keyText(a), f.keyText(b)) {
				return 0, 0, 0, false // duplicate key
			}
		}
		for i := range members {
			f.done = append(f.done, members[i].fastSpan)
		}
	}
	f.mem = f.mem[:m0]
	return pos, start, len(f.done), true
}

// appendShaped appends members, at most maxInsertionSort of them, to done in key order, or
// returns ok false when two have the same key. An object of a remembered shape (sh, found by
// its first key, unless a nested object's shape has replaced it since) is put in order by its
// perm; one of minShape or more members is sorted and its shape remembered. predicted says
// that the object's key prefixes are known to be sh's (sh predicted every key after the
// first, the first was found by its prefixes, and sh has not changed since), so that only
// their number is left to compare.
func (f *fastNode) appendShaped(done []fastSpan, members []fastMember, shi int, predicted bool) (_ []fastSpan, ok bool) {
	n := len(members)
	if n < minShape {
		done, ok, _ = f.appendSorted(done, members, nil)
		return done, ok
	}
	if sh := f.shapeAt(shi); sh != nil && sh.n == n {
		same := true
		if !predicted {
			keys := sh.keys[:2*n]
			for i := range members {
				if m := &members[i]; m.pre != keys[2*i] || m.pre2 != keys[2*i+1] {
					same = false
					break
				}
			}
		}
		if same {
			k := len(done)
			done = slices.Grow(done, n)[:k+n]
			out := done[k:]
			for i, p := range sh.perm[:n] {
				out[i] = members[p].fastSpan
			}
			f.slot = shi + 1
			return done, true
		}
	}
	var perm [maxInsertionSort]uint8
	done, ok, byPrefix := f.appendSorted(done, members, &perm)
	if ok && byPrefix {
		shi = f.shapeSlot(members[0].pre, members[0].pre2)
		sh := &f.shapes[shi]
		f.slot = shi + 1
		f.gen++
		sh.n, sh.gen, sh.child = n, f.gen, [maxInsertionSort]uint8{}
		for i := range members {
			m := &members[i]
			sh.keys[2*i], sh.keys[2*i+1] = m.pre, m.pre2
			sh.klen[i] = 0
			if l := int(m.keyEnd - m.keyStart); l <= maxPredicted {
				sh.klen[i] = uint8(l)
				var b, mb [24]byte
				b[0] = '"'
				copy(b[1:], f.src[m.keyStart:m.keyEnd])
				b[l+1], b[l+2] = '"', ':'
				for j := range l + 3 {
					mb[j] = 0xff
				}
				kw := &sh.words[i]
				for j := range 3 {
					kw.w[j] = binary.LittleEndian.Uint64(b[8*j:])
					kw.m[j] = binary.LittleEndian.Uint64(mb[8*j:])
				}
			}
		}
		sh.perm = perm
	}
	return done, ok
}

// shapeAt returns the shape at index i of f.shapes, or nil for i < 0.
func (f *fastNode) shapeAt(i int) *shape {
	if i < 0 {
		return nil
	}
	return &f.shapes[i%numShapes]
}

// appendSorted appends members, at most maxInsertionSort of them, to done in key order, or
// returns ok false when two have the same key. With perm, it also writes there the member
// order it sorted them into, and byPrefix reports whether no two keys share their first
// sixteen bytes. It sorts words holding a key's first seven
// bytes above the member's index (which fits the low byte: maxInsertionSort < 256) by
// insertion, moving words rather than members, then orders each run of keys sharing those
// seven bytes by full comparison, and gathers the members in that order.
func (f *fastNode) appendSorted(done []fastSpan, members []fastMember, perm *[maxInsertionSort]uint8) (_ []fastSpan, ok, byPrefix bool) {
	var w [maxInsertionSort]uint64
	words := w[:len(members)]
	byPrefix = true
	for i := range members {
		words[i] = members[i].pre&^0xff | uint64(i)
	}
	for i := 1; i < len(words); i++ {
		x := words[i]
		j := i
		for ; j > 0 && words[j-1] > x; j-- {
			words[j] = words[j-1]
		}
		words[j] = x
	}
	for i := 0; i < len(words); {
		j := i + 1
		for j < len(words) && words[j]>>8 == words[i]>>8 {
			j++
		}
		if j-i > 1 {
			full, ok := f.sortRun(members, words[i:j])
			if !ok {
				return done, false, false
			}
			byPrefix = byPrefix && !full
		}
		i = j
	}
	n := len(done)
	done = slices.Grow(done, len(words))[:n+len(words)]
	out := done[n:]
	for i, x := range words {
		out[i] = members[x&0xff].fastSpan
	}
	if perm != nil {
		for i, x := range words {
			perm[i] = uint8(x)
		}
	}
	return done, true, byPrefix
}

// sortRun orders by full key comparison the words of members whose keys share their first
// seven bytes, or returns ok false when two keys are equal (insertion sort compares every key
// with the one it comes to rest after, so equal keys always meet). full reports whether two
// keys shared their first sixteen bytes, so that their text beyond had to be compared.
func (f *fastNode) sortRun(members []fastMember, run []uint64) (full, ok bool) {
	for i := 1; i < len(run); i++ {
		x := run[i]
		m := &members[x&0xff]
		j := i
		for ; j > 0; j-- {
			p := &members[run[j-1]&0xff]
			c := cmp.Compare(m.pre, p.pre)
			if c == 0 {
				c = cmp.Compare(m.pre2, p.pre2)
			}
			if c == 0 {
				full = true
				c = bytes.Compare(f.keyText(m), f.keyText(p))
			}
			if c == 0 {
				return full, false
			}
			if c > 0 {
				break
			}
			run[j] = run[j-1]
		}
		run[j] = x
	}
	return full, true
}

// array parses the array opening at pos, depth levels deep, and records its elements, in
// order, in f.done. It returns the position after the array and where its elements lie in
// f.done.
func (f *fastNode) array(pos, depth int) (end, start, stop int, ok bool) {
	if depth > MaxDepth {
		return 0, 0, 0, false
	}
	src := f.src
	m0 := len(f.mem)
	pos = skipIndent(src, pos+1)
	if pos < len(src) && src[pos] == ']' {
		return pos + 1, len(f.done), len(f.done), true
	}
	hint := 0 // the shape of the last element that was an object: elements share theirs
	for {
		var vs, ve uint32
		if pos, vs, ve, ok = f.value(pos, depth, hint); !ok {
			return 0, 0, 0, false
		}
		if ve&inOut != 0 && vs&inOut == 0 {
			hint = f.slot
		}
		if len(f.mem) == cap(f.mem) {
			f.mem = slices.Grow(f.mem, 16)
		}
		f.mem = f.mem[:len(f.mem)+1]
		m := &f.mem[len(f.mem)-1]
		m.valStart, m.valEnd = vs, ve
		pos = skipIndent(src, pos)
		if pos >= len(src) {
			return 0, 0, 0, false
		}
		if src[pos] == ',' {
			pos = skipIndent(src, pos+1)
			continue
		}
		if src[pos] != ']' {
			return 0, 0, 0, false
		}
		pos++
		break
	}
	start = len(f.done)
	for i := m0; i < len(f.mem); i++ {
		f.done = append(f.done, f.mem[i].fastSpan)
	}
	f.mem = f.mem[:m0]
	return pos, start, len(f.done), true
}

// emit appends the Node form of the object whose sorted members are f.done[lo:hi]. Keys and
// values are copied with appendSpan, which growSpan gives room for. Each member is written
// after a ',', the first one's then turned into the '{'.
func (f *fastNode) emit(dst []byte, lo, hi int) []byte {
	if lo == hi {
		return append(dst, '{', '}')
	}
	src := f.src
	o := len(dst)
	for i := lo; i < hi; i++ {
		m := &f.done[i]
		dst = append(growSpan(dst), ',')
		ks, ke := int(m.keyStart)-1, int(m.keyEnd)+1 // the key with its quotes
		switch {
		case m.valEnd&inOut != 0:
			dst = appendSpan(dst, src, ks, ke)
			dst = append(dst, ':')
			lo, hi := int(m.valStart&^inOut), int(m.valEnd&^inOut)
			if m.valStart&inOut == 0 {
				dst = f.emit(dst, lo, hi)
			} else {
				dst = f.emitArray(dst, lo, hi)
			}
		case int(m.valStart) == ke+1:
			// `"key":value` with nothing in between, as in compact bodies: one copy.
			dst = appendSpan(dst, src, ks, int(m.valEnd))
		case src[ke] == ':':
			// `"key": value`, as pretty-printed bodies have it: the key and colon in one copy.
			dst = appendSpan(dst, src, ks, ke+1)
			dst = appendSpan(dst, src, int(m.valStart), int(m.valEnd))
		default:
			dst = appendSpan(dst, src, ks, ke)
			dst = append(dst, ':')
			dst = appendSpan(dst, src, int(m.valStart), int(m.valEnd))
		}
	}
	dst[o] = '{'
	return append(dst, '}')
}

// emitArray appends the Node form of the array whose elements are f.done[lo:hi]: the object
// the Node reference makes of it, keyed by index in index order.
func (f *fastNode) emitArray(dst []byte, lo, hi int) []byte {
	dst = growSpan(dst)
	dst = append(dst, '{')
	var k indexKey
	for i := lo; i < hi; i++ {
		dst = growSpan(dst)
		switch j := i - lo; {
		case j == 0:
			dst = append(dst, '"', '0', '"', ':')
		case j < 10:
			dst = append(dst, ',', '"', byte('0'+j), '"', ':')
		default:
			if j == 10 { // the counter takes over at "10"
				k.buf[9], k.buf[10], k.buf[11], k.buf[12], k.start = '"', '1', '0', '"', 9
			}
			dst = append(dst, ',')
			dst = k.appendQuoted(dst)
			dst = append(dst, ':')
			k.next()
		}
		e := &f.done[i]
		switch {
		case e.valEnd&inOut == 0: // a scalar
			dst = appendSpan(growSpan(dst), f.src, int(e.valStart), int(e.valEnd))
		case e.valStart&inOut == 0:
			dst = f.emit(dst, int(e.valStart), int(e.valEnd&^inOut))
		default:
			dst = f.emitArray(dst, int(e.valStart&^inOut), int(e.valEnd&^inOut))
		}
	}
	return append(dst, '}')
}

// key reads a member's key and the ':' after it. It returns the position of the value, the
// key's text as src[ks:ke] and its sort prefix.
func (f *fastNode) key(pos int) (_, ks, ke int, pre, pre2 uint64, ok bool) {
	src := f.src
	if pos >= len(src) || src[pos] != '"' {
		return 0, 0, 0, 0, 0, false
	}
	start := pos + 1
	end, pre, pre2 := scanShortKey(src, start)
	if end >= len(src) || src[end] != '"' {
		return 0, 0, 0, 0, 0, false // an escape, a control or non-ASCII byte, or no closing quote
	}
	// A key starting with a digit may be an array index, which JavaScript orders first and
	// numerically; "__proto__" is dropped by the Node reference. The general path handles both.
	if pre>>56-'0' < 10 && end > start || end-start == 9 && string(src[start:end]) == "__proto__" {
		return 0, 0, 0, 0, 0, false
	}
	// The ':' usually follows the key directly.
	if end+1 < len(src) && src[end+1] == ':' {
		return skipWS(src, end+2), start, end, pre, pre2, true
	}
	pos = skipWS(src, end+1)
	if pos >= len(src) || src[pos] != ':' {
		return 0, 0, 0, 0, 0, false
	}
	return skipWS(src, pos+1), start, end, pre, pre2, true
}

// predictedKey reads a member's key and the ':' after it, as key does, when the key is the
// i-th key of sh (0 < sh.klen[i] <= maxPredicted), and returns ok false, having read nothing,
// when it is not or when there is not enough text to tell. The key's bytes and its quotes are
// compared with the remembered text in three masked words instead of being scanned: a
// remembered key passed key's checks, so the same text passes them too.
func (f *fastNode) predictedKey(pos int, sh *shape, i int) (_, ks, ke int, pre, pre2 uint64, ok bool) {
	src := f.src
	l := int(sh.klen[i])
	if l == 0 || pos+2+l >= len(src) {
		return pos, 0, 0, 0, 0, false
	}
	kw := &sh.words[i]
	text := src[pos:]
	if len(text) < 24 { // near the end of the body: the words read from a zero-padded copy
		var b [24]byte
		copy(b[:], text)
		text = b[:]
	}
	// The ':' may come after whitespace: not compared here.
	colon := uint64(0xff) << (8 * ((l + 2) % 8))
	var d uint64
	for j := range 3 {
		m := kw.m[j]
		if j == (l+2)/8 {
			m &^= colon
		}
		d |= (binary.LittleEndian.Uint64(text[8*j:]) ^ kw.w[j]) & m
	}
	if d != 0 {
		return pos, 0, 0, 0, 0, false
	}
	pre, pre2 = sh.keys[2*i], sh.keys[2*i+1]
	ks, ke = pos+1, pos+1+l
	if src[ke+1] == ':' { // ke+1 = pos+2+l < len(src)
		return skipWS(src, ke+2), ks, ke, pre, pre2, true
	}
	p := skipWS(src, ke+1)
	if p >= len(src) || src[p] != ':' {
		return pos, 0, 0, 0, 0, false
	}
	return skipWS(src, p+1), ks, ke, pre, pre2, true
}

// value reads a value (a member's or an element's), depth levels deep, and returns the
// position after it and where its canonical text is (see fastMember's valStart and valEnd).
// hint is passed on to an object (see object).
func (f *fastNode) value(pos, depth, hint int) (_ int, vs, ve uint32, ok bool) {
	src := f.src
	if pos >= len(src) {
		return 0, 0, 0, false
	}
	switch c := src[pos]; {
	case c == '"':
		end := skipShort(src, pos+1)
		if end >= len(src) || src[end] != '"' {
			return 0, 0, 0, false
		}
		return end + 1, uint32(pos), uint32(end + 1), true
	case c == '{':
		end, start, stop, ok := f.object(pos, depth+1, hint)
		if !ok {
			return 0, 0, 0, false
		}
		return end, uint32(start), uint32(stop) | inOut, true
	case c == '[':
		end, start, stop, ok := f.array(pos, depth+1)
		if !ok {
			return 0, 0, 0, false
		}
		return end, uint32(start) | inOut, uint32(stop) | inOut, true
	case c == 'n' || c == 't' || c == 'f':
		n := 4
		if c == 'f' {
			n = 5
		}
		if pos+n > len(src) {
			return 0, 0, 0, false
		}
		switch string(src[pos : pos+n]) {
		case "null", "true", "false":
			return pos + n, uint32(pos), uint32(pos + n), true
		}
		return 0, 0, 0, false
	case c-'0' < 10 || c == '-':
		end, printed, ok := number(src, pos)
		return end, uint32(pos), uint32(printed), ok
	}
	return 0, 0, 0, false // not JSON
}

// number reads the number at pos and returns its end and the end of the text JavaScript
// prints for it, which starts at pos; ok is false for a number outside the subset and for text
// that is not a number.
func number(src []byte, pos int) (end, printed int, ok bool) {
	c := src[pos]
	if c != '0' && c != '-' {
		// A count or an id: up to 15 digits, no fraction or exponent, printed as written.
		i := pos + 1
		for i < len(src) && src[i]-'0' < 10 {
			i++
		}
		if i-pos <= 15 && i < len(src) && src[i] != '.' && src[i]|0x20 != 'e' {
			return i, i, true
		}
	}
	// Ids, counts and amounts of up to 15 digits: their own digits, trailing fraction
	// zeros dropped, are what JavaScript prints. Longer ones take scanNumber's test.
	if end, printed, ok := shortDecimal(src, pos); ok {
		return end, printed, true
	}
	end, flags, ok := scanNumber(src, pos)
	if !ok || flags&nExp != 0 {
		return 0, 0, false
	}
	if flags&nNodeRaw != 0 {
		return end, end, true
	}
	if t := trimFraction(src, end, flags); t < end {
		// Amounts like 9.10 or 2.00: JavaScript drops the trailing fraction zeros (and a
		// point left bare) that do not change the double, and prints the rest as written
		// when scanNumber says so of the shortened text.
		if _, f2, _ := scanNumber(src[:t], pos); f2&nNodeRaw != 0 {
			return end, t, true
		}
	}
	return 0, 0, false
}

// skipShort returns the index of the first byte at or after i that is not strSafe, as
// skipSafe does, but reads the first shortRun bytes one at a time. Most string values of a
// webhook are short, and those at one place of a body have the same length from one object or
// body to the next (ids, currencies, statuses, codes): the exit of a byte loop is then a
// branch the processor predicts, so it parses on at the predicted position while the loop is
// checked, where a word-at-a-time scan makes every later load wait for its result (half the
// cost of a pass over the nested document in BenchmarkFastNodeDocs).
func skipShort(src []byte, i int) int {
	lim := min(len(src), i+shortRun)
	for i < lim && strSafe(src[i]) {
		i++
	}
	if i == lim {
		return skipSafe(src, i)
	}
	return i
}

// shortRun is how many bytes skipShort reads one at a time.
const shortRun = 16

// scanShortKey returns the end of the plain ASCII text of the key starting at start, as
// scanKey does, and its first and next eight bytes big-endian, zero padded (keys hold no
// zero byte, so padding never makes two keys alike). Keys are mostly shorter than sixteen
// bytes, or differ within them: two words decide, and the rest of a longer key is only
// compared when two keys share their first sixteen bytes.
func scanShortKey(src []byte, start int) (i int, pre, pre2 uint64) {
	if start+16 > len(src) {
		i = skipSafe(src, start)
		var b [16]byte
		copy(b[:], src[start:min(i, start+16)])
		return i, binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	}
	w := binary.LittleEndian.Uint64(src[start:])
	if m := strSpecial(w); m != 0 {
		n := uint(bits.TrailingZeros64(m) >> 3) // plain bytes before the first special one, 0..7
		return start + int(n), bits.ReverseBytes64(w) &^ (^uint64(0) >> (8 * n)), 0
	}
	// Most longer keys (payment_status, outcome_currency) end within the next word.
	w2 := binary.LittleEndian.Uint64(src[start+8:])
	if m := strSpecial(w2); m != 0 {
		n := uint(bits.TrailingZeros64(m) >> 3)
		return start + 8 + int(n), bits.ReverseBytes64(w), bits.ReverseBytes64(w2) &^ (^uint64(0) >> (8 * n))
	}
	return skipSafe(src, start+16), bits.ReverseBytes64(w), bits.ReverseBytes64(w2)
}

// shortDecimal reads the number at pos when it has no exponent, at most 15 digits besides
// leading zeros and trailing fraction zeros, and a value of 0 or at least 1e-6 in magnitude
// (not -0): such a decimal is the shortest round-trip text of its double, so JavaScript prints
// it as written once the trailing fraction zeros (and a point left bare) are dropped. So it
// does with 16 or 17 such digits, a fraction among them, when shortestIsExact vouches for
// them (as scanNumber asks it). It
// returns the end of the number and the end of that printed text; ok is false for any other
// number, and for text that is not a JSON number, which scanNumber then judges.
func shortDecimal(src []byte, pos int) (end, printed int, ok bool) {
	i := pos
	if src[i] == '-' {
		i++
	}
	is := i
	for i < len(src) && src[i]-'0' < 10 {
		i++
	}
	ie := i
	if ie == is || ie-is > 15 || src[is] == '0' && ie-is > 1 {
		return 0, 0, false
	}
	if i >= len(src) || src[i] != '.' {
		if i < len(src) && src[i]|0x20 == 'e' || src[is] == '0' && is > pos {
			return 0, 0, false // an exponent, or -0
		}
		return i, i, true
	}
	i++
	fs := i
	for i < len(src) && src[i]-'0' < 10 {
		i++
	}
	fe := i
	if fe == fs || i < len(src) && src[i]|0x20 == 'e' {
		return 0, 0, false
	}
	t := fe
	for t > fs && src[t-1] == '0' {
		t--
	}
	if src[is] != '0' {
		if ie-is+t-fs > 15 {
			// 16 or 17 digits: as written when it is the shortest text of its double, the
			// test scanNumber makes (here without reading the number again).
			if ie-is+t-fs <= 17 && t > fs && shortestIsExact(digitsValue(src[is:ie], src[fs:t]), t-fs) {
				return fe, t, true
			}
			return 0, 0, false
		}
		if t == fs {
			return fe, ie, true // 2.00 prints as 2
		}
		return fe, t, true
	}
	if t == fs { // zero
		if is > pos {
			return 0, 0, false // -0.0 prints as 0, not as written
		}
		return fe, ie, true
	}
	lead := fs
	for src[lead] == '0' {
		lead++
	}
	if lead-fs > 5 {
		return 0, 0, false // below 1e-6: exponent form
	}
	if t-lead > 15 && (t-lead > 17 || !shortestIsExact(digitsValue(nil, src[lead:t]), t-fs)) {
		return 0, 0, false // too many digits for its double to print them all
	}
	return fe, t, true
}

// trimFraction returns the end of the number ending at end (with flags from scanNumber)
// without its trailing fraction zeros, and without its point when they are the whole fraction:
// the same decimal value, so the same double. A number without a fraction is returned whole.
func trimFraction(src []byte, end int, flags uint8) int {
	if flags&nFrac == 0 {
		return end
	}
	t := end
	for src[t-1] == '0' { // stops at the point at the latest
		t--
	}
	if src[t-1] == '.' {
		t--
	}
	return t
}

func (f *fastNode) keyText(m *fastMember) []byte { return f.src[m.keyStart:m.keyEnd] }

// sortMembers orders the members of an object larger than maxInsertionSort by key bytes,
// which for the ASCII keys the fast path accepts is the UTF-16 order of JavaScript's
// Array.prototype.sort. Webhook objects are small and take appendSorted; larger ones, which
// only a forged body has, take pdqsort, whose O(n log n) bound holds for every input order.
func (f *fastNode) sortMembers(members []fastMember) {
	slices.SortFunc(members, func(a, b fastMember) int {
		f.cmps++
		if a.pre != b.pre {
			return cmp.Compare(a.pre, b.pre)
		}
		if a.pre2 != b.pre2 {
			return cmp.Compare(a.pre2, b.pre2)
		}
		return bytes.Compare(f.keyText(&a), f.keyText(&b))
	})
}
