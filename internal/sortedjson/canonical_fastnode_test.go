package sortedjson

import (
	"bytes"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkFastNode checks the fast path's contract on body: when it accepts, the general parser
// must accept the body too and its Node form must be byte for byte the fast path's. It
// reports whether the fast path accepted.
func checkFastNode(t *testing.T, f *fastNode, body []byte) bool {
	t.Helper()
	fast, ok := f.appendNode(nil, body)
	if !ok {
		return false
	}
	general, err := Canonical(body, FormNode)
	require.NoError(t, err, "fast path accepted %q, the general parser refuses it", body)
	require.True(t, bytes.Equal(fast, general), "Node form of %q:\nfast    %q\ngeneral %q", body, fast, general)
	return true
}

// ipnGen writes documents shaped like IPNs, mostly inside the fast path's subset: ASCII keys
// (many sharing long prefixes, some starting with a digit, "__proto__"), strings with every
// printable ASCII byte, numbers of every shape, literals, nested and empty objects, arrays
// now and then, and JSON whitespace anywhere it may go.
type ipnGen struct {
	*jsonGen
	dups bool // now and then repeat a key (refused by the verifier, which the reference programs are not)
}

var ipnKeys = []string{
	"payment_id", "payment_status", "payment_extra_ids", "payment_extra_id", "pay_address",
	"pay_amount", "pay_currency", "payin_extra_id", "price_amount", "price_currency",
	"actually_paid", "actually_paid_at_fiat", "actually_paid_at_fiat_2", "outcome_amount",
	"outcome_currency", "order_id", "order_description", "purchase_id", "fee", "currency",
	"depositFee", "withdrawalFee", "serviceFee", "a", "A", "_", "", " ", "a b", "a/b", "<x>",
	"constructor", "-1", "z~", "zzzzzzzzzzzzzzzz", "zzzzzzzzzzzzzzzza", "zzzzzzzzzzzzzzz",
	"zzzzzzzzzzzzzzzzz",
}

// outsideKeys are keys the fast path must leave to the general parser.
var outsideKeys = []string{"__proto__", "9lives", "0", "1", "10", "4294967295", "é", "\n"}

func (g ipnGen) doc() []byte {
	g.buf = g.buf[:0]
	g.ws()
	g.obj(1)
	g.ws()
	return append([]byte(nil), g.buf...)
}

func (g ipnGen) obj(depth int) {
	g.buf = append(g.buf, '{')
	n := g.r.IntN(8)
	if g.pct(10) {
		n = 15 + g.r.IntN(20)
	}
	seen := map[string]bool{}
	written := 0
	for tries := 0; written < n && tries < 4*n; tries++ {
		k := ipnKeys[g.r.IntN(len(ipnKeys))]
		switch {
		case g.pct(2):
			k = outsideKeys[g.r.IntN(len(outsideKeys))]
		case g.pct(30):
			k = g.asciiText()
		}
		if seen[k] && !(g.dups && g.pct(2)) { // now and then a duplicate, which the fast path must decline
			continue
		}
		seen[k] = true
		if written > 0 {
			g.buf = append(g.buf, ',')
		}
		g.ws()
		g.plain(k)
		g.ws()
		g.buf = append(g.buf, ':')
		g.ws()
		switch r := g.r.IntN(100); {
		case r < 12 && depth < 5:
			g.obj(depth + 1)
		case r < 14:
			g.array(depth, depth+1)
		case r < 45:
			g.buf = append(g.buf, g.amount()...)
		case r < 85:
			g.plain(g.asciiText())
		case r < 90:
			g.buf = append(g.buf, "null"...)
		case r < 95:
			g.buf = append(g.buf, "true"...)
		default:
			g.buf = append(g.buf, "false"...)
		}
		g.ws()
		written++
	}
	g.buf = append(g.buf, '}')
}

// plain writes s as a JSON string, escaping only what must be ('"', '\\' and control
// characters, as \u00XX), the way IPN bodies are written; the generator's str escapes at
// random, which would take most documents outside the fast path's subset.
func (g ipnGen) plain(s string) {
	g.buf = append(g.buf, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			g.buf = append(g.buf, '\\', c)
		case c < 0x20:
			g.buf = append(g.buf, `\u00`...)
			g.buf = append(g.buf, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			g.buf = append(g.buf, c)
		}
	}
	g.buf = append(g.buf, '"')
}

// amount returns a number as IPNs carry them — ids, counts, amounts, long fractions as
// JavaScript prints them — or, one time in four, any number the three-form generator makes.
func (g ipnGen) amount() string {
	switch r := g.r.IntN(100); {
	case r < 25:
		return g.number()
	case r < 50:
		return strconv.FormatInt(g.r.Int64N(1e12)-1e11, 10)
	default:
		// The shortest round-trip text of a double in JavaScript's plain-decimal range.
		f := g.r.Float64() * math.Pow(10, float64(g.r.IntN(14)-5))
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
}

// asciiText returns printable ASCII, rarely with a quote, a backslash, a control character,
// DEL or a non-ASCII letter (outside the subset).
func (g ipnGen) asciiText() string {
	var b strings.Builder
	for n := g.r.IntN(20); n > 0; n-- {
		switch {
		case g.r.IntN(1000) == 0:
			b.WriteRune([]rune{'\n', 0x7f, 'é', 0x2028, '"', '\\'}[g.r.IntN(6)])
		default:
			c := byte(0x20 + g.r.IntN(0x5f))
			if c == '"' || c == '\\' {
				c = '/'
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

func TestFastNodeMatchesGeneral(t *testing.T) {
	var f fastNode
	accepted, total := 0, 0
	g := ipnGen{newJSONGen(0xfa57), true}
	for range 20000 {
		total++
		if checkFastNode(t, &f, g.doc()) {
			accepted++
		}
	}
	// The three-form generator's documents are mostly outside the subset; the ones inside
	// must match too.
	g3 := newJSONGen(0xfa58)
	for range 5000 {
		total++
		if checkFastNode(t, &f, g3.doc()) {
			accepted++
		}
	}
	for _, name := range []string{"payment_ipn.json"} {
		body, err := os.ReadFile("testdata/sortedjson/" + name)
		require.NoError(t, err)
		require.True(t, checkFastNode(t, &f, body), "%s: the seed's payment IPN should take the fast path", name)
	}
	require.True(t, checkFastNode(t, &f, nestedBody()), "the nested document (arrays, decimals like 9.10) should take the fast path")
	require.GreaterOrEqual(t, accepted, total/3, "fast path accepted only %d of %d documents: the test no longer exercises it", accepted, total)
	t.Logf("fast path accepted %d of %d documents, each equal to the general Node form", accepted, total)
}

func TestFastNodeDeclines(t *testing.T) {
	var f fastNode
	deep := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)
	for _, body := range []string{
		``, ` `, `[]`, `1`, `"s"`, `null`, `{"a":"\n"}`, `{"a":"\u00e9"}`, `{"é":1}`,
		`{"a":"é"}`, `{"0":1}`, `{"10":1,"9":2}`, `{"__proto__":1}`, `{"a":1,"a":2}`, `{"a":1e3}`,
		`{"a":-0}`, `{"a":-0.0}`, `{"a":-0.000}`, `{"a":0.0000001}`, `{"a":0.00000010}`,
		`{"a":[1,"\n"]}`, `{"a":[0,-0]}`, `{"a":[{"0":1}]}`, `{"a":[1,]}`, `{"a":[1}`, `{"a":[,1]}`,
		`{"a":[1 2]}`, `{"a":12345678901234567.0}`, `{"a":0.12345678901234567890}`, `{"a":12345678901234567890}`,
		`{"a":01}`, `{"a":+1}`, `{"a":.5}`, `{"a":1.}`, `{"a":tru}`, `{"a":truex}`, `{"a" 1}`,
		`{"a":1,}`, `{"a":1}x`, `{"a":1}{}`, `{a:1}`, `{"a":1`, `{"a":"x`, `{"a":"x\"y"}`, deep,
	} {
		out, ok := f.appendNode(nil, []byte(body))
		assert.False(t, ok, "fast path accepted %q as %q; want it to leave the body to the general parser", body, out)
	}
	// Arrays, and decimals JavaScript prints without their trailing zeros, are inside it.
	for _, body := range []string{
		`{"a":[1]}`, `{"a":[]}`, `{"a":[[],{}],"b":[ [ 1 ] , { "x" : 2 } ]}`,
		`{"a":[1,2,3,4,5,6,7,8,9,10,11,12,"x",null,true,false,1.50]}`,
		`{"a":1.0}`, `{"a":1.50}`, `{"a":9.10,"b":2.00,"c":0.0,"d":0.000,"e":0.20,"f":100.00}`,
		`{"a":0.0123000,"b":-1.10,"c":-0.50,"d":0.0000010,"e":123456789012345.0000}`,
		`{"a":1234567890123.450,"b":0.09853637216235617000,"c":1.000000000000000000000}`,
	} {
		assert.True(t, checkFastNode(t, &f, []byte(body)), "fast path declined %q", body)
	}
	for _, n := range []int{9, 10, 11, 99, 100, 101, 1000, 1001, 12345} {
		var sb strings.Builder
		sb.WriteString(`{"a":[`)
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString([]string{`1`, `"x"`, `[]`, `{"b":2.50}`, `[0.0]`}[i%5])
		}
		sb.WriteString(`]}`)
		assert.True(t, checkFastNode(t, &f, []byte(sb.String())), "fast path declined an array of %d elements", n)
	}
	// Depth MaxDepth is still inside the subset, arrays counting as levels.
	ok := strings.Repeat(`{"a":`, MaxDepth-1) + "1" + strings.Repeat("}", MaxDepth-1)
	assert.True(t, checkFastNode(t, &f, []byte(ok)), "fast path declined %d levels of nesting", MaxDepth-1)
	okArr := strings.Repeat(`{"a":[`, (MaxDepth-1)/2) + "1" + strings.Repeat("]}", (MaxDepth-1)/2)
	assert.True(t, checkFastNode(t, &f, []byte(okArr)), "fast path declined %d levels of nesting with arrays", MaxDepth-1)
	edgeArr := `{"a":` + strings.Repeat(`[`, MaxDepth-1) + "1" + strings.Repeat("]", MaxDepth-1) + `}`
	assert.True(t, checkFastNode(t, &f, []byte(edgeArr)), "fast path declined %d levels of nesting with arrays", MaxDepth)
	deepArr := `{"a":` + strings.Repeat(`[`, MaxDepth) + "1" + strings.Repeat("]", MaxDepth) + `}`
	out, accepted := f.appendNode(nil, []byte(deepArr))
	assert.False(t, accepted, "fast path accepted %d levels of nesting as %q", MaxDepth+1, out)
}

// BenchmarkFastNode measures the fast path alone on the seed's payment IPN, next to
// BenchmarkSortedJSONParseEmit (the general parse and Node form).
func BenchmarkFastNode(b *testing.B) {
	for name, body := range benchBodies(b) {
		b.Run(name, func(b *testing.B) {
			var f fastNode
			var out []byte
			b.ReportAllocs()
			for b.Loop() {
				var ok bool
				if out, ok = f.appendNode(out[:0], body); !ok {
					b.Fatal("declined")
				}
			}
		})
	}
}
