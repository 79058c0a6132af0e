package sortedjson

import (
	"bytes"
	"cmp"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/testenv"
)

// Adversarial bodies for the sorted-JSON verifier. Anyone can POST to an IPN endpoint, and the
// body is canonicalized before its HMAC can be checked, so every step of that must cost time
// linear in the body: rejecting the worst body of a given size may cost only a small constant
// times rejecting a benign one of the same size. Each case below pairs a body built to make
// one step slow with a benign twin of the same size (the same keys in ascending order, or an
// ordinary IPN-like object), and names the form whose work it targets.

// advSize is the size of the adversarial bodies: the default payload limit (webhook.DefaultMaxPayloadBytes).
const advSize = 1 << 20

// advKillerKeys is how many keys the antiquicksort objects have.
const advKillerKeys = 1 << 14

// advCase is one adversarial body and its benign twin.
type advCase struct {
	name   string
	form   Form // the form whose canonicalization the body targets
	adv    []byte
	benign []byte
	// refused is set when the adversarial body is refused by design (ErrInvalidPayload) rather
	// than canonicalized.
	refused bool
}

// objectOf writes {"k1":v,"k2":v,...} for plain keys (no character JSON must escape).
func objectOf(keys []string, val string) []byte {
	n := 2
	for _, k := range keys {
		n += len(k) + len(val) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		b = append(b, val...)
	}
	return append(b, '}')
}

// keysFor returns keys key(0), key(1), ... as many as fit a body of size bytes with the
// value val, in ascending index order.
func keysFor(size int, val string, key func(i int) string) []string {
	var keys []string
	total := 2
	for i := 0; ; i++ {
		k := key(i)
		total += len(k) + len(val) + 4
		if total > size {
			return keys
		}
		keys = append(keys, k)
	}
}

// padded returns prefix followed by i in width decimal digits, so that byte order is index
// order.
func padded(prefix string, i, width int) string {
	s := strconv.Itoa(i)
	return prefix + strings.Repeat("0", max(0, width-len(s))) + s
}

func reversed(keys []string) []string {
	r := slices.Clone(keys)
	slices.Reverse(r)
	return r
}

func shuffled(keys []string, seed uint64) []string {
	r := slices.Clone(keys)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
	return r
}

// permuted returns keys[order[0]], keys[order[1]], ...
func permuted(keys []string, order []int) []string {
	r := make([]string, len(order))
	for i, o := range order {
		r[i] = keys[o]
	}
	return r
}

// antiQSort is McIlroy's adversary ("A Killer Adversary for Quicksort", 1999): it answers the
// comparisons of a sort as it goes, keeping most elements unvalued ("gas") for as long as it
// can, which drives any quicksort whose pivot choice it can observe to quadratic time. Run
// with zsort (the zend_sort port itself), it yields a key order that makes PHP's ksort()
// quadratic.
type antiQSort struct {
	val       []int // value of each element once frozen; gas until then
	at        []int // at[i]: the element now at index i
	gas       int
	nsolid    int
	candidate int
}

func (a *antiQSort) cmp(i, j int) int {
	x, y := a.at[i], a.at[j]
	if a.val[x] == a.gas && a.val[y] == a.gas {
		if x == a.candidate {
			a.val[x] = a.nsolid
		} else {
			a.val[y] = a.nsolid
		}
		a.nsolid++
	}
	if a.val[x] == a.gas {
		a.candidate = x
	} else if a.val[y] == a.gas {
		a.candidate = y
	}
	return cmp.Compare(a.val[x], a.val[y])
}

func (a *antiQSort) swp(i, j int) { a.at[i], a.at[j] = a.at[j], a.at[i] }
func (a *antiQSort) spent() bool  { return false }

// zendKiller returns an order of n ranks: placing the key of rank order[i] at position i
// makes zend_sort take quadratic time on keys whose comparison follows their rank.
func zendKiller(n int) []int {
	a := &antiQSort{val: make([]int, n), at: make([]int, n), gas: n}
	for i := range n {
		a.val[i], a.at[i] = n, i
	}
	zsort(a, 0, n)
	for i := range n { // elements the sort never had to tell apart
		if a.val[i] == a.gas {
			a.val[i] = a.nsolid
			a.nsolid++
		}
	}
	return a.val
}

// ipnLikeBody is the benign shape: an object of ascending word keys with short string
// values, like the members of an IPN, filling size bytes.
func ipnLikeBody(size int) []byte {
	return objectOf(keysFor(size, `"finished"`, func(i int) string { return padded("payment_", i, 7) }), `"finished"`)
}

// adversarialCases builds the table. The sizes are the default payload limit.
func adversarialCases() []advCase {
	var cases []advCase
	benignIPN := ipnLikeBody(advSize)
	add := func(name string, form Form, adv, benign []byte) {
		cases = append(cases, advCase{name: name, form: form, adv: adv, benign: benign})
	}

	// Node fast path and the parse-time key sort: plain word keys (every form orders them by
	// bytes). Descending order was quadratic in the fast path's insertion sort.
	words := keysFor(advSize, "1", func(i int) string { return padded("k", i, 7) })
	add("words descending", FormNode, objectOf(reversed(words), "1"), objectOf(words, "1"))
	add("words shuffled", FormNode, objectOf(shuffled(words, 1), "1"), objectOf(words, "1"))
	// Keys sharing a long prefix: every comparison reads it.
	long := keysFor(advSize, "1", func(i int) string { return padded(strings.Repeat("p", 200), i, 7) })
	add("long shared prefix, shuffled", FormPython, objectOf(shuffled(long, 2), "1"), objectOf(long, "1"))
	longer := keysFor(advSize, "1", func(i int) string { return padded(strings.Repeat("q", 4000), i, 7) })
	add("very long shared prefix, descending", FormPython, objectOf(reversed(longer), "1"), objectOf(longer, "1"))
	// Many objects of 24 keys (the largest the insertion sorts take) in descending order.
	inner := keysFor(25*24, "1", func(i int) string { return padded("k", i, 3) })[:24]
	var smallDesc, smallAsc [][]byte
	for i := 0; ; i++ {
		d, a := objectOf(reversed(inner), "1"), objectOf(inner, "1")
		if (i+1)*(len(d)+12) > advSize {
			break
		}
		smallDesc, smallAsc = append(smallDesc, d), append(smallAsc, a)
	}
	add("many 24-key objects descending", FormNode, nestedObjects(smallDesc), nestedObjects(smallAsc))

	// Node's general path: array-index keys come first in numeric order, and keys with
	// characters at or above U+D000 are ordered by UTF-16 code units.
	idx := keysFor(advSize, "1", strconv.Itoa)
	add("index keys descending", FormNode, objectOf(reversed(idx), "1"), objectOf(idx, "1"))
	high := keysFor(advSize, "1", func(i int) string { return padded("\ue000", i, 7) })
	add("UTF-16 ordered keys shuffled", FormNode, objectOf(shuffled(high, 3), "1"), objectOf(high, "1"))
	highLong := keysFor(advSize, "1", func(i int) string { return padded(strings.Repeat("\ue000", 100), i, 7) })
	add("UTF-16 ordered keys, long shared prefix, shuffled", FormNode, objectOf(shuffled(highLong, 4), "1"), objectOf(highLong, "1"))

	// PHP's ksort(): zend_sort is a quicksort with no worst-case guard. All-integer keys in
	// McIlroy's order (the comparison is then a total order, any sort will do), integers with
	// one word key, and decimal strings (comparisons PHP makes numerically). Finding the
	// order takes the adversary quadratic time too, so these objects have fewer keys, with
	// longer values to fill the size.
	killer := zendKiller(advKillerKeys)
	pad := `"` + strings.Repeat("v", advSize/advKillerKeys-16) + `"`
	ints := make([]string, advKillerKeys)
	for i := range ints {
		ints[i] = strconv.Itoa(i)
	}
	add("integer keys, antiquicksort order", FormPHP, objectOf(permuted(ints, killer), pad), objectOf(ints, pad))
	mixed := slices.Clone(ints)
	mixed[len(mixed)-1] = "z" // sorts after every integer key: "z" > "123" as strings
	cases = append(cases, advCase{name: "integer keys and a word, antiquicksort order", form: FormPHP,
		adv: objectOf(permuted(mixed, killer), pad), benign: objectOf(mixed, pad), refused: true})
	// Each comparison of the zend_sort port may read a long common prefix: few keys, long.
	const fewKeys = 256
	longWords := make([]string, fewKeys)
	longWords[0] = "0" // an integer key, before every word: "0" < "p" as strings
	for i := 1; i < fewKeys; i++ {
		longWords[i] = padded(strings.Repeat("p", advSize/fewKeys-24), i, 4)
	}
	cases = append(cases, advCase{name: "long words and an integer, antiquicksort order", form: FormPHP,
		adv: objectOf(permuted(longWords, zendKiller(fewKeys)), "1"), benign: objectOf(longWords, "1"), refused: true})
	dec := make([]string, advKillerKeys)
	for i := range dec {
		dec[i] = strconv.Itoa(i) + ".5"
	}
	cases = append(cases, advCase{name: "decimal-string keys, antiquicksort order", form: FormPHP,
		adv: objectOf(permuted(dec, killer), pad), benign: objectOf(dec, pad), refused: true})

	// Nesting: the Node fast path wrote each nested object's text once per enclosing level.
	big := strings.Repeat("x", advSize-MaxDepth*6-16)
	deep := strings.Repeat(`{"a":`, MaxDepth-1) + `"` + big + `"` + strings.Repeat("}", MaxDepth-1)
	add("deep nesting around a long string", FormNode, []byte(deep), []byte(`{"a":"`+big+`"}`))
	// Output larger than the input: arrays and top-level strings become index-keyed objects
	// in the Node form; DEL and non-ASCII text is escaped in the Python and PHP forms.
	add("array of zeros", FormNode, []byte("["+strings.Repeat("0,", advSize/2-1)+"0]"), benignIPN)
	add("top-level string", FormNode, []byte(`"`+strings.Repeat("a", advSize-2)+`"`), benignIPN)
	add("array of empty objects", FormNode, []byte("["+strings.Repeat("{},", advSize/3-1)+"{}]"), benignIPN)
	add("DEL characters", FormPython, []byte(`{"a":"`+strings.Repeat("\x7f", advSize-8)+`"}`), benignIPN)
	add("non-ASCII characters", FormPHP, []byte(`{"a":"`+strings.Repeat("é", (advSize-8)/2)+`"}`), benignIPN)
	add("escapes", FormPHP, []byte(`{"a":"`+strings.Repeat(`\u00e9\n`, (advSize-8)/8)+`"}`), benignIPN)
	// Numbers: long digit strings, huge exponents, and many numbers each needing the full
	// float conversion.
	add("long fraction", FormPython, []byte(`{"a":0.`+strings.Repeat("0", advSize-12)+`1}`), benignIPN)
	add("long mantissa", FormPython, []byte(`{"a":1.`+strings.Repeat("3", advSize-12)+`1}`), benignIPN)
	add("many 17-digit floats", FormPython, []byte("["+strings.Repeat("0.12345678901234567e-300,", advSize/25-1)+"1]"), benignIPN)
	add("many 18-digit integers", FormNode, []byte("["+strings.Repeat("123456789012345678,", advSize/19-1)+"1]"), benignIPN)
	add("many big exponents", FormPython, []byte("["+strings.Repeat("0e999999999,", advSize/12-1)+"1]"), benignIPN)
	add("deep arrays, many times", FormNode, []byte("["+strings.Repeat(strings.Repeat("[", 60)+strings.Repeat("]", 60)+",", advSize/121-1)+"1]"), benignIPN)
	return cases
}

// nestedObjects writes {"o0000000":objs[0],"o0000001":objs[1],...}.
func nestedObjects(objs [][]byte) []byte {
	var b []byte
	b = append(b, '{')
	for i, o := range objs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, padded("o", i, 7)...)
		b = append(b, '"', ':')
		b = append(b, o...)
	}
	return append(b, '}')
}

// advWrongSig is a well-formed signature that matches nothing: Verify must canonicalize the
// body in every form before it can say so.
var advWrongSig = strings.Repeat("ab", 64)

// timeMin returns the shortest of runs wall-time measurements of fn.
func timeMin(runs int, fn func()) time.Duration {
	best := time.Duration(1<<63 - 1)
	for range runs {
		best = min(best, testenv.WallTime(fn))
	}
	return best
}

// formBytes is the total length of the canonical forms of body: what Verify writes and hashes
// before it can reject a signature.
func formBytes(body []byte) int {
	n := 0
	for _, f := range []Form{FormNode, FormPHP, FormPython} {
		out, _ := Canonical(body, f)
		n += len(out)
	}
	return n
}

// maxFormExpansion bounds formBytes over the body length: the Node form of a top-level string
// of n ASCII characters has n members `"<index>":"c"` (14 bytes each up to a million, 17 at
// most), the Python form escapes DEL as six bytes, and each form is written once.
const maxFormExpansion = 17 + 6 + 6

// advWork runs the fast path, the parse and the three forms on body and returns the key
// comparisons their O(n log n) sorts and the zend_sort port made, and the number of object
// keys in body.
func advWork(t *testing.T, body []byte) (cmps, keys int) {
	t.Helper()
	var f fastNode
	f.nodeForm(body)
	var c canon
	require.NoError(t, c.doc.parse(body))
	for i := range c.doc.nodes {
		if n := &c.doc.nodes[i]; n.kind == kindObject {
			keys += int(n.n)
		}
	}
	cmps = f.cmps + c.doc.cmps
	for _, form := range []Form{FormNode, FormPHP, FormPython} {
		c.cmps = 0
		c.appendForm(nil, form)
		cmps += c.cmps
	}
	return cmps, keys
}

// TestSortedJSONAdversarialComparisons counts the key comparisons every sort on the path
// makes: on n keys, in whatever order, at most a few n log2 n in all (four sorts of the same
// keys, each O(n log n), plus the zend_sort budget). The Node fast path's insertion sort made
// n²/4 on the shuffled and descending bodies (1.6 billion at 1 MiB), the zend_sort port n²/4
// on the antiquicksort orders.
func TestSortedJSONAdversarialComparisons(t *testing.T) {
	for _, c := range adversarialCases() {
		cmps, n := advWork(t, c.adv)
		if n < 2 {
			continue // no keys to sort
		}
		benign, _ := advWork(t, c.benign)
		limit := 8*n*bits.Len(uint(n)) + phpSortBudgetBase
		t.Logf("%s: %d keys, %d comparisons (benign twin %d; limit %d)", c.name, n, cmps, benign, limit)
		assert.LessOrEqual(t, cmps, limit, "%s: too many comparisons for %d keys", c.name, n)
	}
}

// phpKeysOf returns the PHP keys of keys, in document order.
func phpKeysOf(keys []string) []phpKey {
	out := make([]phpKey, len(keys))
	for i, k := range keys {
		out[i] = newPHPKey([]byte(k), int32(i), int32(2*i+1))
	}
	return out
}

// zendOrder is ksort()'s order of keys, by the unbounded zend_sort port: the positions of the
// keys in sorted order.
func zendOrder(keys []string) []int32 {
	pk := phpKeysOf(keys)
	if left := zendSort(pk, math.MaxInt); left < 0 {
		panic("zend_sort ran out of an unbounded budget")
	}
	ords := make([]int32, len(pk))
	for i := range pk {
		ords[i] = pk[i].ord
	}
	return ords
}

// checkPHPOrder checks sortPHPKeys on keys against the unbounded zend_sort port, and reports
// the class it used.
func checkPHPOrder(t testing.TB, keys []string) phpOrder {
	t.Helper()
	want := zendOrder(keys)
	pk := phpKeysOf(keys)
	c := canon{phpLeft: phpSortBudgetBase}
	byBytes := c.sortPHPKeys(pk)
	class := phpOrderOf(pk)
	if c.err != nil {
		return class // refused: nothing to compare (the budget tests cover when)
	}
	if byBytes {
		// The caller writes these keys in byte order: that must be ksort()'s.
		slices.SortFunc(pk, func(a, b phpKey) int { return bytes.Compare(a.key, b.key) })
	}
	for i := range pk {
		if pk[i].ord != want[i] {
			got := make([]string, len(pk))
			for j := range pk {
				got[j] = string(pk[j].key)
			}
			exp := make([]string, len(want))
			for j, o := range want {
				exp[j] = keys[o]
			}
			t.Fatalf("keys %q (class %d): got order %q, zend_sort gives %q", keys, class, got, exp)
		}
	}
	return class
}

// phpKeyPool mixes every kind of key PHP's comparison tells apart: int keys (negative, at the
// int64 limits), numeric strings read as longs ("07", " 7", "+7", "7 "), as doubles ("1.5",
// "1e3", ".5", overflowing "99999999999999999999", "1e999"), and words (including ones that
// start like numbers).
var phpKeyPool = []string{
	"0", "1", "2", "7", "9", "10", "11", "-1", "-7", "100", "9223372036854775807", "-9223372036854775808",
	"07", " 7", "+7", "7 ", "-0", "00", " 10", "+10", "010", "9223372036854775808", "-9223372036854775809",
	"1.5", "1e3", ".5", "7.0", "1e1", "1E1", "-1.5", "99999999999999999999", "100000000000000000000", "1e999", "-1e999", " 1e1 ",
	"a", "b", "z", "", " ", "1a", "1f", "7x", "-", "+", ".", "1e", "0x1A", "Z", "_", "aa", "é",
}

// TestPHPKeyOrderClasses checks that sortPHPKeys, which sorts keys in a total order with
// pdqsort when it can and runs the zend_sort port only on keys mixing integers and words,
// gives exactly the port's order: on random sets of keys of each class and of mixed ones.
func TestPHPKeyOrderClasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	pools := map[string][]string{"mixed": phpKeyPool}
	for _, k := range phpKeyPool {
		switch pk := newPHPKey([]byte(k), 0, 0); {
		case pk.isInt || pk.typ == phpLong:
			pools["integers"] = append(pools["integers"], k)
		case pk.typ == phpNotNumeric:
			pools["words"] = append(pools["words"], k)
		}
	}
	seen := map[phpOrder]int{}
	for name, pool := range pools {
		for range 3000 {
			// Unique keys, as in a parsed object, some drawn from the pool and some random
			// integers, in random order.
			set := map[string]bool{}
			var keys []string
			for n := 2 + rng.IntN(40); len(keys) < n; {
				k := pool[rng.IntN(len(pool))]
				if name == "integers" && rng.IntN(2) == 0 {
					k = strconv.Itoa(rng.IntN(2000) - 1000)
				}
				if !set[k] {
					set[k] = true
					keys = append(keys, k)
				}
				if len(set) == len(pool) && name != "integers" {
					break
				}
			}
			seen[checkPHPOrder(t, keys)]++
		}
	}
	// Large objects: pdqsort rather than insertion sorts inside the port.
	for _, n := range []int{100, 5000} {
		var ints []string
		for i := range n {
			ints = append(ints, strconv.Itoa(i*7-n))
		}
		ints = append(ints, "07", " 3", "+5")
		seen[checkPHPOrder(t, shuffled(ints, uint64(n)))]++
		words := keysFor(n*12, "1", func(i int) string { return padded("w", i, 6) })
		seen[checkPHPOrder(t, shuffled(words, uint64(n)))]++
	}
	require.NotZero(t, seen[phpOrderBytes], "classes exercised: %v; want all three", seen)
	require.NotZero(t, seen[phpOrderValue], "classes exercised: %v; want all three", seen)
	require.NotZero(t, seen[phpOrderZend], "classes exercised: %v; want all three", seen)
	t.Logf("key sets per class (bytes, value, zend): %d, %d, %d", seen[phpOrderBytes], seen[phpOrderValue], seen[phpOrderZend])
}

// TestPHPSortBudget checks the comparison budget of the zend_sort port: McIlroy's order of
// integer keys and one word is refused with ErrInvalidPayload (for the PHP form only), after
// no more comparisons than the budget, where the unbounded port would take quadratically
// many; the same keys in sorted, reversed or random order, any real IPN, and small objects in
// their worst order all stay well within it.
func TestPHPSortBudget(t *testing.T) {
	mixedKeys := func(n int) []string {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = strconv.Itoa(i)
		}
		keys[n-1] = "z"
		return keys
	}
	const n = 4096
	keys := mixedKeys(n)
	killer := permuted(keys, zendKiller(n))
	require.GreaterOrEqual(t, math.MaxInt-zendSort(phpKeysOf(killer), math.MaxInt), n*n/8, "the antiquicksort order took the unbounded port too few comparisons; want at least n²/8")
	body := objectOf(killer, "1")
	_, err := Canonical(body, FormPHP)
	require.ErrorIs(t, err, ErrInvalidPayload, "PHP form of the antiquicksort order: %v, want ErrInvalidPayload", err)
	require.Contains(t, err.Error(), "ksort", "PHP form of the antiquicksort order: %v, want ErrInvalidPayload", err)
	var c canon
	require.NoError(t, c.doc.parse(body))
	c.cmps = 0
	_, ok := c.appendForm(nil, FormPHP)
	require.False(t, ok, "appendForm wrote the PHP form of the antiquicksort order")
	require.Error(t, c.err, "appendForm wrote the PHP form of the antiquicksort order")
	if budget := phpSortBudgetBase + phpSortBudgetPerKey*n; c.cmps > budget+n {
		t.Errorf("%d comparisons before giving up; the budget is %d", c.cmps, budget)
	}
	for _, f := range []Form{FormNode, FormPython} {
		_, err := Canonical(body, f)
		assert.NoError(t, err, "%s form (only the PHP form has the budget)", f)
	}
	// Natural orders of the largest mixed objects a 1 MiB body holds are sorted, exactly.
	big := mixedKeys(200000)
	for name, order := range map[string][]string{"sorted": big, "reversed": reversed(big), "shuffled": shuffled(big, 5)} {
		_, err := Canonical(objectOf(order, "1"), FormPHP)
		assert.NoError(t, err, "%s 200000 mixed keys", name)
	}
	// Small objects in any order: the worst order of 60 keys, and random small objects.
	class := checkPHPOrder(t, permuted(mixedKeys(60), zendKiller(60)))
	require.Equal(t, phpOrderZend, class, "class, want the zend_sort port")
	_, err = Canonical(objectOf(permuted(mixedKeys(60), zendKiller(60)), "1"), FormPHP)
	assert.NoError(t, err, "worst order of 60 mixed keys")
	// The documented IPNs never reach the port.
	for _, name := range []string{"payment_ipn.json", "withdrawal_ipn.json", "custodial_ipn.json"} {
		body, err := os.ReadFile("testdata/sortedjson/" + name)
		require.NoError(t, err)
		var c canon
		require.NoError(t, c.doc.parse(body))
		_, ok := c.appendForm(nil, FormPHP)
		require.True(t, ok, "%s: PHP form ok=%v, budget left %d of %d", name, ok, c.phpLeft, phpSortBudgetBase)
		assert.Equal(t, phpSortBudgetBase, c.phpLeft, "%s: PHP form ok=%v, budget left %d of %d", name, ok, c.phpLeft, phpSortBudgetBase)
	}
}

// TestFastNodeWritesEachByteOnce checks that the fast path's output buffer stays the size of
// the form for deep nesting: it used to write each nested object's text once per enclosing
// level, 63 MiB for a 1 MiB body.
func TestFastNodeWritesEachByteOnce(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	body := []byte(strings.Repeat(`{"a":`, MaxDepth-1) + `"` + big + `"` + strings.Repeat("}", MaxDepth-1))
	var f fastNode
	require.True(t, checkFastNode(t, &f, body), "the fast path declined")
	assert.LessOrEqual(t, cap(f.out), 2*len(body), "output buffer too large for a %d-byte body", len(body))
}

// TestIndexKey checks the in-place counter behind the Node form's index keys.
func TestIndexKey(t *testing.T) {
	var k indexKey
	require.True(t, k.first(), "a new counter is not at its first key")
	for i := range 1_100_000 {
		got, want := string(k.appendQuoted(nil)), strconv.Quote(strconv.Itoa(i))
		require.Equal(t, want, got, "key %d written", i)
		require.False(t, k.first(), "first() after key %d", i)
		k.next()
	}
	// Up to the largest index a uint32 element count allows.
	k = indexKey{start: 1}
	copy(k.buf[1:], `"4294967293"`)
	k.next()
	got := string(k.appendQuoted(nil))
	require.Equal(t, `"4294967294"`, got, "after 4294967293: %s", got)
	require.False(t, k.first(), "after 4294967293: %s", got)
}
