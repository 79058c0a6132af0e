package sortedjson

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expected texts below are what the reference programs print (node v20, PHP 8.2, Python 3.11:
// see testdata/sortedjson/reference); TestSortedJSONDifferential re-derives them from the
// programs themselves.

func TestCanonicalNumbers(t *testing.T) {
	for _, tc := range []struct{ in, node, php, python string }{
		{"0", "0", "0", "0"},
		{"-0", "0", "0", "0"},
		{"-0.0", "0", "-0", "-0.0"},
		{"0e5", "0", "0", "0.0"},
		{"-0e-5", "0", "-0", "-0.0"},
		{"1.0", "1", "1", "1.0"},
		{"1.50", "1.5", "1.5", "1.5"},
		{"100.0", "100", "100", "100.0"},
		{"1E2", "100", "100", "100.0"},
		{"1e-7", "1e-7", "1.0e-7", "1e-07"},
		{"1.2e-7", "1.2e-7", "1.2e-7", "1.2e-07"},
		{"1e-6", "0.000001", "1.0e-6", "1e-06"},
		{"0.0001", "0.0001", "0.0001", "0.0001"},
		{"0.00001", "0.00001", "1.0e-5", "1e-05"},
		{"1e15", "1000000000000000", "1000000000000000", "1000000000000000.0"},
		{"1e16", "10000000000000000", "10000000000000000", "1e+16"},
		{"1e17", "100000000000000000", "1.0e+17", "1e+17"},
		{"1e20", "100000000000000000000", "1.0e+20", "1e+20"},
		{"1e21", "1e+21", "1.0e+21", "1e+21"},
		{"1e23", "1e+23", "1.0e+23", "1e+23"},
		{"14.8106", "14.8106", "14.8106", "14.8106"},
		{"0.09853637216235617", "0.09853637216235617", "0.09853637216235617", "0.09853637216235617"},
		{"0.1e1", "1", "1", "1.0"},
		{"123.456e-10", "1.23456e-8", "1.23456e-8", "1.23456e-08"},
		{"1.7976931348623157e308", "1.7976931348623157e+308", "1.7976931348623157e+308", "1.7976931348623157e+308"},
		{"4.9e-324", "5e-324", "5.0e-324", "5e-324"},
		{"1e-400", "0", "0", "0.0"},
		{"-1e-400", "0", "-0", "-0.0"},
		{"9007199254740993", "9007199254740992", "9007199254740993", "9007199254740993"},
		{"9223372036854775807", "9223372036854776000", "9223372036854775807", "9223372036854775807"},
		{"9223372036854775808", "9223372036854776000", "9.223372036854776e+18", "9223372036854775808"},
		{"-9223372036854775808", "-9223372036854776000", "-9223372036854775808", "-9223372036854775808"},
		{"-9223372036854775809", "-9223372036854776000", "-9.223372036854776e+18", "-9223372036854775809"},
		{"123456789012345678901234567890", "1.2345678901234568e+29", "1.2345678901234568e+29", "123456789012345678901234567890"},
	} {
		body := []byte("[" + tc.in + "]")
		got := map[string]string{}
		for _, f := range []Form{FormNode, FormPHP, FormPython} {
			out, err := Canonical(body, f)
			require.NoError(t, err, "%s", tc.in)
			got[f.String()] = string(out)
		}
		want := map[string]string{"node": `{"0":` + tc.node + `}`, "php": "[" + tc.php + "]", "python": "[" + tc.python + "]"}
		assert.Empty(t, cmp.Diff(want, got), "%s (-want +got)", tc.in)
	}
}

// TestDecimalFastPathAgrees checks the strconv-free path against ParseFloat + shortest
// formatting on random numbers with up to 15 significant digits.
func TestDecimalFastPathAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		digits := strconv.FormatUint(r.Uint64N(1_000_000_000_000_000), 10)
		s := digits
		if p := r.IntN(len(digits) + 3); p < len(digits) {
			s = digits[:p] + "." + digits[p:]
			if p == 0 {
				s = "0" + s
			}
		}
		if r.IntN(2) == 0 {
			s += "e" + strconv.Itoa(r.IntN(600)-300)
		}
		if r.IntN(3) == 0 {
			s = "-" + s
		}
		if f, _ := strconv.ParseFloat(s, 64); math.IsInf(f, 0) {
			continue
		}
		var fast, slow decimal
		if !fast.parseFast([]byte(s)) {
			continue
		}
		f, _ := strconv.ParseFloat(s, 64)
		slow.setFloat(f)
		require.Equal(t, slow.neg, fast.neg, "%s: fast %v %q e%d, slow %v %q e%d", s, fast.neg, fast.d[:fast.nd], fast.point, slow.neg, slow.d[:slow.nd], slow.point)
		require.Equal(t, slow.nd, fast.nd, "%s: fast %v %q e%d, slow %v %q e%d", s, fast.neg, fast.d[:fast.nd], fast.point, slow.neg, slow.d[:slow.nd], slow.point)
		require.Equal(t, slow.point, fast.point, "%s: fast %v %q e%d, slow %v %q e%d", s, fast.neg, fast.d[:fast.nd], fast.point, slow.neg, slow.d[:slow.nd], slow.point)
		require.Equal(t, string(slow.d[:slow.nd]), string(fast.d[:fast.nd]), "%s: fast %v %q e%d, slow %v %q e%d", s, fast.neg, fast.d[:fast.nd], fast.point, slow.neg, slow.d[:slow.nd], slow.point)
	}
}

func TestCanonicalStrings(t *testing.T) {
	for _, tc := range []struct{ in, node, php, python string }{
		{`"plain"`, `"plain"`, `"plain"`, `"plain"`},
		{`"\b\f\n\r\t\u0001\u001f\u007f\"\\\/"`, `"\b\f\n\r\t\u0001\u001f` + "\x7f" + `\"\\/"`, `"\b\f\n\r\t\u0001\u001f` + "\x7f" + `\"\\/"`, `"\b\f\n\r\t\u0001\u001f\u007f\"\\/"`},
		{`"é\u2028/<>&'"`, "\"é\u2028/<>&'\"", `"\u00e9\u2028/<>&'"`, `"\u00e9\u2028/<>&'"`},
		{`"\ud83d\ude00😀\uFFFF"`, "\"😀😀\uffff\"", `"\ud83d\ude00\ud83d\ude00\uffff"`, `"\ud83d\ude00\ud83d\ude00\uffff"`},
		{`"\u0000"`, `"\u0000"`, `"\u0000"`, `"\u0000"`},
	} {
		body := []byte(`{"k":` + tc.in + `}`)
		for f, want := range map[Form]string{FormNode: tc.node, FormPHP: tc.php, FormPython: tc.python} {
			out, err := Canonical(body, f)
			require.NoError(t, err)
			got := string(out)
			assert.Equal(t, `{"k":`+want+`}`, got, "%s form of %s", f, tc.in)
		}
	}
}

func TestCanonicalStructures(t *testing.T) {
	for _, tc := range []struct{ in, node, php, python string }{
		{`{}`, `{}`, `[]`, `{}`},
		{`[]`, `{}`, `[]`, `[]`},
		{`{"b":[5,2],"a":{}}`, `{"a":{},"b":{"0":5,"1":2}}`, `{"a":[],"b":[5,2]}`, `{"a":{},"b":[5,2]}`},
		{`{"1":"b","0":"a"}`, `{"0":"a","1":"b"}`, `["a","b"]`, `{"0":"a","1":"b"}`},
		{`{"0":1,"2":2}`, `{"0":1,"2":2}`, `{"0":1,"2":2}`, `{"0":1,"2":2}`},
		{`{"b":1,"10":2,"9":3,"a":4,"!":5}`, `{"9":3,"10":2,"!":5,"a":4,"b":1}`, `{"!":5,"9":3,"10":2,"a":4,"b":1}`, `{"!":5,"10":2,"9":3,"a":4,"b":1}`},
		{`{"!":0,"4294967295":1,"4294967294":2}`, `{"4294967294":2,"!":0,"4294967295":1}`, `{"!":0,"4294967294":2,"4294967295":1}`, `{"!":0,"4294967294":2,"4294967295":1}`},
		{`{"2":1,"1e1":2,"1f":3}`, `{"2":1,"1e1":2,"1f":3}`, `{"2":1,"1e1":2,"1f":3}`, `{"1e1":2,"1f":3,"2":1}`},
		{`{"1f":3,"2":1,"1e1":2}`, `{"2":1,"1e1":2,"1f":3}`, `{"1f":3,"2":1,"1e1":2}`, `{"1e1":2,"1f":3,"2":1}`},
		{`{"\ue000":1,"\ud83d\ude00":2}`, "{\"😀\":2,\"\ue000\":1}", `{"\ue000":1,"\ud83d\ude00":2}`, `{"\ue000":1,"\ud83d\ude00":2}`},
		{`{"__proto__":{"x":1},"a":1}`, `{"a":1}`, `{"__proto__":{"x":1},"a":1}`, `{"__proto__":{"x":1},"a":1}`},
		{`{"x":{"__proto__":null,"b":1}}`, `{"x":{"b":1}}`, `{"x":{"__proto__":null,"b":1}}`, `{"x":{"__proto__":null,"b":1}}`},
	} {
		got := map[string]string{}
		for _, f := range []Form{FormNode, FormPHP, FormPython} {
			out, err := Canonical([]byte(tc.in), f)
			require.NoError(t, err, "%s", tc.in)
			got[f.String()] = string(out)
		}
		want := map[string]string{"node": tc.node, "php": tc.php, "python": tc.python}
		assert.Empty(t, cmp.Diff(want, got), "%s (-want +got)", tc.in)
	}
}

func TestCanonicalTopLevelScalars(t *testing.T) {
	for _, tc := range []struct{ in, node, python string }{
		{`5`, `{}`, `5`},
		{`true`, `{}`, `true`},
		{`""`, `{}`, `""`},
		{`"ab"`, `{"0":"a","1":"b"}`, `"ab"`},
		{`"\ud83d\ude00é"`, `{"0":"\ud83d","1":"\ude00","2":"é"}`, `"\ud83d\ude00\u00e9"`},
	} {
		node, err := Canonical([]byte(tc.in), FormNode)
		require.NoError(t, err, "node form of %s: %q, %v; want %q", tc.in, node, err, tc.node)
		assert.Equal(t, tc.node, string(node), "node form of %s: %q, %v; want %q", tc.in, node, err, tc.node)
		python, err := Canonical([]byte(tc.in), FormPython)
		require.NoError(t, err, "python form of %s: %q, %v; want %q", tc.in, python, err, tc.python)
		assert.Equal(t, tc.python, string(python), "python form of %s: %q, %v; want %q", tc.in, python, err, tc.python)
	}
}

func TestPHPIntKey(t *testing.T) {
	for k, want := range map[string]any{
		"0": int64(0), "7": int64(7), "-3": int64(-3), "9223372036854775807": int64(math.MaxInt64),
		"-9223372036854775808": int64(math.MinInt64), "9223372036854775808": nil, "-9223372036854775809": nil,
		"-0": nil, "01": nil, "+1": nil, " 1": nil, "1 ": nil, "1.0": nil, "": nil, "-": nil, "a": nil,
		"99999999999999999999": nil,
	} {
		v, ok := phpIntKey([]byte(k))
		if want == nil && ok || want != nil && (!ok || v != want.(int64)) {
			t.Errorf("phpIntKey(%q) = %d, %v; want %v", k, v, ok, want)
		}
	}
}

func TestPHPNumeric(t *testing.T) {
	type res struct {
		typ   uint8
		lval  int64
		dval  float64
		oflow int
	}
	for k, want := range map[string]res{
		"12":                    {phpLong, 12, 0, 0},
		" 12":                   {phpLong, 12, 0, 0},
		"12 \t\n\r\v\f":         {phpLong, 12, 0, 0},
		"+12":                   {phpLong, 12, 0, 0},
		"-0":                    {phpLong, 0, 0, 0},
		"007":                   {phpLong, 7, 0, 0},
		"1.5":                   {phpDouble, 0, 1.5, 0},
		".5":                    {phpDouble, 0, 0.5, 0},
		"5.":                    {phpDouble, 0, 5, 0},
		"-.5e1":                 {phpDouble, 0, -5, 0},
		"1e3":                   {phpDouble, 0, 1000, 0},
		"1E+3":                  {phpDouble, 0, 1000, 0},
		"1e999":                 {phpDouble, 0, math.Inf(1), 0},
		"9223372036854775807":   {phpLong, math.MaxInt64, 0, 0},
		"9223372036854775808":   {phpDouble, 0, 9223372036854775808, 1},
		"-9223372036854775808":  {phpLong, math.MinInt64, 0, 0},
		"-9223372036854775809":  {phpDouble, 0, -9223372036854775809, -1},
		"9223372036854775807 ":  {phpLong, math.MaxInt64, 0, 0},
		"-9223372036854775808 ": {phpDouble, 0, -9223372036854775808, -1},
		"123456789012345678901": {phpDouble, 0, 123456789012345678901, 1},
		"1e":                    {},
		"1e+":                   {},
		"1f":                    {},
		"0x1A":                  {},
		".":                     {},
		"-":                     {},
		" ":                     {},
		"":                      {},
		"a1":                    {},
		"1 a":                   {},
		"1\x00":                 {},
	} {
		typ, lval, dval, oflow := phpNumeric([]byte(k))
		assert.Equal(t, want, res{typ, lval, dval, oflow}, "phpNumeric(%q)", k)
	}
}

func TestCmpUTF16(t *testing.T) {
	lone := func(u rune) string { // WTF-8 bytes of a lone surrogate
		return string([]byte{0xED, byte(0xA0 | (u>>6)&0x1F), byte(0x80 | u&0x3F)})
	}
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"a", "b", -1},
		{"a", "ab", -1},
		{"", "", 0},
		{"\ue000", "😀", 1},                // U+E000 > D83D
		{"\uffff", "\U00010000", 1},       // FFFF > D800
		{"😀", "😁", -1},                    // same high surrogate, DE00 < DE01
		{lone(0xD83D) + "x", "😀", -1},     // D83D 0078 < D83D DE00
		{lone(0xD83D) + "\ue000", "😀", 1}, // D83D E000 > D83D DE00
		{lone(0xDC00), "😀", 1},            // DC00 > D83D
		{lone(0xD800), "\U00010000", -1},  // D800 = D800, then end < DC00
	} {
		assert.Equal(t, tc.want, cmpUTF16([]byte(tc.a), []byte(tc.b)), "cmpUTF16(%q, %q)", tc.a, tc.b)
		assert.Equal(t, -tc.want, cmpUTF16([]byte(tc.b), []byte(tc.a)), "cmpUTF16(%q, %q)", tc.b, tc.a)
	}
}
