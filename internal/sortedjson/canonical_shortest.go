package sortedjson

import "math/bits"

// shortestIsExact reports whether the decimal D = s × 10^-p is, digit for digit, the shortest
// round-trip decimal of the double nearest to it: what JavaScript's Number::toString (and
// strconv's shortest formatting) print for that double. It is meant for the 16- and
// 17-digit amounts that webhook bodies carry (0.09853637216235617), for which the general
// path through strconv.ParseFloat and AppendFloat costs more than the rest of the number
// handling put together.
//
// s must not end in a zero digit (so D is written with exactly its digits) and 1 <= p <= 27.
// A false result only means "not shown": callers then take the strconv path, so every test
// here errs towards false. A true result is certified by exact integer arithmetic alone:
//
//  1. f = m × 2^e, a candidate for the double nearest D, comes from a 128-by-64-bit division;
//  2. D lies strictly inside f's rounding interval, so f is the double nearest D, however
//     step 1 got it;
//  3. D is strictly closer to f than its neighbours s ± 1 × 10^-p, so no other decimal with
//     as many digits at D's scale is as close to f;
//  4. neither multiple of 10^(1-p) around D lies in f's rounding interval (ends included), so
//     no decimal with fewer digits, or with as many digits at a coarser scale, reads back as
//     f; a candidate at a finer scale would be below the power of ten under D, which is such
//     a multiple and would then lie between it and D, inside the interval.
//
// The comparisons are made on the integers X = f × 10^p × 2^u, S = D × 10^p × 2^u = s × 2^u
// for u = 2 - e - p, where a half ulp of f is 2 × 5^p (and the lower half gap 5^p when m is
// a power of two, as the double below f is then half as far).
func shortestIsExact(s uint64, p int) bool {
	if s == 0 || s%10 == 0 || p < 1 || p > 27 {
		return false
	}
	pow5 := uint64(1)
	for i := 0; i < p; i++ {
		pow5 *= 5 // 5^27 < 2^63
	}
	// 1. D = s / (5^p × 2^p). Shift s so that the quotient by 5^p has 63 or 64 bits.
	sh := 63 + bits.Len64(pow5) - bits.Len64(s)
	nhi, nlo := shl128(0, s, uint(sh))
	if nhi >= pow5 {
		return false // cannot happen (s × 2^sh < 2^(63+len(5^p))); keeps Div64 from panicking
	}
	q, r := bits.Div64(nhi, nlo, pow5)
	drop := 10
	if q>>63 != 0 {
		drop = 11
	}
	m := q >> drop
	rb, half := q&(1<<drop-1), uint64(1)<<(drop-1)
	if rb > half || rb == half && (r != 0 || m&1 == 1) {
		m++
	}
	e := drop - sh - p
	if m == 1<<53 {
		m, e = 1<<52, e+1
	}
	u := 2 - e - p
	if m < 1<<52 || m >= 1<<53 || u < 0 || u > 64 {
		return false
	}
	// The scaled quantities; all stay below 2^125.
	xhi, xlo := bits.Mul64(m, pow5)
	xhi, xlo = shl128(xhi, xlo, 2)
	h := 2 * pow5 // half ulp
	hlo := h
	if m == 1<<52 {
		hlo = pow5
	}
	loHi, loLo := sub128(xhi, xlo, 0, hlo) // rounding interval [lo, hi]
	hiHi, hiLo := add128(xhi, xlo, 0, h)
	shi, slo := shl128(0, s, uint(u))
	// 2. lo < S < hi.
	if !less128(loHi, loLo, shi, slo) || !less128(shi, slo, hiHi, hiLo) {
		return false
	}
	// 3. 2|X - S| < 2^u.
	dhi, dlo := sub128(xhi, xlo, shi, slo)
	if less128(xhi, xlo, shi, slo) {
		dhi, dlo = sub128(shi, slo, xhi, xlo)
	}
	dhi, dlo = shl128(dhi, dlo, 1)
	uhi, ulo := shl128(0, 1, uint(u))
	if !less128(dhi, dlo, uhi, ulo) {
		return false
	}
	// 4. The multiples of 10 (in units of 10^-p) below and above s are outside [lo, hi].
	bhi, blo := shl128(0, s-s%10, uint(u))
	thi, tlo := shl128(0, 10, uint(u))
	ahi, alo := add128(bhi, blo, thi, tlo)
	return less128(bhi, blo, loHi, loLo) && less128(hiHi, hiLo, ahi, alo)
}

// shl128 shifts the 128-bit value hi:lo left by n < 128 bits.
func shl128(hi, lo uint64, n uint) (uint64, uint64) {
	if n >= 64 {
		return lo << (n - 64), 0
	}
	if n == 0 {
		return hi, lo
	}
	return hi<<n | lo>>(64-n), lo << n
}

func add128(ahi, alo, bhi, blo uint64) (uint64, uint64) {
	lo, c := bits.Add64(alo, blo, 0)
	hi, _ := bits.Add64(ahi, bhi, c)
	return hi, lo
}

// sub128 returns a - b (the callers have a >= b).
func sub128(ahi, alo, bhi, blo uint64) (uint64, uint64) {
	lo, b := bits.Sub64(alo, blo, 0)
	hi, _ := bits.Sub64(ahi, bhi, b)
	return hi, lo
}

func less128(ahi, alo, bhi, blo uint64) bool {
	return ahi < bhi || ahi == bhi && alo < blo
}
