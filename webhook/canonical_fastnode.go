package webhook

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// fastNode computes the Node form of the bodies JovePay actually sends — an object of objects
// whose keys are plain ASCII words, whose strings need no escaping and whose numbers print as
// written — in one pass over the body, without building the parse tree the three-form
// canonicaliser needs. Verify tries it first: for such a body the Node form is all it takes to
// accept the signature JovePay makes, and this pass costs about half the general one.
//
// It declines (ok false) at the first thing outside that subset: arrays, escapes, control or
// non-ASCII bytes, keys that could be array indexes (a leading digit) or "__proto__", numbers
// JavaScript would print differently, duplicate keys, deep nesting, and anything that is not
// valid JSON. Declining never rejects a body: the general parser then decides, with its own
// errors. So the fast path only has to be right on what it accepts, where its output must
// equal the general Node form byte for byte (TestFastNodeMatchesGeneral, the fuzz targets).
type fastNode struct {
	src []byte
	// out holds the canonical text of finished nested objects and, last, of the root.
	out []byte
	// mem is a stack of the members of the objects being parsed, innermost last.
	mem []fastMember
}

// fastMember is one object member: its key's text (between the quotes) and its value's
// canonical text, in src (scalars, copied as written) or in out (nested objects).
type fastMember struct {
	pre      [2]uint64 // the key's first 16 bytes, big-endian, zero padded: most comparisons end here
	keyStart uint32
	keyEnd   uint32
	valStart uint32
	// valEnd has inOut in its top bit (the value is in out, not src): 32 bytes a member keeps
	// the sort's moves cheap.
	valEnd uint32
}

const (
	inOut       = 1 << 31
	maxFastBody = inOut // bodies this long or longer take the general path
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
	if len(src) >= maxFastBody {
		return nil, false
	}
	f.src, f.out, f.mem = src, f.out[:0], f.mem[:0]
	pos := skipWS(src, 0)
	if pos >= len(src) || src[pos] != '{' {
		f.src = nil
		return nil, false
	}
	end, start, stop, ok := f.object(pos, 1)
	f.src = nil // do not keep the caller's body alive in a pooled state
	if !ok || skipWS(src, end) != len(src) {
		return nil, false
	}
	return f.out[start:stop], true
}

// object parses the object opening at pos, depth levels deep, and appends its Node form to
// f.out. It returns the position after the object and where its form lies in f.out.
func (f *fastNode) object(pos, depth int) (end, start, stop int, ok bool) {
	if depth > MaxSortedJSONDepth {
		return 0, 0, 0, false
	}
	src := f.src
	m0 := len(f.mem)
	pos = skipWS(src, pos+1)
	if pos < len(src) && src[pos] == '}' {
		start = len(f.out)
		f.out = append(f.out, '{', '}')
		return pos + 1, start, len(f.out), true
	}
	for {
		var m fastMember
		if pos, ok = f.key(pos, &m); !ok {
			return 0, 0, 0, false
		}
		if pos, ok = f.value(pos, depth, &m); !ok {
			return 0, 0, 0, false
		}
		f.mem = append(f.mem, m)
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
	f.sortMembers(members)
	for i := 1; i < len(members); i++ {
		if a, b := &members[i-1], &members[i]; a.pre == b.pre && bytes.Equal(f.keyText(a), f.keyText(b)) {
			return 0, 0, 0, false // duplicate key: the general parser reports it
		}
	}
	start = len(f.out)
	f.out = append(f.out, '{')
	for i := range members {
		m := &members[i]
		if i > 0 {
			f.out = append(f.out, ',')
		}
		switch {
		case m.valEnd&inOut != 0:
			f.out = append(f.out, src[m.keyStart-1:m.keyEnd+1]...) // the key with its quotes
			f.out = append(f.out, ':')
			f.out = append(f.out, f.out[m.valStart:m.valEnd&^inOut]...)
		case m.valStart == m.keyEnd+2:
			// `"key":value` with nothing in between, as in compact bodies: one copy.
			f.out = append(f.out, src[m.keyStart-1:m.valEnd]...)
		case src[m.keyEnd+1] == ':':
			// `"key": value`, as pretty-printed bodies have it: the key and colon in one copy.
			f.out = append(f.out, src[m.keyStart-1:m.keyEnd+2]...)
			f.out = append(f.out, src[m.valStart:m.valEnd]...)
		default:
			f.out = append(f.out, src[m.keyStart-1:m.keyEnd+1]...)
			f.out = append(f.out, ':')
			f.out = append(f.out, src[m.valStart:m.valEnd]...)
		}
	}
	f.out = append(f.out, '}')
	f.mem = f.mem[:m0]
	return pos, start, len(f.out), true
}

// key reads a member's key and the ':' after it.
func (f *fastNode) key(pos int, m *fastMember) (int, bool) {
	src := f.src
	if pos >= len(src) || src[pos] != '"' {
		return 0, false
	}
	start := pos + 1
	end, pre, pre2 := scanKey(src, start)
	m.pre = [2]uint64{pre, pre2}
	if end >= len(src) || src[end] != '"' {
		return 0, false // an escape, a control or non-ASCII byte, or no closing quote
	}
	k := src[start:end]
	// A key starting with a digit may be an array index, which JavaScript orders first and
	// numerically; "__proto__" is dropped by the Node reference. The general path handles both.
	if len(k) > 0 && k[0]-'0' < 10 || len(k) == 9 && string(k) == "__proto__" {
		return 0, false
	}
	m.keyStart, m.keyEnd = uint32(start), uint32(end)
	pos = skipWS(src, end+1)
	if pos >= len(src) || src[pos] != ':' {
		return 0, false
	}
	return skipWS(src, pos+1), true
}

// value reads a member's value and records where its canonical text is.
func (f *fastNode) value(pos, depth int, m *fastMember) (int, bool) {
	src := f.src
	if pos >= len(src) {
		return 0, false
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
			return 0, false
		}
		m.valStart, m.valEnd = uint32(pos), uint32(end+1)
		return end + 1, true
	case c == '{':
		end, start, stop, ok := f.object(pos, depth+1)
		if !ok {
			return 0, false
		}
		m.valStart, m.valEnd = uint32(start), uint32(stop)|inOut
		return end, true
	case c == 'n' || c == 't' || c == 'f':
		n := 4
		if c == 'f' {
			n = 5
		}
		if pos+n > len(src) {
			return 0, false
		}
		switch string(src[pos : pos+n]) {
		case "null", "true", "false":
			m.valStart, m.valEnd = uint32(pos), uint32(pos+n)
			return pos + n, true
		}
		return 0, false
	case c-'1' < 9:
		// Ids, counts and whole amounts: up to 15 digits without fraction or exponent are
		// their double's shortest form, printed as written (scanNumber decides the same).
		i := pos + 1
		for i < len(src) && src[i]-'0' < 10 {
			i++
		}
		if i-pos <= 15 && (i >= len(src) || src[i] != '.' && src[i] != 'e' && src[i] != 'E') {
			m.valStart, m.valEnd = uint32(pos), uint32(i)
			return i, true
		}
		fallthrough
	case c == '-' || c == '0':
		end, flags, ok := scanNumber(src, pos)
		if !ok || flags&nNodeRaw == 0 || flags&nExp != 0 {
			return 0, false
		}
		m.valStart, m.valEnd = uint32(pos), uint32(end)
		return end, true
	}
	return 0, false // an array, or not JSON
}

func (f *fastNode) keyText(m *fastMember) []byte { return f.src[m.keyStart:m.keyEnd] }

// sortMembers orders members by key bytes, which for the ASCII keys the fast path accepts is
// the UTF-16 order of JavaScript's Array.prototype.sort. Insertion sort: webhook objects are
// small, and the 16-byte prefixes settle almost every comparison.
func (f *fastNode) sortMembers(members []fastMember) {
	for i := 1; i < len(members); i++ {
		m := members[i]
		j := i
		for ; j > 0; j-- {
			p := &members[j-1]
			if m.pre[0] > p.pre[0] || m.pre[0] == p.pre[0] && (m.pre[1] > p.pre[1] ||
				m.pre[1] == p.pre[1] && bytes.Compare(f.keyText(&m), f.keyText(p)) >= 0) {
				break
			}
			members[j] = *p
		}
		members[j] = m
	}
}
