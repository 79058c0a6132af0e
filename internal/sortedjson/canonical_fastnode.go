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
// JovePay makes, and this pass costs about half the general one.
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
	// done holds the sorted members of the finished objects, each object's contiguous.
	done []fastMember
	// cmps counts the key comparisons of pdqsort on large objects (tests bound it).
	cmps int
}

// fastMember is one object member or array element: its key's text (between the quotes;
// unused for an element) and where its value's canonical text is: in src for a scalar (copied
// from valStart to valEnd), or the container's members or elements in done.
type fastMember struct {
	pre      uint64 // the key's first 8 bytes, big-endian, zero padded: most comparisons end here
	keyStart uint32
	keyEnd   uint32
	// valStart has inOut in its top bit when the value is an array.
	valStart uint32
	// valEnd has inOut in its top bit when the value is an object or array
	// (valStart&^inOut:valEnd&^inOut are then its members or elements in done): 24 bytes a
	// member keeps the sort's and the gather's moves cheap.
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
	end, start, stop, ok := f.object(pos, 1)
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
// f.done.
func (f *fastNode) object(pos, depth int) (end, start, stop int, ok bool) {
	if depth > MaxDepth {
		return 0, 0, 0, false
	}
	src := f.src
	m0 := len(f.mem)
	pos = skipWS(src, pos+1)
	if pos < len(src) && src[pos] == '}' {
		return pos + 1, len(f.done), len(f.done), true
	}
	for {
		var ks, ke int
		var pre uint64
		if pos, ks, ke, pre, ok = f.key(pos); !ok {
			return 0, 0, 0, false
		}
		var vs, ve uint32
		if pos, vs, ve, ok = f.value(pos, depth); !ok {
			return 0, 0, 0, false
		}
		// Filled in place: appending a struct literal assembles it on the stack first and
		// then copies it, a store-forwarding stall per member.
		if len(f.mem) == cap(f.mem) {
			f.mem = slices.Grow(f.mem, 16)
		}
		f.mem = f.mem[:len(f.mem)+1]
		m := &f.mem[len(f.mem)-1]
		m.pre, m.keyStart, m.keyEnd, m.valStart, m.valEnd = pre, uint32(ks), uint32(ke), vs, ve
		pos = skipWS(src, pos)
		if pos >= len(src) {
			return 0, 0, 0, false
		}
		if src[pos] == ',' {
			pos = skipWS(src, pos+1)
			continue
		}
		if src[pos] != '}' {
			return 0, 0, 0, false
		}
		pos++
		break
	}
	members := f.mem[m0:]
	start = len(f.done)
	if len(members) <= maxInsertionSort {
		if f.done, ok = f.appendSorted(f.done, members); !ok {
			return 0, 0, 0, false // duplicate key: the general parser reports it
		}
	} else {
		f.sortMembers(members)
		for i := 1; i < len(members); i++ {
			if a, b := &members[i-1], &members[i]; a.pre == b.pre && bytes.Equal(f.keyText(a), f.keyText(b)) {
				return 0, 0, 0, false // duplicate key
			}
		}
		f.done = append(f.done, members...)
	}
	f.mem = f.mem[:m0]
	return pos, start, len(f.done), true
}

// appendSorted appends members, at most maxInsertionSort of them, to done in key order, or
// returns ok false when two have the same key. It sorts words holding a key's first seven
// bytes above the member's index (which fits the low byte: maxInsertionSort < 256) by
// insertion, moving words rather than members, then orders each run of keys sharing those
// seven bytes by full comparison, and gathers the members in that order.
func (f *fastNode) appendSorted(done, members []fastMember) (_ []fastMember, ok bool) {
	var w [maxInsertionSort]uint64
	words := w[:len(members)]
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
		if j-i > 1 && !f.sortRun(members, words[i:j]) {
			return done, false
		}
		i = j
	}
	n := len(done)
	done = slices.Grow(done, len(words))[:n+len(words)]
	out := done[n:]
	for i, x := range words {
		out[i] = members[x&0xff]
	}
	return done, true
}

// sortRun orders by full key comparison the words of members whose keys share their first
// seven bytes, or returns false when two keys are equal (insertion sort compares every key
// with the one it comes to rest after, so equal keys always meet).
func (f *fastNode) sortRun(members []fastMember, run []uint64) bool {
	for i := 1; i < len(run); i++ {
		x := run[i]
		m := &members[x&0xff]
		j := i
		for ; j > 0; j-- {
			p := &members[run[j-1]&0xff]
			c := cmp.Compare(m.pre, p.pre)
			if c == 0 {
				c = bytes.Compare(f.keyText(m), f.keyText(p))
			}
			if c == 0 {
				return false
			}
			if c > 0 {
				break
			}
			run[j] = run[j-1]
		}
		run[j] = x
	}
	return true
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
	pos = skipWS(src, pos+1)
	if pos < len(src) && src[pos] == ']' {
		return pos + 1, len(f.done), len(f.done), true
	}
	for {
		var vs, ve uint32
		if pos, vs, ve, ok = f.value(pos, depth); !ok {
			return 0, 0, 0, false
		}
		if len(f.mem) == cap(f.mem) {
			f.mem = slices.Grow(f.mem, 16)
		}
		f.mem = f.mem[:len(f.mem)+1]
		m := &f.mem[len(f.mem)-1]
		m.valStart, m.valEnd = vs, ve
		pos = skipWS(src, pos)
		if pos >= len(src) {
			return 0, 0, 0, false
		}
		if src[pos] == ',' {
			pos = skipWS(src, pos+1)
			continue
		}
		if src[pos] != ']' {
			return 0, 0, 0, false
		}
		pos++
		break
	}
	start = len(f.done)
	f.done = append(f.done, f.mem[m0:]...)
	f.mem = f.mem[:m0]
	return pos, start, len(f.done), true
}

// emit appends the Node form of the object whose sorted members are f.done[lo:hi]. Keys and
// values are copied with appendSpan, which growSpan gives room for.
func (f *fastNode) emit(dst []byte, lo, hi int) []byte {
	src := f.src
	dst = growSpan(dst)
	dst = append(dst, '{')
	for i := lo; i < hi; i++ {
		m := &f.done[i]
		dst = growSpan(dst)
		if i > lo {
			dst = append(dst, ',')
		}
		ks, ke := int(m.keyStart)-1, int(m.keyEnd)+1 // the key with its quotes
		switch {
		case m.valEnd&inOut != 0:
			dst = appendSpan(dst, src, ks, ke)
			dst = append(dst, ':')
			dst = f.emitValue(dst, m)
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
	return append(dst, '}')
}

// emitValue appends the Node form of the value of m.
func (f *fastNode) emitValue(dst []byte, m *fastMember) []byte {
	if m.valEnd&inOut == 0 {
		return appendSpan(growSpan(dst), f.src, int(m.valStart), int(m.valEnd))
	}
	lo, hi := int(m.valStart&^inOut), int(m.valEnd&^inOut)
	if m.valStart&inOut == 0 {
		return f.emit(dst, lo, hi)
	}
	// An array: the object the Node reference makes of it, keyed by index in index order.
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
		dst = f.emitValue(dst, &f.done[i])
	}
	return append(dst, '}')
}

// key reads a member's key and the ':' after it. It returns the position of the value, the
// key's text as src[ks:ke] and its sort prefix.
func (f *fastNode) key(pos int) (_, ks, ke int, pre uint64, ok bool) {
	src := f.src
	if pos >= len(src) || src[pos] != '"' {
		return 0, 0, 0, 0, false
	}
	start := pos + 1
	end, pre := scanShortKey(src, start)
	if end >= len(src) || src[end] != '"' {
		return 0, 0, 0, 0, false // an escape, a control or non-ASCII byte, or no closing quote
	}
	// A key starting with a digit may be an array index, which JavaScript orders first and
	// numerically; "__proto__" is dropped by the Node reference. The general path handles both.
	if pre>>56-'0' < 10 && end > start || end-start == 9 && string(src[start:end]) == "__proto__" {
		return 0, 0, 0, 0, false
	}
	// The ':' usually follows the key directly.
	if end+1 < len(src) && src[end+1] == ':' {
		return skipWS(src, end+2), start, end, pre, true
	}
	pos = skipWS(src, end+1)
	if pos >= len(src) || src[pos] != ':' {
		return 0, 0, 0, 0, false
	}
	return skipWS(src, pos+1), start, end, pre, true
}

// value reads a value (a member's or an element's), depth levels deep, and returns the
// position after it and where its canonical text is (see fastMember's valStart and valEnd).
func (f *fastNode) value(pos, depth int) (_ int, vs, ve uint32, ok bool) {
	src := f.src
	if pos >= len(src) {
		return 0, 0, 0, false
	}
	switch c := src[pos]; {
	case c == '"':
		var end int
		if pos+9 <= len(src) {
			// Short values (currencies, statuses) end within the first eight bytes.
			if s0 := strSpecial(binary.LittleEndian.Uint64(src[pos+1:])); s0 != 0 {
				end = pos + 1 + bits.TrailingZeros64(s0)>>3
			} else {
				end = skipSafe(src, pos+9)
			}
		} else {
			end = skipSafe(src, pos+1)
		}
		if end >= len(src) || src[end] != '"' {
			return 0, 0, 0, false
		}
		return end + 1, uint32(pos), uint32(end + 1), true
	case c == '{':
		end, start, stop, ok := f.object(pos, depth+1)
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
		// Ids, counts and amounts of up to 15 digits: their own digits, trailing fraction
		// zeros dropped, are what JavaScript prints. Longer ones take scanNumber's test.
		if end, printed, ok := shortDecimal(src, pos); ok {
			return end, uint32(pos), uint32(printed), true
		}
		end, flags, ok := scanNumber(src, pos)
		if !ok || flags&nExp != 0 {
			return 0, 0, 0, false
		}
		if flags&nNodeRaw != 0 {
			return end, uint32(pos), uint32(end), true
		}
		if t := trimFraction(src, end, flags); t < end {
			// Amounts like 9.10 or 2.00: JavaScript drops the trailing fraction zeros (and a
			// point left bare) that do not change the double, and prints the rest as written
			// when scanNumber says so of the shortened text.
			if _, f2, _ := scanNumber(src[:t], pos); f2&nNodeRaw != 0 {
				return end, uint32(pos), uint32(t), true
			}
		}
		return 0, 0, 0, false
	}
	return 0, 0, 0, false // not JSON
}

// scanShortKey returns the end of the plain ASCII text of the key starting at start, as
// scanKey does, and its first eight bytes big-endian, zero padded. Keys are mostly shorter
// than eight bytes, or differ within them: a single word decides, and the rest of a longer
// key is only compared when two keys share their first bytes.
func scanShortKey(src []byte, start int) (i int, pre uint64) {
	if start+8 > len(src) {
		i = skipSafe(src, start)
		var b [8]byte
		copy(b[:], src[start:i])
		return i, binary.BigEndian.Uint64(b[:])
	}
	w := binary.LittleEndian.Uint64(src[start:])
	if m := strSpecial(w); m != 0 {
		n := uint(bits.TrailingZeros64(m) >> 3) // plain bytes before the first special one, 0..7
		return start + int(n), bits.ReverseBytes64(w) &^ (^uint64(0) >> (8 * n))
	}
	return skipSafe(src, start+8), bits.ReverseBytes64(w)
}

// shortDecimal reads the number at pos when it has no exponent, at most 15 digits besides
// leading zeros and trailing fraction zeros, and a value of 0 or at least 1e-6 in magnitude
// (not -0): such a decimal is the shortest round-trip text of its double, so JavaScript prints
// it as written once the trailing fraction zeros (and a point left bare) are dropped. It
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
	if lead-fs > 5 || t-lead > 15 {
		return 0, 0, false // below 1e-6 (exponent form), or too many digits to tell here
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
		return bytes.Compare(f.keyText(&a), f.keyText(&b))
	})
}
