package sortedjson

import (
	"math"
	"strconv"
)

// Number output of the three reference serializers. All three parse a JSON number into an
// IEEE-754 double (PHP and Python keep integers as integers when they fit) and print the
// shortest decimal that round-trips, but each lays the digits out differently:
//
//	JSON text              Node                   PHP                     Python
//	1.0                    1                      1                       1.0
//	-0.0                   0                      -0                      -0.0
//	-0                     0                      0                       0
//	1e-7                   1e-7                   1.0e-7                  1e-07
//	1e16                   10000000000000000      10000000000000000       1e+16
//	1e21                   1e+21                  1.0e+21                 1e+21
//	9223372036854775808    9223372036854776000    9.223372036854776e+18   9223372036854775808

// decimal is a finite number as significant digits and a decimal-point position:
// value = ±0.d[0]d[1]…d[nd-1] × 10^point, the layout of dtoa's decpt. Zero has nd == 0.
type decimal struct {
	neg   bool
	nd    int
	point int
	d     [32]byte
}

// parse sets x to the shortest round-trip decimal of the double nearest to the JSON number
// raw (already validated by the tokenizer).
func (x *decimal) parse(raw []byte) {
	if x.parseFast(raw) {
		return
	}
	f, _ := strconv.ParseFloat(string(raw), 64)
	x.setFloat(f)
}

// parseFast handles the common case without strconv: a number with at most 15 significant
// digits and a modest exponent. Every such decimal survives the trip through a double (15 is
// DBL_DIG), so no shorter decimal maps to the same double and its own digits are the
// shortest round-trip digits.
func (x *decimal) parseFast(raw []byte) bool {
	i := 0
	x.neg = raw[0] == '-'
	if x.neg {
		i++
	}
	nd, point, last := 0, 0, -1
	inFrac := false
	for ; i < len(raw); i++ {
		c := raw[i]
		if c == '.' {
			inFrac = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		if nd == 0 && c == '0' {
			if inFrac {
				point--
			}
			continue
		}
		if nd < len(x.d) {
			x.d[nd] = c
		}
		if c != '0' {
			last = nd
		}
		nd++
		if !inFrac {
			point++
		}
	}
	if i < len(raw) { // exponent
		i++
		eneg := false
		if raw[i] == '+' || raw[i] == '-' {
			eneg = raw[i] == '-'
			i++
		}
		if len(raw)-i > 5 {
			return false
		}
		e := 0
		for ; i < len(raw); i++ {
			e = e*10 + int(raw[i]-'0')
		}
		if eneg {
			e = -e
		}
		point += e
	}
	x.nd = last + 1
	if x.nd == 0 {
		x.point = 0
		return true
	}
	if x.nd > 15 || point < -290 || point > 290 {
		return false
	}
	x.point = point
	return true
}

// setFloat sets x to the shortest round-trip decimal of f.
func (x *decimal) setFloat(f float64) {
	x.neg = math.Signbit(f)
	if f == 0 {
		x.nd, x.point = 0, 0
		return
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], math.Abs(f), 'e', -1, 64) // d[.ddd]e±XX
	nd := 0
	i := 0
	for ; b[i] != 'e'; i++ {
		if b[i] != '.' {
			x.d[nd] = b[i]
			nd++
		}
	}
	e, neg := 0, b[i+1] == '-'
	for _, c := range b[i+2:] { // AppendFloat always writes the exponent's sign
		e = e*10 + int(c-'0')
	}
	if neg {
		e = -e
	}
	x.nd = nd
	x.point = e + 1
}

func appendZeros(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, '0')
	}
	return dst
}

// appendNode writes x as JavaScript's Number::toString does (ECMA-262 6.1.6.1.20).
func (x *decimal) appendNode(dst []byte) []byte {
	if x.nd == 0 {
		return append(dst, '0') // -0 prints as 0
	}
	if x.neg {
		dst = append(dst, '-')
	}
	k, n := x.nd, x.point
	d := x.d[:k]
	switch {
	case k <= n && n <= 21:
		dst = append(dst, d...)
		return appendZeros(dst, n-k)
	case 0 < n && n <= 21:
		dst = append(dst, d[:n]...)
		dst = append(dst, '.')
		return append(dst, d[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		dst = appendZeros(dst, -n)
		return append(dst, d...)
	}
	dst = append(dst, d[0])
	if k > 1 {
		dst = append(dst, '.')
		dst = append(dst, d[1:]...)
	}
	e := n - 1
	dst = append(dst, 'e')
	if e >= 0 {
		dst = append(dst, '+')
	} else {
		dst = append(dst, '-')
		e = -e
	}
	return strconv.AppendInt(dst, int64(e), 10)
}

// appendPython writes x as Python's float.__repr__ does ('r' format, 17 significant digits
// at most, exponent when the point is below -3 or above 16, at least two exponent digits,
// ".0" added to integral values).
func (x *decimal) appendPython(dst []byte) []byte {
	if x.neg {
		dst = append(dst, '-')
	}
	if x.nd == 0 {
		return append(dst, '0', '.', '0')
	}
	k, p := x.nd, x.point
	d := x.d[:k]
	if p <= -4 || p > 16 {
		dst = append(dst, d[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		e := p - 1
		dst = append(dst, 'e')
		if e >= 0 {
			dst = append(dst, '+')
		} else {
			dst = append(dst, '-')
			e = -e
		}
		if e < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(e), 10)
	}
	switch {
	case p <= 0:
		dst = append(dst, '0', '.')
		dst = appendZeros(dst, -p)
		return append(dst, d...)
	case p >= k:
		dst = append(dst, d...)
		dst = appendZeros(dst, p-k)
		return append(dst, '.', '0')
	}
	dst = append(dst, d[:p]...)
	dst = append(dst, '.')
	return append(dst, d[p:]...)
}

// appendPHP writes x as PHP's json_encode does for a double with serialize_precision = -1
// (zend_gcvt with 17 digits, mode 0): exponent form when the point is above 17 or below -3,
// "1.0e-7" style mantissa, no ".0" on integral values (no JSON_PRESERVE_ZERO_FRACTION).
func (x *decimal) appendPHP(dst []byte) []byte {
	if x.neg {
		dst = append(dst, '-')
	}
	if x.nd == 0 {
		return append(dst, '0')
	}
	k, p := x.nd, x.point
	d := x.d[:k]
	if p > 17 || p < -3 {
		dst = append(dst, d[0], '.')
		if k > 1 {
			dst = append(dst, d[1:]...)
		} else {
			dst = append(dst, '0')
		}
		e := p - 1
		dst = append(dst, 'e')
		if e >= 0 {
			dst = append(dst, '+')
		} else {
			dst = append(dst, '-')
			e = -e
		}
		return strconv.AppendInt(dst, int64(e), 10)
	}
	if p < 0 {
		dst = append(dst, '0', '.')
		dst = appendZeros(dst, -p)
		return append(dst, d...)
	}
	if p == 0 {
		dst = append(dst, '0', '.')
		return append(dst, d...)
	}
	if k <= p {
		dst = append(dst, d...)
		return appendZeros(dst, p-k)
	}
	dst = append(dst, d[:p]...)
	dst = append(dst, '.')
	return append(dst, d[p:]...)
}

// plainDecimal splits a number without exponent whose significant digits number at most 15
// into what the fast formatters need: the sign, the integer part, the fraction without
// trailing zeros, and the count of zeros leading the fraction when the integer part is "0".
// ok is false for anything else, which then takes the general path through decimal.
func plainDecimal(raw []byte) (neg bool, intPart, frac []byte, lead int, ok bool) {
	i := 0
	if raw[0] == '-' {
		neg = true
		i = 1
	}
	dot := len(raw)
	for j := i; j < len(raw); j++ {
		c := raw[j]
		if c == '.' {
			dot = j
		} else if c < '0' || c > '9' {
			return false, nil, nil, 0, false // exponent
		}
	}
	intPart = raw[i:dot]
	if dot < len(raw) {
		frac = raw[dot+1:]
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	sig := len(intPart) + len(frac)
	if intPart[0] == '0' { // JSON allows no other leading zero
		sig = len(frac)
		for lead < len(frac) && frac[lead] == '0' {
			lead++
		}
		sig -= lead
	}
	return neg, intPart, frac, lead, sig <= 15
}

// appendNodeNumber writes raw as JavaScript prints the double it parses to.
func (x *decimal) appendNodeNumber(dst, raw []byte) []byte {
	neg, ip, frac, lead, ok := plainDecimal(raw)
	if ok {
		switch {
		case ip[0] != '0':
			if neg {
				dst = append(dst, '-')
			}
			dst = append(dst, ip...)
			if len(frac) > 0 {
				dst = append(dst, '.')
				dst = append(dst, frac...)
			}
			return dst
		case len(frac) == 0:
			return append(dst, '0') // zero, whatever its sign
		case lead <= 5: // 1e-6 and up print in decimal
			if neg {
				dst = append(dst, '-')
			}
			dst = append(dst, '0', '.')
			return append(dst, frac...)
		}
	}
	if ip != nil && !ok { // no exponent, more than 15 digits: only strconv can tell
		f, _ := strconv.ParseFloat(string(raw), 64)
		x.setFloat(f)
	} else {
		x.parse(raw)
	}
	return x.appendNode(dst)
}

// phpIsBigInt reports whether PHP's JSON scanner turns the integer token raw into a double:
// it keeps integers of up to 18 digits, and 19-digit ones below 9223372036854775808
// (or equal to it when negative, which is PHP_INT_MIN).
func phpIsBigInt(raw []byte) bool {
	neg := raw[0] == '-'
	digits := raw
	if neg {
		digits = raw[1:]
	}
	const longMinDigits = "9223372036854775808"
	switch {
	case len(digits) < len(longMinDigits):
		return false
	case len(digits) > len(longMinDigits):
		return true
	}
	c := compareStrings(string(digits), longMinDigits)
	return !(c < 0 || (c == 0 && neg))
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// isNegZeroInt reports whether raw is the integer token "-0", which every form prints as 0.
func isNegZeroInt(raw []byte) bool { return len(raw) == 2 && raw[0] == '-' && raw[1] == '0' }
