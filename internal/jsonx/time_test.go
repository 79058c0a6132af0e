package jsonx

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTimeUnmarshal(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	plus2 := time.FixedZone("", 2*3600)
	tests := []struct {
		name string
		in   string
		want time.Time
	}{
		{"null", `null`, time.Time{}},
		{"empty string", `""`, time.Time{}},
		{"RFC 3339 Z", `"2025-03-04T05:06:07Z"`, utc(2025, 3, 4, 5, 6, 7, 0)},
		{"RFC 3339 ms (JoPay)", `"2025-03-04T05:06:07.123Z"`, utc(2025, 3, 4, 5, 6, 7, 123e6)},
		{"RFC 3339 nanos", `"2025-03-04T05:06:07.123456789Z"`, utc(2025, 3, 4, 5, 6, 7, 123456789)},
		{"RFC 3339 offset", `"2025-03-04T07:06:07+02:00"`, time.Date(2025, 3, 4, 7, 6, 7, 0, plus2)},
		{"no zone → UTC", `"2025-03-04T05:06:07"`, utc(2025, 3, 4, 5, 6, 7, 0)},
		{"no zone with fraction", `"2025-03-04T05:06:07.5"`, utc(2025, 3, 4, 5, 6, 7, 5e8)},
		{"date only", `"2025-03-04"`, utc(2025, 3, 4, 0, 0, 0, 0)},
		{"escaped string", `"2025-03-04T05:06:07\u005a"`, utc(2025, 3, 4, 5, 6, 7, 0)},
		{"unix seconds number", `1700000000`, utc(2023, 11, 14, 22, 13, 20, 0)},
		{"unix seconds string", `"1700000000"`, utc(2023, 11, 14, 22, 13, 20, 0)},
		{"unix seconds fraction", `1700000000.25`, utc(2023, 11, 14, 22, 13, 20, 25e7)},
		{"unix ms number (Pepay)", `1700000000123`, utc(2023, 11, 14, 22, 13, 20, 123e6)},
		{"unix ms string", `"1700000000123"`, utc(2023, 11, 14, 22, 13, 20, 123e6)},
		{"unix ms fraction", `1700000000123.5`, utc(2023, 11, 14, 22, 13, 20, 123500000)},
		{"sub-nanosecond digits truncated", `1.0000000019`, utc(1970, 1, 1, 0, 0, 1, 1)},
		{"zero number is the epoch", `0`, time.Unix(0, 0).UTC()},
		{"negative seconds", `-86400`, utc(1969, 12, 31, 0, 0, 0, 0)},
		{"negative fraction", `-0.5`, utc(1969, 12, 31, 23, 59, 59, 5e8)},
		{"threshold is seconds", `100000000000`, time.Unix(1e11, 0).UTC()},
		{"just above threshold is ms", `100000000001`, time.UnixMilli(100000000001).UTC()},
		{"negative ms by magnitude", `-100000000001`, time.UnixMilli(-100000000001).UTC()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Time
			require.NoError(t, json.Unmarshal([]byte(tt.in), &got), "Unmarshal(%s)", tt.in)
			assert.True(t, got.Equal(tt.want), "Unmarshal(%s) = %v, want %v", tt.in, got.Time, tt.want)
			if _, off := got.Zone(); !tt.want.IsZero() && off != func() int { _, o := tt.want.Zone(); return o }() {
				t.Errorf("Unmarshal(%s) zone offset %d, want that of %v", tt.in, off, tt.want)
			}
		})
	}
}

func TestTimeUnmarshalNullResets(t *testing.T) {
	tm := Time{time.Now()}
	require.NoError(t, tm.UnmarshalJSON([]byte("null")))
	assert.True(t, tm.IsZero(), "after null: %v, want zero", tm.Time)
}

func TestTimeUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"garbage string", `"yesterday"`, `jsonx: cannot parse time "yesterday"`},
		{"bad month", `"2025-13-01"`, `jsonx: cannot parse time "2025-13-01"`},
		{"slashes", `"04/03/2025"`, `jsonx: cannot parse time "04/03/2025"`},
		{"exponent number", `1.7e9`, `jsonx: cannot parse time "1.7e9": not a unix timestamp`},
		{"trailing dot", `"17."`, `jsonx: cannot parse time "17."`},
		{"overflow", `99999999999999999999`, `jsonx: cannot parse time "99999999999999999999": out of range`},
		{"bool", `true`, `jsonx: cannot parse time from JSON boolean`},
		{"object", `{}`, `jsonx: cannot parse time from JSON object`},
		{"array", `[1]`, `jsonx: cannot parse time from JSON array`},
		{"unterminated string", `"2025`, `jsonx: cannot parse time "2025: `},
		{"long input truncated", `"` + strings.Repeat("x", 200) + `"`, `jsonx: cannot parse time "` + strings.Repeat("x", 64) + `…"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Time
			err := got.UnmarshalJSON([]byte(tt.in))
			require.Error(t, err, "UnmarshalJSON(%s) = %v, want error", tt.in, got.Time)
			assert.True(t, strings.HasPrefix(err.Error(), tt.wantErr), "UnmarshalJSON(%s) error = %q, want prefix %q", tt.in, err, tt.wantErr)
		})
	}
}

func TestTimeMarshal(t *testing.T) {
	type doc struct {
		At Time `json:"at"`
	}
	tests := []struct {
		name string
		in   Time
		want string
	}{
		{"zero is null", Time{}, `{"at":null}`},
		{"whole seconds", Time{time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)}, `{"at":"2025-03-04T05:06:07Z"}`},
		{"trailing zeros trimmed", Time{time.Date(2025, 3, 4, 5, 6, 7, 120e6, time.UTC)}, `{"at":"2025-03-04T05:06:07.12Z"}`},
		{"nanos", Time{time.Date(2025, 3, 4, 5, 6, 7, 1, time.UTC)}, `{"at":"2025-03-04T05:06:07.000000001Z"}`},
		{"offset kept", Time{time.Date(2025, 3, 4, 7, 6, 7, 0, time.FixedZone("", 2*3600))}, `{"at":"2025-03-04T07:06:07+02:00"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(doc{tt.in})
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(b), "Marshal = %s", b)
			var back doc
			require.NoError(t, json.Unmarshal(b, &back), "round trip")
			assert.Empty(t, cmp.Diff(tt.in, back.At), "round trip mismatch (-want +got)")
		})
	}
}

func TestParseTime(t *testing.T) {
	got, err := ParseTime("2025-03-04")
	require.NoError(t, err, "ParseTime(date) = %v, %v", got, err)
	assert.True(t, got.Equal(time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)), "ParseTime(date) = %v, %v", got, err)
	got, err = ParseTime("")
	require.NoError(t, err, `ParseTime("") = %v, %v; want zero, nil`, got, err)
	assert.True(t, got.IsZero(), `ParseTime("") = %v, %v; want zero, nil`, got, err)
	_, err = ParseTime("-")
	assert.Error(t, err, `ParseTime("-") succeeded, want error`)
}

// TestTimeInStruct checks decoding through encoding/json's struct path, as
// provider packages use it, with several forms in one document.
func TestTimeInStruct(t *testing.T) {
	var got struct {
		Created Time  `json:"created"`
		Expires Time  `json:"expires_at"`
		Paid    Time  `json:"paid_at"`
		Missing Time  `json:"missing"`
		Ptr     *Time `json:"ptr"`
	}
	in := `{"created":1700000000,"expires_at":"2025-03-04T05:06:07.123Z","paid_at":null,"ptr":"1700000000123"}`
	require.NoError(t, json.Unmarshal([]byte(in), &got))
	if !got.Created.Equal(time.Unix(1700000000, 0)) || !got.Expires.Equal(time.Date(2025, 3, 4, 5, 6, 7, 123e6, time.UTC)) ||
		!got.Paid.IsZero() || !got.Missing.IsZero() || got.Ptr == nil || !got.Ptr.Equal(time.UnixMilli(1700000000123)) {
		t.Errorf("decoded %+v", got)
	}
}
