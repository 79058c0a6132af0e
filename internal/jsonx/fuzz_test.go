package jsonx

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

var timeSeeds = []string{
	`null`, `""`, `"2025-03-04T05:06:07Z"`, `"2025-03-04T05:06:07.123+02:00"`,
	`"2025-03-04T05:06:07"`, `"2025-03-04"`, `1700000000`, `"1700000000123"`,
	`1700000000.25`, `-0.5`, `99999999999999999999`, `1.7e9`, `true`, `{}`,
	`"2025`, `"\u0032025-01-01"`, `-`, `.`, `"-."`,
}

// FuzzTimeUnmarshal checks UnmarshalJSON never panics and that every value
// it accepts (within RFC 3339's year range) survives a Marshal round trip.
func FuzzTimeUnmarshal(f *testing.F) {
	for _, s := range timeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var tm Time
		if err := tm.UnmarshalJSON(b); err != nil {
			return
		}
		if y := tm.Year(); y < 0 || y > 9999 {
			return // not representable in RFC 3339
		}
		out, err := tm.MarshalJSON()
		require.NoError(t, err, "MarshalJSON(%v)", tm.Time)
		var back Time
		require.NoError(t, back.UnmarshalJSON(out), "re-decoding %s (from %q)", out, b)
		require.True(t, back.Equal(tm.Time), "round trip of %q: %v → %s → %v", b, tm.Time, out, back.Time)
	})
}

// FuzzIDUnmarshal checks UnmarshalJSON never panics, that it agrees with
// encoding/json about validity for strings and numbers, and that accepted
// IDs round-trip through MarshalJSON.
func FuzzIDUnmarshal(f *testing.F) {
	for _, s := range []string{
		`"req_123"`, `5077`, `12345678901234567890123`, `-7`, `1.50`, `1e3`,
		`null`, `""`, `"a\u0062c"`, `true`, `{}`, `[1]`, `12abc`, `1 2`, `"abc`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var id ID
		if err := id.UnmarshalJSON(b); err != nil {
			return
		}
		require.True(t, json.Valid(b), "accepted invalid JSON %q as %q", b, id)
		out, err := id.MarshalJSON()
		require.NoError(t, err, "MarshalJSON(%q)", id)
		var back ID
		err = back.UnmarshalJSON(out)
		require.NoError(t, err, "round trip of %q: %q → %s → %q, %v", b, id, out, back, err)
		require.Equal(t, id, back, "round trip of %q: %q → %s → %q, %v", b, id, out, back, err)
	})
}
