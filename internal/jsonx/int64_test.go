package jsonx

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
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
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Unmarshal(%s) = %d, want %d", tt.in, got, tt.want)
			}
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
			if err == nil {
				t.Fatalf("UnmarshalJSON(%s) = %d, want error", tt.in, n)
			}
			if !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want prefix %q", err, tt.wantErr)
			}
			if n != 42 {
				t.Errorf("failed decode modified the value to %d", n)
			}
		})
	}
}

func TestInt64Marshal(t *testing.T) {
	b, err := json.Marshal(struct {
		A Int64 `json:"a"`
		B Int64 `json:"b"`
	}{math.MinInt64, 2750000})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"a":-9223372036854775808,"b":2750000}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	if Int64(5).Int64() != 5 {
		t.Error("Int64() conversion")
	}
}
