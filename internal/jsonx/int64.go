package jsonx

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Int64 is an integer (typically an amount in minor units) that a provider
// may send as a JSON number or as a numeric string such as "2750000". It is
// parsed directly from the text, never through float64, so every int64
// value survives. Fractions ("2.5", "1.0"), exponents ("1e3"), empty
// strings and out-of-range values are errors — an amount is never silently
// rounded or zeroed. null decodes to 0. It marshals as a JSON number.
type Int64 int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int64) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*n = 0
		return nil
	}
	text := b
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("jsonx: cannot parse integer %s: %w", echo(b), err)
		}
		text = []byte(s)
	} else if len(b) == 0 || b[0] != '-' && (b[0] < '0' || b[0] > '9') {
		return fmt.Errorf("jsonx: integer must be a JSON number or numeric string, got %s", kind(b))
	}
	v, err := ParseInt64(string(text))
	if err != nil {
		return err
	}
	*n = Int64(v)
	return nil
}

// MarshalJSON implements json.Marshaler; the value is written as a JSON
// number.
func (n Int64) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(n), 10), nil
}

// Int64 returns n as an int64.
func (n Int64) Int64() int64 { return int64(n) }

// ParseInt64 parses an optionally negative decimal integer with the rules of
// Int64.UnmarshalJSON: no sign other than '-', no fraction, no exponent, no
// spaces, within int64 range.
func ParseInt64(s string) (int64, error) {
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if digits == "" || !allDigits(digits) {
		return 0, fmt.Errorf("jsonx: cannot parse integer %q: not an integer", echo([]byte(s)))
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("jsonx: cannot parse integer %q: out of int64 range", echo([]byte(s)))
		}
		return 0, fmt.Errorf("jsonx: cannot parse integer %q: %w", echo([]byte(s)), err)
	}
	return v, nil
}
