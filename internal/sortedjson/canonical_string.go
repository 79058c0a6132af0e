package sortedjson

import "cmp"

// String output of the three reference serializers. Strings are kept decoded as UTF-8, with a
// lone surrogate (only reachable through a \uD8xx escape) stored as its 3-byte WTF-8 sequence
// ED A0..BF xx so that byte order still equals code point order.

const hexDigits = "0123456789abcdef"

// appendU4 writes \uXXXX with lowercase hex, as all three references do.
func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
}

// appendASCIIEscape writes the escape every reference uses for '"', '\\' and control chars.
func appendASCIIEscape(dst []byte, c byte) []byte {
	switch c {
	case '"':
		return append(dst, '\\', '"')
	case '\\':
		return append(dst, '\\', '\\')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return appendU4(dst, rune(c))
}

// decodeWTF8 decodes the (valid UTF-8 or WTF-8 surrogate) sequence starting with s[0] >= 0x80.
func decodeWTF8(s []byte) (rune, int) {
	c := s[0]
	switch {
	case c < 0xE0:
		return rune(c&0x1F)<<6 | rune(s[1]&0x3F), 2
	case c < 0xF0:
		return rune(c&0x0F)<<12 | rune(s[1]&0x3F)<<6 | rune(s[2]&0x3F), 3
	}
	return rune(c&0x07)<<18 | rune(s[1]&0x3F)<<12 | rune(s[2]&0x3F)<<6 | rune(s[3]&0x3F), 4
}

// isLoneAt reports whether a WTF-8 lone surrogate starts at s[i].
func isLoneAt(s []byte, i int) bool { return s[i] == 0xED && i+1 < len(s) && s[i+1] >= 0xA0 }

// appendNodeString writes s as JSON.stringify does (Node 12+): '"', '\\' and control chars
// escaped, lone surrogates as \udxxx, everything else raw UTF-8 (including U+2028/2029, DEL,
// '/', '<', '>', '&').
func appendNodeString(dst, s []byte, flags uint8) []byte {
	dst = append(dst, '"')
	if flags&(sEsc|sLone) == 0 {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	run := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < 0x20 || c == '"' || c == '\\':
			dst = append(dst, s[run:i]...)
			dst = appendASCIIEscape(dst, c)
			i++
			run = i
		case isLoneAt(s, i):
			dst = append(dst, s[run:i]...)
			r, n := decodeWTF8(s[i:])
			dst = appendU4(dst, r)
			i += n
			run = i
		default:
			i++
		}
	}
	dst = append(dst, s[run:]...)
	return append(dst, '"')
}

// appendNodeUnit writes a one-code-unit JavaScript string (a top-level string split by
// Object.keys) the way JSON.stringify does.
func appendNodeUnit(dst []byte, u rune) []byte {
	dst = append(dst, '"')
	switch {
	case u < 0x20 || u == '"' || u == '\\':
		dst = appendASCIIEscape(dst, byte(u))
	case u >= 0xD800 && u <= 0xDFFF:
		dst = appendU4(dst, u)
	case u < 0x80:
		dst = append(dst, byte(u))
	default:
		var b [4]byte
		n := encodeRune(b[:], u)
		dst = append(dst, b[:n]...)
	}
	return append(dst, '"')
}

func encodeRune(b []byte, r rune) int {
	switch {
	case r < 0x800:
		b[0], b[1] = byte(0xC0|r>>6), byte(0x80|r&0x3F)
		return 2
	case r < 0x10000:
		b[0], b[1], b[2] = byte(0xE0|r>>12), byte(0x80|r>>6&0x3F), byte(0x80|r&0x3F)
		return 3
	}
	b[0], b[1], b[2], b[3] = byte(0xF0|r>>18), byte(0x80|r>>12&0x3F), byte(0x80|r>>6&0x3F), byte(0x80|r&0x3F)
	return 4
}

// appendNonASCIIEscape writes a non-ASCII character as \uXXXX, or as a surrogate pair above
// the BMP, as PHP (without JSON_UNESCAPED_UNICODE) and Python (ensure_ascii) both do.
func appendNonASCIIEscape(dst []byte, r rune) []byte {
	if r >= 0x10000 {
		r -= 0x10000
		dst = appendU4(dst, 0xD800+r>>10)
		return appendU4(dst, 0xDC00+r&0x3FF)
	}
	return appendU4(dst, r)
}

// appendPythonString writes s as json.dumps(ensure_ascii=True) does: only printable ASCII
// stays raw; DEL, control chars and all non-ASCII are escaped.
func appendPythonString(dst, s []byte, flags uint8) []byte {
	return appendASCIIString(dst, s, flags&(sEsc|sDEL|sNonASCII|sLone) != 0, true)
}

// appendPHPString writes s as json_encode(JSON_UNESCAPED_SLASHES) does: like Python, except
// that DEL stays raw.
func appendPHPString(dst, s []byte, flags uint8) []byte {
	return appendASCIIString(dst, s, flags&(sEsc|sNonASCII) != 0, false)
}

func appendASCIIString(dst, s []byte, needsEscape, escapeDEL bool) []byte {
	dst = append(dst, '"')
	if !needsEscape {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	run := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7F && c != '"' && c != '\\':
			i++
			continue
		case c == 0x7F && !escapeDEL:
			i++
			continue
		}
		dst = append(dst, s[run:i]...)
		if c < 0x80 {
			dst = appendASCIIEscape(dst, c)
			i++
		} else {
			r, n := decodeWTF8(s[i:])
			dst = appendNonASCIIEscape(dst, r)
			i += n
		}
		run = i
	}
	dst = append(dst, s[run:]...)
	return append(dst, '"')
}

// utf16Iter yields the UTF-16 code units of a UTF-8/WTF-8 string.
type utf16Iter struct {
	s       []byte
	i       int
	pending rune // low surrogate still to yield, or 0
}

func (it *utf16Iter) next() (rune, bool) {
	if it.pending != 0 {
		u := it.pending
		it.pending = 0
		return u, true
	}
	if it.i >= len(it.s) {
		return 0, false
	}
	c := it.s[it.i]
	if c < 0x80 {
		it.i++
		return rune(c), true
	}
	r, n := decodeWTF8(it.s[it.i:])
	it.i += n
	if r >= 0x10000 {
		r -= 0x10000
		it.pending = 0xDC00 + r&0x3FF
		return 0xD800 + r>>10, true
	}
	return r, true
}

// cmpUTF16 orders two strings by UTF-16 code units, as JavaScript's default sort does.
func cmpUTF16(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return cmp.Compare(len(a), len(b))
	}
	// Back up to the start of the character holding the first difference; the common prefix
	// means both strings have a character boundary there.
	for i > 0 && a[i]&0xC0 == 0x80 {
		i--
	}
	ia, ib := utf16Iter{s: a, i: i}, utf16Iter{s: b, i: i}
	for {
		ua, oka := ia.next()
		ub, okb := ib.next()
		switch {
		case !oka || !okb:
			if oka == okb {
				return 0
			}
			if !oka {
				return -1
			}
			return 1
		case ua != ub:
			return cmp.Compare(ua, ub)
		}
	}
}
