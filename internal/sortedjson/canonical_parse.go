package sortedjson

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"
)

// This file holds the JSON tokenizer behind the sorted-JSON (JovePay IPN) verifier. It parses
// the body once into a flat tree that keeps every number's raw text and every string decoded
// once, so that the three reference serializations (Node, PHP, Python) can be produced from
// the same tree without going through map[string]any, which would lose number text and
// duplicate keys.

// MaxDepth is the deepest nesting of arrays and objects the sorted-JSON verifier and
// canonicalizer accept; deeper bodies are rejected with ErrInvalidPayload.
const MaxDepth = 64

type jkind uint8

const (
	kindNull jkind = iota
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindArray
	kindObject
)

// Flags on string nodes (keys and values).
const (
	sArena    uint8 = 1 << iota // decoded text lives in doc.arena (the source had escapes)
	sNonASCII                   // contains bytes >= 0x80 (escaped by PHP and Python)
	sEsc                        // contains '"', '\\' or a control char (escaped by every form)
	sDEL                        // contains U+007F (escaped by Python only)
	sLone                       // contains a lone surrogate, stored WTF-8 style (ED A0..BF xx)
	sHigh                       // contains a char >= U+D000: UTF-16 order may differ from byte order
	sIndex                      // key is a JavaScript array index "0".."4294967294"
	sPHPNum                     // key may be an integer key or a numeric string for PHP
)

// Flags on number nodes.
const (
	nNeg     uint8 = 1 << iota // leading '-'
	nFrac                      // has a fraction part
	nExp                       // has an exponent part
	nNodeRaw                   // the text is exactly what JavaScript prints for its double
)

// Flags on object nodes.
const (
	oNodeOrder uint8 = 1 << iota // Node's key order equals byte order (no index keys, no chars >= U+D000)
	oPHPOrder                    // PHP's key order equals byte order (no key PHP may read as a number)
)

// jnode is one value of the parsed document. Nodes are stored in document (depth-first) order;
// the children of an array or object follow it, and end is the index just after its subtree,
// so the next sibling of node i is nodes[i].end. An object's children alternate key, value.
type jnode struct {
	kind  jkind
	flags uint8
	// raw is set on the scalar values whose Node form is their source text, to spare the Node
	// emitter a switch on kind and flags: 1 for a number or literal (the text is [off, off+n)),
	// 2 for a string (with its quotes, [off-1, off+n+1)). 0 for any other node: the emitter
	// then takes its general path, so leaving it 0 is always safe.
	raw uint8
	// string, number, literal: start of the text in src (or arena for sArena strings).
	// object: start of its members' key-node indexes in doc.order, sorted by key bytes.
	off uint32
	// string, number, literal: length of the text. array: element count. object: member count.
	n   uint32
	end uint32
}

// keyRef is a sort entry: the key's first 16 bytes as two big-endian words (zero padded) and
// its node index. Comparing the words orders most keys without touching their bytes; webhook
// keys often share their first eight bytes ("payment_id", "payment_status"), rarely sixteen.
type keyRef struct {
	pre, pre2 uint64
	idx       int32
}

// sjDoc is a parsed document plus the scratch space reused from one parse to the next.
type sjDoc struct {
	src   []byte
	nodes []jnode
	stack []frame
	arena []byte
	order []int32  // per object: key-node indexes in byte order of the keys
	keys  []keyRef // parse-time stack of keys of the objects being parsed
	lone  bool     // some string contains a lone surrogate (PHP's json_decode refuses those)
	cmps  int      // key comparisons made by the parse-time pdqsorts (tests bound it)
}

// invalidPayloadError describes why a body was rejected; it matches ErrInvalidPayload.
type invalidPayloadError struct {
	reason string
	off    int
}

func (e *invalidPayloadError) Error() string {
	return fmt.Sprintf("%v: %s at offset %d", ErrInvalidPayload, e.reason, e.off)
}

func (e *invalidPayloadError) Is(target error) bool { return target == ErrInvalidPayload }

func (d *sjDoc) fail(reason string, off int) error {
	return &invalidPayloadError{reason: reason, off: off}
}

// frame is an array or object being parsed.
type frame struct {
	node      int32 // its node index
	keysStart int32 // its keys start here in doc.keys
	obj       bool
	flags     uint8 // object flags, narrowed as keys arrive
	count     uint32
}

// maxSortedJSONBody bounds the body so that offsets fit the uint32 fields of jnode.
const maxSortedJSONBody = math.MaxUint32 - 1

// parse parses src into d, replacing whatever d held. It enforces the verifier's input rules:
// strict RFC 8259 JSON, valid UTF-8, no duplicate keys, depth at most MaxDepth, no
// trailing data, and numbers inside the float64 range.
//
// It is one loop over an explicit stack with the position and node list in locals: this is
// the hot path of every verification, and recursion plus field reloads cost more than the
// scanning itself on webhook-sized bodies.
func (d *sjDoc) parse(src []byte) error {
	d.src = src
	d.arena = d.arena[:0]
	d.order = d.order[:0]
	d.keys = d.keys[:0]
	d.lone = false
	d.cmps = 0
	if uint64(len(src)) >= maxSortedJSONBody {
		return d.fail("body too large", 0)
	}
	var err error
	d.nodes, d.stack, err = d.parseValue(src, d.nodes[:0], d.stack[:0])
	return err
}

// parseValue is parse's loop. The node list and stack stay in locals (registers) rather than
// fields, and are handed back for reuse.
func (d *sjDoc) parseValue(src []byte, nodes []jnode, stack []frame) (_ []jnode, _ []frame, err error) {
	pos := skipWS(src, 0)
	if pos == len(src) {
		return nodes, stack, d.fail("empty body, not JSON", pos)
	}
	for {
		// A value starts at pos.
		if pos >= len(src) {
			return nodes, stack, d.fail("unexpected end of JSON", pos)
		}
		switch c := src[pos]; {
		case c == '{' || c == '[':
			if len(stack) >= MaxDepth {
				return nodes, stack, d.fail(fmt.Sprintf("nesting deeper than %d", MaxDepth), pos)
			}
			f := frame{node: int32(len(nodes)), keysStart: int32(len(d.keys)), obj: c == '{', flags: oNodeOrder | oPHPOrder}
			n := newNode(&nodes)
			n.kind = kindArray
			pos = skipWS(src, pos+1)
			if pos < len(src) && src[pos] == c+2 { // '}' and ']' follow '{' and '[' by two
				pos++
				stack = append(stack, f)
				nodes = d.fillContainer(nodes, &stack[len(stack)-1])
				stack = stack[:len(stack)-1]
				break
			}
			stack = append(stack, f)
			if f.obj {
				if nodes, pos, err = d.key(nodes, &stack[len(stack)-1], pos); err != nil {
					return nodes, stack, err
				}
			}
			continue
		case c == '"':
			start := pos + 1
			i := skipSafe(src, start)
			if i < len(src) && src[i] == '"' { // plain ASCII string
				n := newNode(&nodes)
				n.kind, n.raw, n.off, n.n, n.end = kindString, 2, uint32(start), uint32(i-start), uint32(len(nodes))
				pos = i + 1
			} else if nodes, pos, _, err = d.str(nodes, start, i); err != nil {
				return nodes, stack, err
			}
		case c == '-' || (c >= '0' && c <= '9'):
			if nodes, pos, err = d.number(nodes, pos); err != nil {
				return nodes, stack, err
			}
		case c == 't' || c == 'f' || c == 'n':
			word, k := "null", kindNull
			if c == 't' {
				word, k = "true", kindTrue
			} else if c == 'f' {
				word, k = "false", kindFalse
			}
			if len(src)-pos < len(word) || string(src[pos:pos+len(word)]) != word {
				return nodes, stack, d.fail("invalid literal, not JSON", pos)
			}
			n := newNode(&nodes)
			n.kind, n.raw, n.off, n.n, n.end = k, 1, uint32(pos), uint32(len(word)), uint32(len(nodes))
			pos += len(word)
		default:
			return nodes, stack, d.fail(fmt.Sprintf("unexpected character %q, not JSON", c), pos)
		}
		// A value ended at pos: continue or close the containers it ends.
		for {
			if len(stack) == 0 {
				if pos = skipWS(src, pos); pos != len(src) {
					return nodes, stack, d.fail("trailing data after the JSON value", pos)
				}
				return nodes, stack, nil
			}
			top := &stack[len(stack)-1]
			top.count++
			pos = skipWS(src, pos)
			if pos >= len(src) {
				if top.obj {
					return nodes, stack, d.fail("unterminated object", pos)
				}
				return nodes, stack, d.fail("unterminated array", pos)
			}
			c := src[pos]
			pos++
			if c == ',' {
				pos = skipWS(src, pos)
				if top.obj {
					if nodes, pos, err = d.key(nodes, top, pos); err != nil {
						return nodes, stack, err
					}
				}
				break
			}
			if top.obj && c == '}' || !top.obj && c == ']' {
				if nodes, err = d.closeContainer(nodes, top, pos-1); err != nil {
					return nodes, stack, err
				}
				stack = stack[:len(stack)-1]
				continue
			}
			if top.obj {
				return nodes, stack, d.fail("expected ',' or '}' in object", pos-1)
			}
			return nodes, stack, d.fail("expected ',' or ']' in array", pos-1)
		}
	}
}

// skipWS returns the first position at or after pos that is not JSON whitespace.
func skipWS(src []byte, pos int) int {
	if pos < len(src) && src[pos] > ' ' { // the usual case: no whitespace at all
		return pos
	}
	// Pretty-printed bodies put exactly one space or newline before most tokens. Bits 9, 10,
	// 13 and 32 of the mask are '\t', '\n', '\r' and ' ' (src[pos] <= ' ' here).
	if pos+1 < len(src) && src[pos+1] > ' ' && (uint64(0x100002600)>>src[pos])&1 != 0 {
		return pos + 1
	}
	for pos < len(src) {
		if c := src[pos]; c > ' ' || (uint64(0x100002600)>>c)&1 == 0 {
			return pos
		}
		pos++
	}
	return pos
}

// skipIndent is skipWS before an object member or an array element, where pretty-printed
// bodies put a newline and a run of spaces (see skipIndentRun).
func skipIndent(src []byte, pos int) int {
	if pos < len(src) && src[pos] > ' ' {
		return pos
	}
	return skipIndentRun(src, pos)
}

// skipIndentRun compares the eight bytes after a newline with spaces at once.
func skipIndentRun(src []byte, pos int) int {
	if pos+9 <= len(src) && src[pos] == '\n' {
		if w := binary.LittleEndian.Uint64(src[pos+1:]) ^ 0x2020202020202020; w != 0 {
			if p := pos + 1 + bits.TrailingZeros64(w)>>3; src[p] > ' ' {
				return p
			}
		}
	}
	return skipWS(src, pos)
}

// newNode appends a zero node and returns it for its fields to be set in place: appending a
// filled-in struct literal costs a store-forwarding stall per node (the literal is assembled
// on the stack field by field, then copied as one 16-byte load). The list doubles when full:
// append alone grows a large slice by a quarter at a time, which for a body dense in values
// (an array of a million zeros) copies the list about five times over.
func newNode(nodes *[]jnode) *jnode {
	if len(*nodes) == cap(*nodes) {
		*nodes = slices.Grow(*nodes, len(*nodes)+16)
	}
	*nodes = append(*nodes, jnode{})
	return &(*nodes)[len(*nodes)-1]
}

// key parses an object key at pos, then the ':' and whitespace before the value.
func (d *sjDoc) key(nodes []jnode, f *frame, pos int) ([]jnode, int, error) {
	src := d.src
	if pos >= len(src) || src[pos] != '"' {
		return nodes, pos, d.fail("expected a string key in object", pos)
	}
	kidx := len(nodes)
	start := pos + 1
	i, pre, pre2 := scanKey(src, start)
	var key []byte
	if i < len(src) && src[i] == '"' {
		n := newNode(&nodes)
		n.kind, n.off, n.n, n.end = kindString, uint32(start), uint32(i-start), uint32(len(nodes))
		key, pos = src[start:i], i+1
	} else {
		var err error
		if nodes, pos, key, err = d.str(nodes, start, i); err != nil {
			return nodes, pos, err
		}
		pre, pre2 = keyPrefix(key) // the decoded key's
		if nodes[kidx].flags&sHigh != 0 {
			f.flags &^= oNodeOrder
		}
	}
	// Only a key starting with a byte up to '9' (or empty) can be an index or numeric key;
	// the first byte is the top byte of the prefix.
	if pre>>56 <= '9' {
		kf := keyFlags(key)
		nodes[kidx].flags |= kf
		if kf&sIndex != 0 {
			f.flags &^= oNodeOrder
		}
		if kf&sPHPNum != 0 {
			f.flags &^= oPHPOrder
		}
	}
	d.keys = append(d.keys, keyRef{})
	kr := &d.keys[len(d.keys)-1]
	kr.pre, kr.pre2, kr.idx = pre, pre2, int32(kidx)
	// The ':' usually follows the key directly, and the value it directly or after one
	// space: test those layouts before the general whitespace skipping.
	if pos+2 < len(src) && src[pos] == ':' {
		if c := src[pos+1]; c > ' ' {
			return nodes, pos + 1, nil
		} else if c == ' ' && src[pos+2] > ' ' {
			return nodes, pos + 2, nil
		}
	}
	pos = skipWS(src, pos)
	if pos >= len(src) || src[pos] != ':' {
		return nodes, pos, d.fail("expected ':' after object key", pos)
	}
	return nodes, skipWS(src, pos+1), nil
}

// closeContainer finishes the container f, closed at offset end: for an object, it sorts the
// keys, refuses duplicates and records the sorted order.
func (d *sjDoc) closeContainer(nodes []jnode, f *frame, end int) ([]jnode, error) {
	if f.obj {
		keys := d.keys[f.keysStart:]
		d.sortKeys(nodes, keys)
		for i := 1; i < len(keys); i++ {
			a, b := &keys[i-1], &keys[i]
			if a.pre == b.pre && a.pre2 == b.pre2 && bytes.Equal(d.textIn(nodes, a.idx), d.textIn(nodes, b.idx)) {
				// Parsers disagree on duplicates (first wins, last wins, error), so two readers
				// of the same signed body could act on different values: refuse it.
				return nodes, d.fail("duplicate object key in the object ending", end)
			}
		}
	}
	return d.fillContainer(nodes, f), nil
}

// fillContainer fills in the container node of f (its keys already checked).
func (d *sjDoc) fillContainer(nodes []jnode, f *frame) []jnode {
	n := &nodes[f.node]
	n.n = f.count
	n.end = uint32(len(nodes))
	if f.obj {
		keys := d.keys[f.keysStart:]
		n.kind = kindObject
		n.flags = f.flags
		n.off = uint32(len(d.order))
		for _, k := range keys {
			d.order = append(d.order, k.idx)
		}
		d.keys = d.keys[:f.keysStart]
	}
	return nodes
}

// maxInsertionSort is the largest object whose keys the parser and the Node fast path sort
// by insertion: at most maxInsertionSort²/2 comparisons, about a dozen per key, so the cost
// stays linear whatever the order. Larger objects take pdqsort (slices.SortFunc), O(n log n)
// for every input order.
const maxInsertionSort = 24

// sortKeys sorts keys by key bytes, which is code point order (also for the WTF-8 encoded
// lone surrogates). nodes is the node list of the parse in progress.
func (d *sjDoc) sortKeys(nodes []jnode, keys []keyRef) {
	if len(keys) > maxInsertionSort {
		slices.SortFunc(keys, func(a, b keyRef) int {
			d.cmps++
			if a.pre != b.pre {
				return cmp.Compare(a.pre, b.pre)
			}
			if a.pre2 != b.pre2 {
				return cmp.Compare(a.pre2, b.pre2)
			}
			return bytes.Compare(d.textIn(nodes, a.idx), d.textIn(nodes, b.idx))
		})
		return
	}
	// Insertion sort for the small objects webhooks carry, prefixes compared inline. Its
	// inner loop mispredicts about once per key; a binary search would mispredict at about
	// every step.
	for i := 1; i < len(keys); i++ {
		k := keys[i]
		j := i
		for ; j > 0; j-- {
			p := &keys[j-1]
			if k.pre != p.pre {
				if k.pre > p.pre {
					break
				}
			} else if k.pre2 != p.pre2 {
				if k.pre2 > p.pre2 {
					break
				}
			} else if bytes.Compare(d.textIn(nodes, k.idx), d.textIn(nodes, p.idx)) >= 0 {
				break
			}
			keys[j] = *p
		}
		keys[j] = k
	}
}

// scanKey returns the end of the plain ASCII text of the key starting at start — the first
// quote, backslash, control or non-ASCII byte — and the sort prefix of that text (keyPrefix).
// Most keys are short plain words: it looks at their first sixteen bytes inline and takes the
// prefix from the same loads. No branch depends on the key's length, which varies from key
// to key and would be mispredicted. Both the general parser and the Node fast path use it.
func scanKey(src []byte, start int) (i int, pre, pre2 uint64) {
	if start+16 > len(src) {
		i = skipSafe(src, start)
		pre, pre2 = keyPrefix(src[start:i])
		return i, pre, pre2
	}
	w1, w2 := binary.LittleEndian.Uint64(src[start:]), binary.LittleEndian.Uint64(src[start+8:])
	m1, m2 := strSpecial(w1), strSpecial(w2)
	// The first special byte's bit: in m1, or 64 + its bit in m2 when m1 is 0 (and t1 is
	// 64), without a branch.
	t1 := bits.TrailingZeros64(m1)
	t := t1 + bits.TrailingZeros64(m2)&-(t1>>6)
	n := uint(t >> 3) // plain bytes before the first special one, 0..16 (16: none seen)
	// Keep the first n bytes of the two words, zero padded as keyPrefix does (Go shifts of 64
	// or more give 0).
	pre = bits.ReverseBytes64(w1) &^ (^uint64(0) >> (8 * n))
	pre2 = bits.ReverseBytes64(w2) &^ (^uint64(0) >> (max(8*n, 64) - 64))
	i = start + int(n)
	if n == 16 {
		i = skipSafe(src, i)
	}
	return i, pre, pre2
}

// keyPrefix packs the first 16 bytes of s big-endian into two words, zero padded. Comparing
// prefixes gives the byte order whenever they differ (a zero pad can only tie with a real
// zero byte); equal prefixes fall back to a full comparison.
func keyPrefix(s []byte) (pre, pre2 uint64) {
	if len(s) >= 16 {
		return binary.BigEndian.Uint64(s), binary.BigEndian.Uint64(s[8:])
	}
	var b [16]byte
	copy(b[:], s)
	return binary.BigEndian.Uint64(b[:]), binary.BigEndian.Uint64(b[8:])
}

// keyFlags classifies a decoded key for the Node and PHP orderings.
func keyFlags(k []byte) uint8 {
	if len(k) == 0 || k[0] > '9' { // the usual key: a word
		return 0
	}
	var f uint8
	switch c := k[0]; {
	case c >= '0' && c <= '9', c == '-', c == '+', c == '.',
		c == ' ', c == '\t', c == '\n', c == '\r', c == '\v', c == '\f':
		f |= sPHPNum // may be an int key or a numeric string (is_numeric_string's prefix)
	}
	if isArrayIndex(k) {
		f |= sIndex
	}
	return f
}

// isArrayIndex reports whether k is a canonical JavaScript array index ("0".."4294967294"):
// such keys come first, in numeric order, in a JavaScript object's own-property order.
func isArrayIndex(k []byte) bool {
	if len(k) == 0 || len(k) > 10 || (k[0] == '0' && len(k) > 1) {
		return false
	}
	var v uint64
	for _, c := range k {
		if c < '0' || c > '9' {
			return false
		}
		v = v*10 + uint64(c-'0')
	}
	return v <= 4294967294
}

// textIn returns the decoded text of the string node at idx of nodes (the parse in progress).
func (d *sjDoc) textIn(nodes []jnode, idx int32) []byte {
	n := &nodes[idx]
	if n.flags&sArena != 0 {
		return d.arena[n.off : n.off+n.n]
	}
	return d.src[n.off : n.off+n.n]
}

// str0 returns the decoded text of the string node at idx.
func (d *sjDoc) str0(idx int32) []byte { return d.text(&d.nodes[idx]) }

// text returns the decoded text of a string node or the raw text of a number node.
func (d *sjDoc) text(n *jnode) []byte {
	if n.flags&sArena != 0 && n.kind == kindString {
		return d.arena[n.off : n.off+n.n]
	}
	return d.src[n.off : n.off+n.n]
}

// strSafe reports whether c may appear unescaped in a JSON string and needs no further look.
func strSafe(c byte) bool { return safeByte[c] != 0 }

// safeByte is 1 for the bytes strSafe accepts: 0x20..0x7e except '"' and '\\'. A constant
// string, not a table variable: no package-level mutable state.
const safeByte = "" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x01\x01\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" + // '"'
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" +
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" +
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x01\x01\x01" + // '\\'
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" +
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00" + // DEL
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// strSpecial flags with 0x80 the bytes of the little-endian word w that strSafe refuses, and
// possibly bytes above such a byte: the borrows and carries of the word arithmetic only ever
// flag bytes above a genuinely special one, so the lowest flagged byte is the first special
// byte.
func strSpecial(w uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q, b := w^('"'*lo), w^('\\'*lo)
	return ((w-0x20*lo)&^w | // a byte < 0x20
		(q-lo)&^q | // a '"'
		(b-lo)&^b | // a '\\'
		(w + lo) | w) & hi // a byte >= 0x7f
}

// skipSafe returns the index of the first byte at or after i that is not strSafe. It tests
// eight bytes at a time (SWAR), since webhook strings are mostly plain ASCII. The borrows and
// carries of the word arithmetic only ever flag bytes above a genuinely special one, so the
// lowest flagged byte is the first special byte.
func skipSafe(src []byte, i int) int {
	for i+16 <= len(src) {
		// Two words at a time, and the first special byte of the sixteen picked without a
		// branch: most keys and values end within them, so the loop rarely turns.
		m1 := strSpecial(binary.LittleEndian.Uint64(src[i:]))
		m2 := strSpecial(binary.LittleEndian.Uint64(src[i+8:]))
		t := bits.TrailingZeros64(m1)
		if m1 == 0 {
			t = 64 + bits.TrailingZeros64(m2)
		}
		if t < 128 {
			return i + t>>3
		}
		i += 16
	}
	for i+8 <= len(src) {
		if m := strSpecial(binary.LittleEndian.Uint64(src[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(src) && strSafe(src[i]) {
		i++
	}
	return i
}

// str parses the rest of a string whose text starts at start; the bytes from start to i
// (exclusive) are plain ASCII. It appends the string's node and returns the position after
// the closing quote and the decoded text.
func (d *sjDoc) str(nodes []jnode, start, i int) ([]jnode, int, []byte, error) {
	src := d.src
	var flags uint8
	for {
		i = skipSafe(src, i)
		if i >= len(src) {
			return nodes, i, nil, d.fail("unterminated string", start-1)
		}
		c := src[i]
		switch {
		case c == '"':
			n := newNode(&nodes)
			// No escapes (strEscaped handles those), so no sEsc or sLone: printed as written.
			n.kind, n.flags, n.raw, n.off, n.n, n.end = kindString, flags, 2, uint32(start), uint32(i-start), uint32(len(nodes))
			return nodes, i + 1, src[start:i], nil
		case c == '\\':
			return d.strEscaped(nodes, start, i, flags)
		case c < 0x20:
			return nodes, i, nil, d.fail("control character in string", i)
		case c == 0x7f:
			flags |= sDEL
			i++
		default:
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size <= 1 {
				return nodes, i, nil, d.fail("invalid UTF-8", i)
			}
			flags |= sNonASCII
			if r >= 0xD000 {
				flags |= sHigh
			}
			i += size
		}
	}
}

// strEscaped finishes a string that contains escapes, decoding it into the arena. The source
// from start to i (exclusive) has already been validated and needs no decoding.
func (d *sjDoc) strEscaped(nodes []jnode, start, i int, flags uint8) ([]jnode, int, []byte, error) {
	src := d.src
	aoff := len(d.arena)
	d.arena = append(d.arena, src[start:i]...)
	for {
		j := skipSafe(src, i)
		d.arena = append(d.arena, src[i:j]...)
		i = j
		if i >= len(src) {
			return nodes, i, nil, d.fail("unterminated string", start-1)
		}
		c := src[i]
		switch {
		case c == '"':
			ln := uint32(len(d.arena) - aoff)
			n := newNode(&nodes)
			n.kind, n.flags, n.off, n.n, n.end = kindString, flags|sArena, uint32(aoff), ln, uint32(len(nodes))
			return nodes, i + 1, d.arena[aoff:], nil
		case c == '\\':
			if i+1 >= len(src) {
				return nodes, i, nil, d.fail("unterminated string", start-1)
			}
			e := src[i+1]
			i += 2
			switch e {
			case '"', '\\':
				d.arena = append(d.arena, e)
				flags |= sEsc
			case '/':
				d.arena = append(d.arena, '/')
			case 'b':
				d.arena = append(d.arena, '\b')
				flags |= sEsc
			case 'f':
				d.arena = append(d.arena, '\f')
				flags |= sEsc
			case 'n':
				d.arena = append(d.arena, '\n')
				flags |= sEsc
			case 'r':
				d.arena = append(d.arena, '\r')
				flags |= sEsc
			case 't':
				d.arena = append(d.arena, '\t')
				flags |= sEsc
			case 'u':
				r, ok := hex4(src, i)
				if !ok {
					return nodes, i, nil, d.fail("invalid \\u escape", i-2)
				}
				i += 4
				if r >= 0xD800 && r <= 0xDBFF && i+6 <= len(src) && src[i] == '\\' && src[i+1] == 'u' {
					if lo, ok := hex4(src, i+2); ok && lo >= 0xDC00 && lo <= 0xDFFF {
						r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
						i += 6
					}
				}
				switch {
				case r >= 0xD800 && r <= 0xDFFF:
					// A lone surrogate: JavaScript and Python keep it, PHP refuses the body.
					// Store it WTF-8 style so byte order still follows code points.
					d.arena = append(d.arena, 0xED, byte(0xA0|(r>>6)&0x1F), byte(0x80|r&0x3F))
					flags |= sLone | sNonASCII | sHigh
					d.lone = true
				case r < 0x20 || r == '"' || r == '\\':
					d.arena = append(d.arena, byte(r))
					flags |= sEsc
				case r == 0x7f:
					d.arena = append(d.arena, 0x7f)
					flags |= sDEL
				case r < 0x80:
					d.arena = append(d.arena, byte(r))
				default:
					d.arena = utf8.AppendRune(d.arena, r)
					flags |= sNonASCII
					if r >= 0xD000 {
						flags |= sHigh
					}
				}
			default:
				return nodes, i, nil, d.fail("invalid escape in string", i-2)
			}
		case c < 0x20:
			return nodes, i, nil, d.fail("control character in string", i)
		case c == 0x7f:
			d.arena = append(d.arena, c)
			flags |= sDEL
			i++
		default:
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size <= 1 {
				return nodes, i, nil, d.fail("invalid UTF-8", i)
			}
			d.arena = append(d.arena, src[i:i+size]...)
			flags |= sNonASCII
			if r >= 0xD000 {
				flags |= sHigh
			}
			i += size
		}
	}
}

// digitsValue returns the value of the decimal digits of a followed by those of b (at most
// 19 digits in all).
func digitsValue(a, b []byte) uint64 {
	return appendDigitsValue(appendDigitsValue(0, a), b)
}

// appendDigitsValue returns v followed by the decimal digits of d: v×10^len(d) + d, modulo
// 2^64 like the digit-by-digit loop it replaces. Eight digits at a time are converted in one
// word (pairs, then quadruples, then the eight), which shortens the chain of dependent
// multiplications for the 16- and 17-digit amounts shortestIsExact checks.
func appendDigitsValue(v uint64, d []byte) uint64 {
	for len(d) >= 8 {
		x := binary.LittleEndian.Uint64(d) - 0x3030303030303030
		x = (x*10 + x>>8) & 0x00ff00ff00ff00ff
		x = (x*100 + x>>16) & 0x0000ffff0000ffff
		x = (x*10000 + x>>32) & 0xffffffff
		v = v*100000000 + x
		d = d[8:]
	}
	for _, c := range d {
		v = v*10 + uint64(c-'0')
	}
	return v
}

func hex4(src []byte, i int) (rune, bool) {
	if i+4 > len(src) {
		return 0, false
	}
	var r rune
	for _, c := range src[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number parses a JSON number at pos, keeping its raw text.
func (d *sjDoc) number(nodes []jnode, pos int) ([]jnode, int, error) {
	src := d.src
	// Fast path for the ids, counts and whole amounts of webhook bodies: a non-negative
	// integer of at most 15 digits with no fraction or exponent. It is the shortest form of
	// its double, so JavaScript prints it as written; the general path below decides the same
	// for it with more branches. (A leading zero ends the number at that zero there too.)
	if c := src[pos]; c-'0' < 10 {
		i := pos + 1
		if c != '0' {
			for i < len(src) && src[i]-'0' < 10 {
				i++
			}
		}
		if i-pos <= 15 && (i >= len(src) || src[i] != '.' && src[i] != 'e' && src[i] != 'E') {
			n := newNode(&nodes)
			n.kind, n.flags, n.raw, n.off, n.n, n.end = kindNumber, nNodeRaw, 1, uint32(pos), uint32(i-pos), uint32(len(nodes))
			return nodes, i, nil
		}
	}
	start := pos
	i, flags, ok := scanNumber(src, pos)
	if !ok {
		return nodes, i, d.fail("invalid number", start)
	}
	// A number that overflows float64 has no faithful form: Node signs it as null, PHP cannot
	// encode it at all (and signs the empty string), Python writes the non-JSON Infinity.
	if flags&nExp != 0 || i-start > 300 {
		if f, _ := strconv.ParseFloat(string(src[start:i]), 64); math.IsInf(f, 0) {
			return nodes, i, d.fail("number outside the float64 range", start)
		}
	}
	n := newNode(&nodes)
	n.kind, n.flags, n.raw, n.off, n.n, n.end = kindNumber, flags, flags/nNodeRaw&1, uint32(start), uint32(i-start), uint32(len(nodes))
	return nodes, i, nil
}

// scanNumber reads the JSON number at pos and returns its end and flags: nNeg, nFrac, nExp,
// and nNodeRaw when JavaScript prints it exactly as written. ok is false for text that is not
// a number by RFC 8259's grammar (end is then where it stopped).
func scanNumber(src []byte, pos int) (end int, flags uint8, ok bool) {
	i := pos
	if src[i] == '-' {
		flags |= nNeg
		i++
	}
	intStart := i
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case i < len(src) && src[i] >= '1' && src[i] <= '9':
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	default:
		return i, flags, false
	}
	intLen := i - intStart
	fracStart := i + 1
	if i < len(src) && src[i] == '.' {
		i++
		if i >= len(src) || src[i] < '0' || src[i] > '9' {
			return i, flags, false
		}
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		flags |= nFrac
	}
	// Decide once whether JavaScript prints this number as written, so the Node form (tried
	// first by Verify) can copy it: at most 15 significant digits (such a decimal is the
	// shortest round-trip form of its double) or 16 or 17 that shortestIsExact vouches for,
	// no exponent, no trailing fraction zero, not -0, and inside the decimal layout of
	// Number::toString (1e-6 <= |x| < 1e21).
	if i >= len(src) || (src[i] != 'e' && src[i] != 'E') {
		frac := src[min(fracStart, i):i]
		switch {
		case len(frac) > 0 && frac[len(frac)-1] == '0':
		case src[intStart] != '0':
			if n := intLen + len(frac); n <= 15 ||
				n <= 17 && len(frac) > 0 && shortestIsExact(digitsValue(src[intStart:intStart+intLen], frac), len(frac)) {
				flags |= nNodeRaw
			}
		case len(frac) == 0:
			if flags&nNeg == 0 {
				flags |= nNodeRaw // "0"
			}
		default:
			lead := 0
			for lead < len(frac) && frac[lead] == '0' {
				lead++
			}
			if n := len(frac) - lead; lead <= 5 && (n <= 15 ||
				n <= 17 && shortestIsExact(digitsValue(nil, frac[lead:]), len(frac))) {
				flags |= nNodeRaw
			}
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if i >= len(src) || src[i] < '0' || src[i] > '9' {
			return i, flags, false
		}
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		flags |= nExp
	}
	return i, flags, true
}
