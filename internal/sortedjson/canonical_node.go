package sortedjson

import (
	"bytes"
	"slices"
)

// The Node reference (JovePay's "Getting Started" page) is
//
//	function sortObject(obj) {
//	  return Object.keys(obj).sort().reduce((result, key) => {
//	    result[key] = (obj[key] && typeof obj[key] === 'object') ? sortObject(obj[key]) : obj[key];
//	    return result;
//	  }, {});
//	}
//	hmac.update(JSON.stringify(sortObject(JSON.parse(body))));
//
// which, run as written, means:
//   - arrays go through sortObject too and come out as objects keyed "0", "1", …;
//   - the result's property order is JavaScript's: array-index keys ("0".."4294967294") first in
//     numeric order, then the other keys in insertion order, which .sort() made UTF-16 order;
//   - `result["__proto__"] = v` runs the Object.prototype.__proto__ setter instead of creating a
//     property, so a "__proto__" member never appears in the output, whatever its value;
//   - at the top level, Object.keys(5) and Object.keys(true) are empty ("{}"), a string splits
//     into its UTF-16 code units, and null throws (no Node signature exists for it);
//   - numbers are doubles printed by Number::toString; strings by JSON.stringify.

// appendNodeRoot writes the Node form of the parsed document; false means the reference
// program fails on it.
func (c *canon) appendNodeRoot(dst []byte) ([]byte, bool) {
	root := &c.doc.nodes[0]
	switch root.kind {
	case kindNull:
		return dst, false // Object.keys(null) throws a TypeError
	case kindObject, kindArray:
		return c.appendNodeValue(dst, 0), true
	case kindString:
		dst = append(dst, '{')
		it := utf16Iter{s: c.doc.text(root)}
		var k indexKey
		for {
			u, ok := it.next()
			if !ok {
				break
			}
			dst = growSpan(dst)
			if !k.first() {
				dst = append(dst, ',')
			}
			dst = k.appendQuoted(dst)
			dst = append(dst, ':')
			dst = appendNodeUnit(dst, u)
			k.next()
		}
		return append(dst, '}'), true
	}
	return append(dst, '{', '}'), true // numbers and booleans have no own enumerable keys
}

func (c *canon) appendNodeValue(dst []byte, i int32) []byte {
	d := &c.doc
	n := &d.nodes[i]
	switch n.kind {
	case kindNull:
		return append(dst, "null"...)
	case kindTrue:
		return append(dst, "true"...)
	case kindFalse:
		return append(dst, "false"...)
	case kindNumber:
		if n.flags&nNodeRaw != 0 {
			return append(dst, d.src[n.off:n.off+n.n]...)
		}
		return c.num.appendNodeNumber(dst, d.text(n))
	case kindString:
		return appendNodeString(dst, d.text(n), n.flags)
	case kindArray:
		dst = append(dst, '{')
		child := i + 1
		var k indexKey
		for range n.n {
			dst = growSpan(dst)
			if !k.first() {
				dst = append(dst, ',')
			}
			dst = k.appendQuoted(dst)
			dst = append(dst, ':')
			dst = c.appendNodeValue(dst, child)
			child = int32(d.nodes[child].end)
			k.next()
		}
		return append(dst, '}')
	}
	// Object.
	order := d.order[n.off : n.off+n.n]
	mark := len(c.scratch)
	if n.flags&oNodeOrder == 0 {
		c.scratch = append(c.scratch, order...)
		order = c.scratch[mark:]
		slices.SortFunc(order, c.cmpNodeKeys)
	}
	dst = append(dst, '{')
	first := true
	src := d.src
	for _, ki := range order {
		kn := &d.nodes[ki]
		if kn.n == 9 && string(d.text(kn)) == "__proto__" {
			continue // the __proto__ setter swallows it (see above)
		}
		dst = growSpan(dst)
		if !first {
			dst = append(dst, ',')
		}
		first = false
		// Keys and scalar values that JavaScript prints as written are copied from the source
		// with their quotes (and the ':' between them when the source has no whitespace
		// there); the rest goes through the general path.
		vs, ve := 0, 0 // the value's span if it is printed as written
		if vn := &d.nodes[ki+1]; vn.raw != 0 {
			q := int(vn.raw >> 1)
			vs, ve = int(vn.off)-q, int(vn.off+vn.n)+q
		}
		if kn.flags&(sArena|sEsc|sLone) == 0 {
			ks, ke := int(kn.off)-1, int(kn.off+kn.n)+1
			if src[ke] == ':' { // a parsed key is always followed by its ':' somewhere
				ke++
				if vs == ke {
					dst = appendSpan(dst, src, ks, ve)
					continue
				}
				dst = appendSpan(dst, src, ks, ke)
			} else {
				dst = appendSpan(dst, src, ks, ke)
				dst = append(dst, ':')
			}
		} else {
			dst = appendNodeString(dst, d.text(kn), kn.flags)
			dst = append(dst, ':')
		}
		if vs < ve {
			dst = appendSpan(dst, src, vs, ve)
		} else {
			dst = c.appendNodeValue(dst, ki+1)
		}
	}
	c.scratch = c.scratch[:mark]
	return append(dst, '}')
}

// indexKey is the quoted decimal key "0", "1", ... of the elements of an array (or the units
// of a top-level string) in the Node form, counted up in place: a body can have a million
// elements, and an increment is cheaper than formatting each index anew.
type indexKey struct {
	buf   [13]byte // '"', up to ten digits, '"', right-aligned (buf[0] stays unused)
	start int      // the opening quote is buf[start]; 0 before the first key
}

func (k *indexKey) first() bool { return k.start == 0 }

// appendQuoted appends the current key with its quotes; the first call starts at "0".
func (k *indexKey) appendQuoted(dst []byte) []byte {
	if k.start == 0 {
		k.buf[10], k.buf[11], k.buf[12], k.start = '"', '0', '"', 10
	}
	return append(dst, k.buf[k.start:]...)
}

// next moves to the following index (at most 2^32 - 1: element counts are uint32).
func (k *indexKey) next() {
	i := len(k.buf) - 2
	for k.buf[i] == '9' {
		k.buf[i] = '0'
		i--
	}
	if k.buf[i] == '"' { // all nines: one digit more
		k.buf[i] = '1'
		k.start--
		k.buf[k.start] = '"'
		return
	}
	k.buf[i]++
}

// cmpNodeKeys orders keys as a JavaScript object built in .sort() order lists them: array
// indexes first by value, then the rest by UTF-16 code units.
func (c *canon) cmpNodeKeys(a, b int32) int {
	c.cmps++
	d := &c.doc
	ia, ib := d.nodes[a].flags&sIndex != 0, d.nodes[b].flags&sIndex != 0
	ka, kb := d.str0(a), d.str0(b)
	switch {
	case ia && ib:
		if len(ka) != len(kb) { // no leading zeros: the shorter index is the smaller
			return len(ka) - len(kb)
		}
		return bytes.Compare(ka, kb)
	case ia:
		return -1
	case ib:
		return 1
	}
	return cmpUTF16(ka, kb)
}

// nodeSpan returns the source span [start, end) of a scalar value that JavaScript prints
// exactly as written (a string with its quotes), or start >= end for any other value. It is
// the definition of the raw mark the parser sets on value nodes (and the emitter reads
// instead); TestNodeRawMatchesNodeSpan holds the two together.
func (d *sjDoc) nodeSpan(n *jnode) (start, end int) {
	switch n.kind {
	case kindString:
		if n.flags&(sArena|sEsc|sLone) == 0 {
			return int(n.off) - 1, int(n.off+n.n) + 1
		}
	case kindNumber:
		if n.flags&nNodeRaw != 0 {
			return int(n.off), int(n.off + n.n)
		}
	case kindNull, kindTrue, kindFalse:
		return int(n.off), int(n.off + n.n)
	}
	return 0, 0
}

// spanRoom is the spare capacity appendSpan wants in dst for its fixed-size moves.
const spanRoom = 64

// growSpan makes sure dst has spanRoom bytes of spare capacity, doubling it when it has not.
// The Node form can be several times longer than the body (an array of n elements gains n
// index keys; a top-level string of n characters becomes n members), and append's own growth
// (a quarter at a time for large slices) would copy such a form about four times over.
func growSpan(dst []byte) []byte {
	if cap(dst)-len(dst) < spanRoom {
		dst = slices.Grow(dst, spanRoom+len(dst))
	}
	return dst
}

// appendSpan appends src[a:b] to dst. A span of up to 32 bytes, with 32 bytes readable in src
// and as much spare capacity in dst, is copied as one fixed-size 32-byte move and dst is then
// cut to the span's length: for the short keys and values of a webhook body, the call and size
// dispatch of runtime.memmove cost more than the copy. The move goes through a local array:
// assigned directly from one slice's array to the other's, it compiles to a memmove call (the
// two might overlap). The bytes past len(dst) are scratch.
func appendSpan(dst, src []byte, a, b int) []byte {
	n := len(dst)
	if b-a <= 32 && a+32 <= len(src) && n+32 <= cap(dst) {
		t := *(*[32]byte)(src[a : a+32])
		*(*[32]byte)(dst[n : n+32]) = t
		return dst[:n+b-a]
	}
	return append(dst, src[a:b]...)
}
