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
	pow5 := pow5Table(p)
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

// pow5Table returns 5^p for 0 <= p <= 27 (5^27 < 2^63), read from a table rather than
// multiplied out: a chain of p dependent multiplications costs more than the rest of
// shortestIsExact's arithmetic before the division.
func pow5Table(p int) uint64 {
	const tbl = "" +
		"\x01\x00\x00\x00\x00\x00\x00\x00" + // 5^0
		"\x05\x00\x00\x00\x00\x00\x00\x00" + // 5^1
		"\x19\x00\x00\x00\x00\x00\x00\x00" + // 5^2
		"\x7d\x00\x00\x00\x00\x00\x00\x00" + // 5^3
		"\x71\x02\x00\x00\x00\x00\x00\x00" + // 5^4
		"\x35\x0c\x00\x00\x00\x00\x00\x00" + // 5^5
		"\x09\x3d\x00\x00\x00\x00\x00\x00" + // 5^6
		"\x2d\x31\x01\x00\x00\x00\x00\x00" + // 5^7
		"\xe1\xf5\x05\x00\x00\x00\x00\x00" + // 5^8
		"\x65\xcd\x1d\x00\x00\x00\x00\x00" + // 5^9
		"\xf9\x02\x95\x00\x00\x00\x00\x00" + // 5^10
		"\xdd\x0e\xe9\x02\x00\x00\x00\x00" + // 5^11
		"\x51\x4a\x8d\x0e\x00\x00\x00\x00" + // 5^12
		"\x95\x73\xc2\x48\x00\x00\x00\x00" + // 5^13
		"\xe9\x41\xcc\x6b\x01\x00\x00\x00" + // 5^14
		"\x8d\x49\xfd\x1a\x07\x00\x00\x00" + // 5^15
		"\xc1\x6f\xf2\x86\x23\x00\x00\x00" + // 5^16
		"\xc5\x2e\xbc\xa2\xb1\x00\x00\x00" + // 5^17
		"\xd9\xe9\xac\x2d\x78\x03\x00\x00" + // 5^18
		"\x3d\x91\x60\xe4\x58\x11\x00\x00" + // 5^19
		"\x31\xd6\xe2\x75\xbc\x56\x00\x00" + // 5^20
		"\xf5\x2e\x6e\x4d\xae\xb1\x01\x00" + // 5^21
		"\xc9\xea\x26\x83\x67\x78\x08\x00" + // 5^22
		"\xed\x95\xc2\x8f\x05\x5a\x2a\x00" + // 5^23
		"\xa1\xed\xcc\xce\x1b\xc2\xd3\x00" + // 5^24
		"\x25\xa4\x00\x0a\x8b\xca\x22\x04" + // 5^25
		"\xb9\x34\x03\x32\xb7\xf4\xad\x14" + // 5^26
		"\x9d\x07\x10\xfa\x93\xc7\x65\x67" //  5^27
	b := tbl[8*p : 8*p+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
