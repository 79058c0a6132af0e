package sortedjson

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf16"
)

// jsonGen writes random JSON documents aimed at the places the three reference serializers
// disagree: every string escape, control chars, DEL, U+2028/2029, chars around the UTF-16 vs
// code point ordering boundary, non-BMP text, lone surrogates, numbers of every shape, empty
// and nested containers, numeric-looking keys, __proto__. Every document is valid JSON without
// duplicate keys, nested at most MaxDepth, with numbers inside the float64 range.
type jsonGen struct {
	r   *rand.Rand
	buf []byte
}

func newJSONGen(seed uint64) *jsonGen {
	return &jsonGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *jsonGen) pct(p int) bool { return g.r.IntN(100) < p }

func (g *jsonGen) ws() {
	if !g.pct(15) {
		return
	}
	for n := 1 + g.r.IntN(3); n > 0; n-- {
		g.buf = append(g.buf, " \t\n\r"[g.r.IntN(4)])
	}
}

// doc returns a fresh document.
func (g *jsonGen) doc() []byte {
	g.buf = g.buf[:0]
	g.ws()
	switch n := g.r.IntN(100); {
	case n < 5:
		g.scalar()
	case n < 20:
		g.array(1, 4)
	case n < 22:
		g.deep()
	default:
		g.object(1, 4)
	}
	g.ws()
	return append([]byte(nil), g.buf...)
}

// keyStressDoc returns an object of 2..60 keys drawn mostly from the numeric-looking and
// ordering-sensitive pools, in random order: the inputs on which PHP's non-transitive ksort()
// comparison and JavaScript's index-first, UTF-16 ordering are easiest to get wrong.
func (g *jsonGen) keyStressDoc() []byte {
	g.buf = append(g.buf[:0], '{')
	n := 2 + g.r.IntN(59)
	seen := map[string]bool{}
	for written := 0; written < n && len(seen) < 4*n; {
		var k string
		switch x := g.r.IntN(100); {
		case x < 55:
			k = numericKeys[g.r.IntN(len(numericKeys))]
		case x < 70:
			k = wordKeys[g.r.IntN(len(wordKeys))]
		case x < 80:
			k = strconv.Itoa(g.r.IntN(30) - 5)
		default:
			k = string([]rune{g.char(), g.char()}[:1+g.r.IntN(2)])
		}
		save := g.buf
		g.buf = nil
		g.str(k)
		raw := g.buf
		g.buf = save
		var decoded string
		if err := json.Unmarshal(raw, &decoded); err != nil || seen[decoded] {
			seen[string(raw)] = true
			continue
		}
		seen[decoded] = true
		if written > 0 {
			g.buf = append(g.buf, ',')
		}
		g.buf = append(g.buf, raw...)
		g.buf = append(g.buf, ':')
		g.buf = strconv.AppendInt(g.buf, int64(written), 10)
		written++
	}
	g.buf = append(g.buf, '}')
	return append([]byte(nil), g.buf...)
}

// deep writes a chain of containers exactly MaxDepth levels deep.
func (g *jsonGen) deep() {
	var closers []byte
	for i := 0; i < MaxDepth; i++ {
		if g.pct(50) {
			g.buf = append(g.buf, `{"k":`...)
			closers = append(closers, '}')
		} else {
			g.buf = append(g.buf, '[')
			closers = append(closers, ']')
		}
	}
	g.scalar()
	for i := len(closers) - 1; i >= 0; i-- {
		g.buf = append(g.buf, closers[i])
	}
}

func (g *jsonGen) value(depth, maxDepth int) {
	g.ws()
	if depth < maxDepth {
		switch n := g.r.IntN(100); {
		case n < 15:
			g.object(depth+1, maxDepth)
			g.ws()
			return
		case n < 27:
			g.array(depth+1, maxDepth)
			g.ws()
			return
		}
	}
	g.scalar()
	g.ws()
}

func (g *jsonGen) scalar() {
	switch n := g.r.IntN(100); {
	case n < 40:
		g.buf = append(g.buf, g.number()...)
	case n < 80:
		g.str(g.text())
	case n < 87:
		g.buf = append(g.buf, "null"...)
	case n < 94:
		g.buf = append(g.buf, "true"...)
	default:
		g.buf = append(g.buf, "false"...)
	}
}

func (g *jsonGen) array(depth, maxDepth int) {
	g.buf = append(g.buf, '[')
	n := g.r.IntN(5)
	if g.pct(5) {
		n = 11 + g.r.IntN(10) // past 10 elements, "10" sorts before "2" as a string
	}
	if n == 0 {
		g.ws()
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			g.buf = append(g.buf, ',')
		}
		g.value(depth, maxDepth)
	}
	g.buf = append(g.buf, ']')
}

func (g *jsonGen) object(depth, maxDepth int) {
	g.buf = append(g.buf, '{')
	n := g.r.IntN(6)
	if g.pct(6) {
		n = 17 + g.r.IntN(30) // past 16 keys PHP's zend_sort switches from insertion sort to quicksort
	}
	if n == 0 {
		g.ws()
	}
	seen := make(map[string]bool, n)
	written := 0
	for tries := 0; written < n && tries < 4*n; tries++ {
		raw := g.keyRaw()
		var decoded string
		if err := json.Unmarshal(raw, &decoded); err != nil {
			panic("generator wrote an invalid key " + string(raw) + ": " + err.Error())
		}
		// encoding/json maps lone surrogates to U+FFFD, which can only merge distinct keys:
		// skipping those too never lets a duplicate through.
		if seen[decoded] {
			continue
		}
		seen[decoded] = true
		if written > 0 {
			g.buf = append(g.buf, ',')
		}
		g.ws()
		g.buf = append(g.buf, raw...)
		g.ws()
		g.buf = append(g.buf, ':')
		g.value(depth, maxDepth)
		written++
	}
	g.buf = append(g.buf, '}')
}

// numericKeys are keys that JavaScript, PHP or both read as numbers.
var numericKeys = []string{
	"0", "1", "2", "3", "9", "10", "11", "100", "01", "00", "-1", "-0", "-01", "+1", "1.5", "1.0",
	"1.00", "0.5", ".5", "5.", "1e1", "1E1", "1e3", "1e+2", "1e-2", "1e", "1f", "1a", "0x1A", " 1",
	"1 ", "\t2", "2\n", "\v3", "1e999", "-1e999", "2e999", "4294967294", "4294967295", "4294967296",
	"9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
	"-9223372036854775809", "12345678901234567890", "99999999999999999999", "9223372036854775807 ",
	"NaN", "INF", "-", ".", "e5", "1_000",
}

var wordKeys = []string{
	"payment_id", "payment_status", "pay_address", "price_amount", "pay_amount", "actually_paid",
	"order_id", "fee", "currency", "depositFee", "a", "b", "B", "_", "aa", "a_b", "ab", "Z", "z",
	"__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "length", "", "é", "e",
	"\u00e9", "\ufeff", "\uffff", "\ue000", "\U0001F600", "\U00010000", "\u2028",
}

// keyRaw returns a JSON string literal to use as a key.
func (g *jsonGen) keyRaw() []byte {
	var s string
	switch n := g.r.IntN(100); {
	case n < 30:
		s = numericKeys[g.r.IntN(len(numericKeys))]
	case n < 55:
		s = wordKeys[g.r.IntN(len(wordKeys))]
	case n < 62:
		s = strconv.Itoa(g.r.IntN(40)) // array-index-like keys in bulk
	default:
		s = g.text()
	}
	save := g.buf
	g.buf = nil
	g.str(s)
	raw := g.buf
	g.buf = save
	return raw
}

// text returns random text; a rune U+D800..U+DFFF in it stands for a lone surrogate, which
// str can only write as an escape.
func (g *jsonGen) text() string {
	var b strings.Builder
	n := g.r.IntN(9)
	if g.pct(3) {
		n = 20 + g.r.IntN(40)
	}
	for i := 0; i < n; i++ {
		b.WriteRune(g.char())
	}
	return b.String()
}

var specialChars = []rune{
	'"', '\\', '/', '<', '>', '&', '\'', 0x7f, 0x2028, 0x2029, 0xe9, 0xff, 0x100, 0x4e2d, 0xCFFF,
	0xD000, 0xE000, 0xFEFF, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF, 0x0, 0x1f, '\b', '\f', '\n',
	'\r', '\t', 0x85, 0xa0,
}

func (g *jsonGen) char() rune {
	switch n := g.r.IntN(100); {
	case n < 45:
		return rune(0x20 + g.r.IntN(0x5f))
	case n < 60:
		return specialChars[g.r.IntN(len(specialChars))]
	case n < 67:
		return rune(g.r.IntN(0x20))
	case n < 77:
		return rune(0x80 + g.r.IntN(0xD800-0x80))
	case n < 85:
		return rune(0xE000 + g.r.IntN(0x2000))
	case n < 97:
		return rune(0x10000 + g.r.IntN(0x100000))
	}
	return rune(0xD800 + g.r.IntN(0x800)) // lone surrogate
}

func (g *jsonGen) hex4(r rune) {
	const lower, upper = "0123456789abcdef", "0123456789ABCDEF"
	digits := lower
	if g.pct(30) {
		digits = upper
	}
	g.buf = append(g.buf, '\\', 'u', digits[r>>12&0xF], digits[r>>8&0xF], digits[r>>4&0xF], digits[r&0xF])
}

// str writes s as a JSON string literal, choosing among the equivalent spellings at random.
func (g *jsonGen) str(s string) {
	g.buf = append(g.buf, '"')
	runes := []rune(s)
	for i, r := range runes {
		switch {
		case r >= 0xD800 && r <= 0xDFFF:
			g.hex4(r)
			// A lone high surrogate escape directly followed by a low one would pair up.
			if r <= 0xDBFF && i+1 < len(runes) && runes[i+1] >= 0xDC00 && runes[i+1] <= 0xDFFF {
				g.buf = append(g.buf, 'x')
			}
		case r == '"' || r == '\\' || r < 0x20 || g.pct(8):
			short := map[rune]string{'"': `\"`, '\\': `\\`, '/': `\/`, '\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`}[r]
			switch {
			case short != "" && g.pct(70):
				g.buf = append(g.buf, short...)
			case r >= 0x10000:
				for _, u := range utf16.Encode([]rune{r}) {
					g.hex4(rune(u))
				}
			default:
				g.hex4(r)
			}
		default:
			g.buf = append(g.buf, string(r)...)
		}
	}
	g.buf = append(g.buf, '"')
}

var specialNumbers = []string{
	"0", "-0", "0.0", "-0.0", "0e0", "-0e-5", "0E+3", "1", "-1", "1.0", "1.50", "100.0", "1E2", "1e+2",
	"1e-7", "1e-6", "1e-5", "0.0001", "0.00001", "0.000001", "0.0000001", "1e15", "1e16", "1e17",
	"1e20", "1e21", "1e22", "1e23", "1e308", "1.7976931348623157e308", "5e-324", "4.9e-324",
	"2.2250738585072014e-308", "1e-400", "-1e-400", "0.1", "0.2", "0.3", "4.35", "14.8106", "25.31",
	"0.09853637216235617", "9007199254740991", "9007199254740992", "9007199254740993",
	"-9007199254740993", "9223372036854775807", "9223372036854775808", "9223372036854775809",
	"-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
	"123456789012345678901234567890", "100000000000000000000", "1000000000000000000000",
	"123456789012345680000", "0.1e1", "123.456e-10", "1.23456789012345678", "12345678901234567.5",
	"99999999999999999999e-20", "1e-323", "2.5e-324",
}

// number returns a random JSON number within the float64 range.
func (g *jsonGen) number() string {
	for {
		s := g.numberCandidate()
		if f, _ := strconv.ParseFloat(s, 64); !math.IsInf(f, 0) {
			return s
		}
	}
}

func (g *jsonGen) digits(n int, leadingNonZero bool) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	if leadingNonZero && n > 0 {
		b[0] = byte('1' + g.r.IntN(9))
	}
	return string(b)
}

func (g *jsonGen) numberCandidate() string {
	switch n := g.r.IntN(100); {
	case n < 20:
		return specialNumbers[g.r.IntN(len(specialNumbers))]
	case n < 35:
		return strconv.Itoa(g.r.IntN(2001) - 1000)
	case n < 50: // integers of every length
		s := g.digits(1+g.r.IntN(25), true)
		if g.pct(30) {
			s = "-" + s
		}
		return s
	case n < 70: // shortest form of a random double, in each of strconv's layouts
		f := math.Float64frombits(g.r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "0.5"
		}
		if g.pct(60) {
			f = (g.r.Float64() - 0.5) * math.Pow(10, float64(g.r.IntN(40)-20))
		}
		s := strconv.FormatFloat(f, "efg"[g.r.IntN(3)], -1, 64)
		if g.pct(30) {
			s = strings.Replace(s, "e", "E", 1)
		}
		return s
	}
	// Hand-built: int part, fraction, exponent.
	var b strings.Builder
	if g.pct(30) {
		b.WriteByte('-')
	}
	if g.pct(40) {
		b.WriteByte('0')
	} else {
		b.WriteString(g.digits(1+g.r.IntN(18), true))
	}
	if g.pct(70) {
		b.WriteByte('.')
		b.WriteString(g.digits(1+g.r.IntN(20), false))
	}
	if g.pct(50) {
		b.WriteByte("eE"[g.r.IntN(2)])
		switch g.r.IntN(3) {
		case 0:
			b.WriteByte('+')
		case 1:
			b.WriteByte('-')
		}
		b.WriteString(strconv.Itoa(g.r.IntN(330)))
	}
	return b.String()
}
