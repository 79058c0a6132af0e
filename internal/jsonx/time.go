package jsonx

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MillisThreshold is the magnitude above which a numeric timestamp is read
// as unix milliseconds instead of seconds. 1e11 seconds is the year 5138,
// while 1e11 milliseconds is March 1973: every realistic seconds value is
// below it and every realistic milliseconds value (any instant after
// 1973-03-03) is above it, so the unit can be inferred from the value alone.
const MillisThreshold = 1e11

// Time is a time.Time that decodes the timestamp forms payment APIs send.
//
// UnmarshalJSON accepts:
//   - null and "" → the zero Time;
//   - RFC 3339 text, with or without fractional seconds
//     ("2025-01-02T15:04:05Z", "2025-01-02T15:04:05.123+02:00");
//   - "2006-01-02T15:04:05[.fraction]" without a zone, taken as UTC;
//   - a bare date "2006-01-02", midnight UTC;
//   - unix time as a JSON number or a numeric string, optionally with a
//     decimal fraction: seconds when |value| ≤ MillisThreshold, otherwise
//     milliseconds (see MillisThreshold). Unix times decode in UTC.
//
// MarshalJSON writes RFC 3339 with trailing zero fractional digits trimmed
// (time.RFC3339Nano), or null for the zero Time.
type Time struct {
	time.Time
}

// dateLayouts are tried, in order, for textual timestamps. time.RFC3339
// also accepts a fractional second when parsing.
var dateLayouts = [...]struct {
	layout string
	utc    bool // layout has no zone; interpret as UTC
}{
	{time.RFC3339, false},
	{"2006-01-02T15:04:05", true},
	{"2006-01-02", true},
}

// UnmarshalJSON implements json.Unmarshaler; see Time for accepted forms.
func (t *Time) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*t = Time{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		s, ok := plainString(b)
		if !ok {
			if err := json.Unmarshal(b, &s); err != nil {
				return fmt.Errorf("jsonx: cannot parse time %s: %w", echo(b), err)
			}
		}
		parsed, err := ParseTime(s)
		if err != nil {
			return err
		}
		*t = Time{parsed}
		return nil
	}
	if len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9') {
		parsed, err := parseUnix(string(b))
		if err != nil {
			return err
		}
		*t = Time{parsed}
		return nil
	}
	return fmt.Errorf("jsonx: cannot parse time from JSON %s", kind(b))
}

// plainString returns the text of a JSON string literal made of printable ASCII without
// escapes, which is every timestamp; other literals are left to encoding/json (ok false).
func plainString(b []byte) (s string, ok bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	inner := b[1 : len(b)-1]
	for _, c := range inner {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(inner), true
}

// MarshalJSON implements json.Marshaler: RFC 3339 with nanoseconds trimmed,
// or null for the zero Time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, len(time.RFC3339Nano)+2)
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// ParseTime parses s with the same rules as Time.UnmarshalJSON applies to a
// JSON string: "" is the zero time; otherwise RFC 3339, zone-less
// date-time (UTC), date (UTC), or unix seconds/milliseconds digits.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if c := s[0]; c == '-' || '0' <= c && c <= '9' {
		if isNumeric(s) {
			return parseUnix(s)
		}
	}
	for _, l := range dateLayouts {
		var (
			tm  time.Time
			err error
		)
		if l.utc {
			tm, err = time.ParseInLocation(l.layout, s, time.UTC)
		} else {
			tm, err = time.Parse(l.layout, s)
		}
		if err == nil {
			return tm, nil
		}
	}
	return time.Time{}, fmt.Errorf("jsonx: cannot parse time %q", echo([]byte(s)))
}

// isNumeric reports whether s looks like an optionally signed decimal
// number ("-12", "1700000000.5"), i.e. a unix timestamp rather than a date.
func isNumeric(s string) bool {
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}

// parseUnix converts decimal unix seconds or milliseconds (chosen by
// magnitude, see MillisThreshold) to a UTC time without going through
// float64, so fractional parts are exact to the nanosecond.
func parseUnix(s string) (time.Time, error) {
	bad := func(reason string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("jsonx: cannot parse time %q: %s", echo([]byte(s)), reason)
	}
	num := s
	neg := strings.HasPrefix(num, "-")
	if neg {
		num = num[1:]
	}
	intPart, frac, hasDot := strings.Cut(num, ".")
	if intPart == "" || hasDot && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return bad("not a unix timestamp")
	}
	whole, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return bad("out of range")
	}
	// Scale the fraction to nanoseconds of the unit (seconds or ms).
	unitNanos := int64(time.Second)
	digits := 9
	if whole > MillisThreshold {
		unitNanos = int64(time.Millisecond)
		digits = 6
	}
	if len(frac) > digits {
		frac = frac[:digits] // below nanosecond precision: truncate
	}
	var fracNanos int64
	if frac != "" {
		f, _ := strconv.ParseInt(frac, 10, 64) // ≤ 9 digits, all checked
		for i := len(frac); i < digits; i++ {
			f *= 10
		}
		fracNanos = f
	}
	var sec, nsec int64
	if unitNanos == int64(time.Second) {
		sec, nsec = whole, fracNanos
	} else {
		sec, nsec = whole/1000, (whole%1000)*int64(time.Millisecond)+fracNanos
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return time.Unix(sec, nsec).UTC(), nil
}

// allDigits reports whether s consists only of ASCII digits ("" counts).
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
