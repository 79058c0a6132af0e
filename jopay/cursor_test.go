package jopay_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jopay"
)

// TestParseCursorRefusesWhatCannotRoundTrip: unix seconds for year 24152 used to parse, and
// the cursor's own String() then wrote a time ParseCursor could not read back.
func TestParseCursorRefusesWhatCannotRoundTrip(t *testing.T) {
	for _, s := range []string{
		"700000000000000",      // year 24152
		"-70000000000000",      // before year 0
		"-62167219201",         // one second before 0000-01-01T00:00:00Z
		"99999999999999999999", // does not fit any time
	} {
		c, err := jopay.ParseCursor(s)
		assert.Error(t, err, "ParseCursor(%q) = %+v, want an error", s, c)
	}
	for _, s := range []string{"-62167219200", "0", "1700000000.25"} {
		c, err := jopay.ParseCursor(s)
		require.NoError(t, err, "ParseCursor(%q)", s)
		assertRoundTrip(t, c)
	}
}

func TestCursorMarshalOutOfRange(t *testing.T) {
	c := jopay.Cursor{Since: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, err := c.MarshalText()
	require.Error(t, err, "MarshalText = %q, want an error", b)
}

// assertRoundTrip checks Cursor → String → ParseCursor → the same cursor.
func assertRoundTrip(t *testing.T, c jopay.Cursor) {
	t.Helper()
	text := c.String()
	back, err := jopay.ParseCursor(text)
	require.NoError(t, err, "ParseCursor(%q) of %+v's own String()", text, c)
	require.True(t, back.Since.Equal(c.Since), "round trip of %+v through %q = %+v", c, text, back)
	require.True(t, slices.Equal(back.SeenIDs, c.SeenIDs), "round trip of %+v through %q = %+v", c, text, back)
}

// FuzzCursorRoundTrip: whatever ParseCursor accepts, its String() parses back to the same
// cursor; and a cursor built from any time in range and any ids round-trips too.
func FuzzCursorRoundTrip(f *testing.F) {
	f.Add("since=2026-05-02T08:00:00.123Z&seen=a%26b&seen=c%3Dd", int64(1777708800), int64(123), "a&b")
	f.Add("2026-05-02T09:00:00.5Z", int64(0), int64(0), "")
	f.Add("700000000000000", int64(-62135596800), int64(999999999), "id\x00with nul")
	f.Add("1700000000", int64(253402300799), int64(0), "é")
	f.Fuzz(func(t *testing.T, s string, sec, nsec int64, id string) {
		if c, err := jopay.ParseCursor(s); err == nil {
			assertRoundTrip(t, c)
		}
		since := time.Unix(sec, nsec%1e9).UTC()
		if y := since.Year(); y < 0 || y > 9999 {
			return
		}
		assertRoundTrip(t, jopay.Cursor{Since: since, SeenIDs: []string{id, id + "2"}})
	})
}
