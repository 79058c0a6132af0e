package jsonx

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInt64Unmarshal(t *testing.T) {
	tests := []struct {
		name, in string
		want     Int64
	}{
		{"number", `2750`, 2750},
		{"string (usdc_micro)", `"2750000"`, 2750000},
		{"negative number", `-15`, -15},
		{"negative string", `"-15"`, -15},
		{"zero", `0`, 0},
		{"null", `null`, 0},
		{"max int64 number", `9223372036854775807`, math.MaxInt64},
		{"min int64 string", `"-9223372036854775808"`, math.MinInt64},
		{"float64-unsafe", `9007199254740993`, 9007199254740993},
		{"leading zeros in string", `"007"`, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Int64
			require.NoError(t, json.Unmarshal([]byte(tt.in), &got), "Unmarshal(%s)", tt.in)
			assert.Equal(t, tt.want, got, "Unmarshal(%s)", tt.in)
		})
	}
}

func TestInt64UnmarshalErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"fraction", `2.5`, `jsonx: cannot parse integer "2.5": not an integer`},
		{"whole fraction", `1.0`, `jsonx: cannot parse integer "1.0": not an integer`},
		{"string fraction", `"2.75"`, `jsonx: cannot parse integer "2.75": not an integer`},
		{"exponent", `1e3`, `jsonx: cannot parse integer "1e3": not an integer`},
		{"empty string", `""`, `jsonx: cannot parse integer "": not an integer`},
		{"spaces", `" 5"`, `jsonx: cannot parse integer " 5": not an integer`},
		{"plus sign", `"+5"`, `jsonx: cannot parse integer "+5": not an integer`},
		{"lone minus", `"-"`, `jsonx: cannot parse integer "-": not an integer`},
		{"word", `"ten"`, `jsonx: cannot parse integer "ten": not an integer`},
		{"overflow", `9223372036854775808`, `jsonx: cannot parse integer "9223372036854775808": out of int64 range`},
		{"underflow string", `"-9223372036854775809"`, `jsonx: cannot parse integer "-9223372036854775809": out of int64 range`},
		{"bool", `true`, `jsonx: integer must be a JSON number or numeric string, got boolean`},
		{"object", `{}`, `jsonx: integer must be a JSON number or numeric string, got object`},
		{"unterminated", `"12`, `jsonx: cannot parse integer "12: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := Int64(42)
			err := n.UnmarshalJSON([]byte(tt.in))
			require.Error(t, err, "UnmarshalJSON(%s) = %d, want error", tt.in, n)
			assert.True(t, strings.HasPrefix(err.Error(), tt.wantErr), "error = %q, want prefix %q", err, tt.wantErr)
			assert.Equal(t, Int64(42), n, "failed decode modified the value")
		})
	}
}

func TestInt64Marshal(t *testing.T) {
	b, err := json.Marshal(struct {
		A Int64 `json:"a"`
		B Int64 `json:"b"`
	}{math.MinInt64, 2750000})
	require.NoError(t, err)
	got, want := string(b), `{"a":-9223372036854775808,"b":2750000}`
	assert.Equal(t, want, got, "Marshal")
	assert.Equal(t, int64(5), Int64(5).Int64(), "Int64() conversion")
}
