package sortedjson

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shortestDigits returns strconv's shortest round-trip digits of the double nearest the
// decimal s × 10^-p, and whether they are s's digits: the oracle for shortestIsExact.
func shortestDigits(s uint64, p int) (string, bool) {
	f, err := strconv.ParseFloat(strconv.FormatUint(s, 10)+"e-"+strconv.Itoa(p), 64)
	if err != nil {
		panic(err)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddddde±XX
	digits := strings.Replace(e[:strings.IndexByte(e, 'e')], ".", "", 1)
	return digits, digits == strconv.FormatUint(s, 10)
}

// TestShortestIsExact checks shortestIsExact against strconv: it must never claim a decimal
// is the shortest form of its double when strconv disagrees, and it should say so for most
// 16- and 17-digit decimals that are.
func TestShortestIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var claimed, shortest int
	check := func(s uint64, p int) {
		t.Helper()
		got := shortestIsExact(s, p)
		digits, want := shortestDigits(s, p)
		if got && !want {
			t.Fatalf("shortestIsExact(%d, %d) = true, but the shortest digits are %s", s, p, digits)
		}
		if want {
			shortest++
			if got {
				claimed++
			}
		}
	}
	for i := 0; i < 300000; i++ {
		k := 16 + r.IntN(2)
		s := uint64(math.Pow10(k-1)) + r.Uint64N(uint64(9*math.Pow10(k-1)))
		if s%10 == 0 {
			s++
		}
		check(s, 1+r.IntN(27))
	}
	// Decimals written from doubles: shortest forms, and their 16- and 17-digit spellings
	// (often not shortest), including around powers of two where the gap below is halved.
	for i := 0; i < 300000; i++ {
		var f float64
		switch i % 3 {
		case 0:
			f = math.Ldexp(1, r.IntN(100)-50)
			f = math.Nextafter(f, math.Inf(int(r.IntN(3))-1))
		default:
			f = r.Float64() * math.Pow10(r.IntN(22)-8)
		}
		for _, prec := range []int{-1, 15, 16} {
			str := strconv.FormatFloat(f, 'e', prec, 64)
			mant, exp, _ := strings.Cut(str, "e")
			digits := strings.TrimRight(strings.Replace(mant, ".", "", 1), "0")
			e10, _ := strconv.Atoi(exp)
			p := len(digits) - 1 - e10
			if len(digits) < 16 || p < 1 || p > 27 {
				continue
			}
			s, _ := strconv.ParseUint(digits, 10, 64)
			check(s, p)
		}
	}
	for _, c := range []struct {
		s uint64
		p int
	}{
		{9853637216235617, 17}, {1000000000000001, 15}, {9999999999999999, 16}, {99999999999999999, 17},
		{12345678901234567, 1}, {22250738585072014, 27}, {4503599627370497, 1}, {9007199254740993, 1},
		{1, 1}, {5, 1}, {17976931348623157, 1},
	} {
		check(c.s, c.p)
	}
	assert.GreaterOrEqual(t, claimed, shortest*9/10, "shortestIsExact vouches for only %d of %d shortest decimals", claimed, shortest)
	t.Logf("%d of %d shortest decimals recognised", claimed, shortest)
}

// TestNodeRawNumbersAgree checks that the numbers the tokenizer marks as printed by JavaScript
// exactly as written (now including 16- and 17-digit decimals vouched for by
// shortestIsExact) come out of the Node form as the general strconv path prints them.
func TestNodeRawNumbersAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 100000; i++ {
		k := 16 + r.IntN(2)
		digits := strconv.FormatUint(uint64(math.Pow10(k-1))+r.Uint64N(uint64(9*math.Pow10(k-1))), 10)
		var raw string
		if p := r.IntN(k + 6); p < k {
			raw = digits[:p] + "." + digits[p:]
			if p == 0 {
				raw = "0" + raw
			}
		} else {
			raw = "0." + strings.Repeat("0", p-k) + digits
		}
		if r.IntN(2) == 0 {
			raw = "-" + raw
		}
		out, err := Canonical([]byte(`{"a":`+raw+`}`), FormNode)
		require.NoError(t, err)
		var x decimal
		want := `{"a":` + string(x.appendNodeNumber(nil, []byte(raw))) + `}`
		require.Equal(t, want, string(out), "Node form of %s: got %s", raw, out)
	}
}
