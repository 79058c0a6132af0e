package paykit

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// maxDecimalDigits bounds the digits a Decimal accepts, so a hostile "1e999999999" cannot make
// the parser allocate gigabytes.
const maxDecimalDigits = 400

// ErrInvalidDecimal is wrapped by every Decimal parse error.
var ErrInvalidDecimal = errors.New("paykit: invalid decimal")

// Decimal is an exact decimal number for money. It keeps the digits the API sent — "15.00"
// stays "15.00", 0.1 stays 0.1 — where float64 would round. It decodes from a JSON number or a
// JSON string holding a number, and encodes as a JSON number.
//
// The zero value is 0. Decimals are immutable values; arithmetic returns new ones.
type Decimal struct {
	unscaled *big.Int // nil means 0
	scale    int32    // digits after the point; never negative
}

// NewDecimal returns unscaled × 10^-scale: NewDecimal(1999, 2) is 19.99. A negative scale
// multiplies: NewDecimal(5, -3) is 5000.
func NewDecimal(unscaled int64, scale int32) Decimal {
	d := Decimal{unscaled: big.NewInt(unscaled), scale: scale}
	if scale < 0 {
		d.unscaled.Mul(d.unscaled, pow10(int(-scale)))
		d.scale = 0
	}
	return d
}

// ParseDecimal parses a decimal in plain ("-12.50") or exponent ("1.5e-7") notation. It refuses
// NaN, infinities, hex, empty strings, and values with more than 400 significant digits, more
// than 400 digits before the point or more than 400 after it.
func ParseDecimal(s string) (Decimal, error) {
	d, err := parseDecimal(s)
	if err != nil {
		return Decimal{}, fmt.Errorf("%w %q: %s", ErrInvalidDecimal, truncate(s, 40), err)
	}
	return d, nil
}

// MustDecimal is ParseDecimal for constants; it panics on a malformed literal.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func parseDecimal(s string) (Decimal, error) {
	if s == "" {
		return Decimal{}, errors.New("empty")
	}
	mant, exp := s, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil || s[i+1:] == "" {
			return Decimal{}, errors.New("bad exponent")
		}
		exp = e
	}
	neg := false
	switch {
	case strings.HasPrefix(mant, "-"):
		neg, mant = true, mant[1:]
	case strings.HasPrefix(mant, "+"):
		mant = mant[1:]
	}
	intPart, frac, hasPoint := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || hasPoint && strings.Contains(frac, ".") {
		return Decimal{}, errors.New("no digits")
	}
	digits := intPart + frac
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return Decimal{}, errors.New("not a number")
		}
	}
	trimmed := strings.TrimLeft(digits, "0")
	if len(trimmed) > maxDecimalDigits {
		return Decimal{}, errors.New("too many digits")
	}
	scale := int64(len(frac)) - exp
	// Bound the digits of the value itself, not only of the literal: "1…(400 digits)e400" would
	// format as 800 digits that no longer parse, and "1e-999" as 999 zeros.
	if scale > maxDecimalDigits || scale < 0 && int64(len(trimmed))-scale > maxDecimalDigits {
		return Decimal{}, errors.New("exponent out of range")
	}
	u, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return Decimal{}, errors.New("not a number")
	}
	if neg {
		u.Neg(u)
	}
	if scale < 0 {
		u.Mul(u, pow10(int(-scale)))
		scale = 0
	}
	return Decimal{unscaled: u, scale: int32(scale)}, nil
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (d Decimal) int() *big.Int {
	if d.unscaled == nil {
		return new(big.Int)
	}
	return d.unscaled
}

// String formats the decimal in plain notation with its scale: "15.00", "-0.0000001", "25".
func (d Decimal) String() string {
	u := d.int()
	s := new(big.Int).Abs(u).String()
	if d.scale > 0 {
		if pad := int(d.scale) + 1 - len(s); pad > 0 {
			s = strings.Repeat("0", pad) + s
		}
		s = s[:len(s)-int(d.scale)] + "." + s[len(s)-int(d.scale):]
	}
	if u.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// StringFixed formats with exactly places digits after the point, rounding half away from zero.
func (d Decimal) StringFixed(places int32) string {
	return d.Round(places).String()
}

// Scale returns the number of digits after the decimal point.
func (d Decimal) Scale() int32 { return d.scale }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int { return d.int().Sign() }

// IsZero reports whether d is 0 (at any scale).
func (d Decimal) IsZero() bool { return d.Sign() == 0 }

// rescaled returns d's unscaled value at the larger scale s (s >= d.scale).
func (d Decimal) rescaled(s int32) *big.Int {
	if s == d.scale {
		return d.int()
	}
	return new(big.Int).Mul(d.int(), pow10(int(s-d.scale)))
}

// Cmp compares d and o numerically: -1 if d < o, 0 if equal (1.50 equals 1.5), +1 if d > o.
func (d Decimal) Cmp(o Decimal) int {
	s := max(d.scale, o.scale)
	return d.rescaled(s).Cmp(o.rescaled(s))
}

// Equal reports whether d and o are numerically equal.
func (d Decimal) Equal(o Decimal) bool { return d.Cmp(o) == 0 }

// LessThan reports d < o.
func (d Decimal) LessThan(o Decimal) bool { return d.Cmp(o) < 0 }

// GreaterThan reports d > o.
func (d Decimal) GreaterThan(o Decimal) bool { return d.Cmp(o) > 0 }

// Add returns d + o exactly.
func (d Decimal) Add(o Decimal) Decimal {
	s := max(d.scale, o.scale)
	return Decimal{unscaled: new(big.Int).Add(d.rescaled(s), o.rescaled(s)), scale: s}
}

// Sub returns d − o exactly.
func (d Decimal) Sub(o Decimal) Decimal {
	s := max(d.scale, o.scale)
	return Decimal{unscaled: new(big.Int).Sub(d.rescaled(s), o.rescaled(s)), scale: s}
}

// Neg returns −d.
func (d Decimal) Neg() Decimal {
	return Decimal{unscaled: new(big.Int).Neg(d.int()), scale: d.scale}
}

// Mul returns d × o exactly.
func (d Decimal) Mul(o Decimal) Decimal {
	return Decimal{unscaled: new(big.Int).Mul(d.int(), o.int()), scale: d.scale + o.scale}
}

// Round returns d rounded to places digits after the point, half away from zero. A larger
// places only pads with zeros.
func (d Decimal) Round(places int32) Decimal {
	if places < 0 {
		places = 0
	}
	if places >= d.scale {
		return Decimal{unscaled: d.rescaled(places), scale: places}
	}
	div := pow10(int(d.scale - places))
	q, r := new(big.Int).QuoRem(d.int(), div, new(big.Int))
	// Round half away from zero: |r|*2 >= div.
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	if r2.Cmp(div) >= 0 {
		if d.int().Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return Decimal{unscaled: q, scale: places}
}

// Int64Scaled returns d × 10^places as an integer, for APIs that count minor units
// (NewDecimal(2599, 2).Int64Scaled(2) == 2599; a negative places divides). ok is false when the
// result is not a whole number (the conversion would round) or overflows int64.
func (d Decimal) Int64Scaled(places int32) (v int64, ok bool) {
	u := d.int()
	if u.Sign() == 0 {
		return 0, true
	}
	shift := int64(places) - int64(d.scale)
	switch {
	case shift > 19:
		return 0, false // |u| >= 1, so |u|·10^20 > MaxInt64
	case shift >= 0:
		u = new(big.Int).Mul(u, pow10(int(shift)))
	case -shift > int64(len(u.String())):
		return 0, false // dividing by more than u's digits leaves a fraction
	default:
		q, r := new(big.Int).QuoRem(u, pow10(int(-shift)), new(big.Int))
		if r.Sign() != 0 {
			return 0, false
		}
		u = q
	}
	if !u.IsInt64() {
		return 0, false
	}
	return u.Int64(), true
}

// Float64 returns the nearest float64, for display and statistics only — never for money
// arithmetic.
func (d Decimal) Float64() float64 {
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

// MarshalJSON encodes d as a JSON number with its digits ("15.00" → 15.00).
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalJSON accepts a JSON number, a JSON string holding a number, or null (0).
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*d = Decimal{}
		return nil
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		s, err := strconv.Unquote(string(b))
		if err != nil {
			return fmt.Errorf("%w: %s", ErrInvalidDecimal, err)
		}
		b = []byte(strings.TrimSpace(s))
	}
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText encodes d in plain notation, so Decimal works in query strings and map keys.
func (d Decimal) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses plain or exponent notation.
func (d *Decimal) UnmarshalText(b []byte) error {
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
