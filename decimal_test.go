package paykit

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in, want string
		scale    int32
	}{
		{"0", "0", 0},
		{"25", "25", 0},
		{"15.00", "15.00", 2},
		{"-12.50", "-12.50", 2},
		{"+7.1", "7.1", 1},
		{"007.50", "7.50", 2},
		{"0.1", "0.1", 1},
		{".5", "0.5", 1},
		{"5.", "5", 0},
		{"-0", "0", 0},
		{"-0.00", "0.00", 2},
		{"1e-7", "0.0000001", 7},
		{"1.5e-7", "0.00000015", 8},
		{"1.5E3", "1500", 0},
		{"1.25e1", "12.5", 1},
		{"2e+2", "200", 0},
		{"-3.14159e0", "-3.14159", 5},
		{"0.000000000000000001", "0.000000000000000001", 18},
		{"123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789", 9},
		{"1e-400", "0." + strings.Repeat("0", 399) + "1", 400},
		{"1e399", "1" + strings.Repeat("0", 399), 0},
		{strings.Repeat("9", 400), strings.Repeat("9", 400), 0},
		{"0000" + strings.Repeat("9", 400), strings.Repeat("9", 400), 0},
	}
	for _, tt := range tests {
		d, err := ParseDecimal(tt.in)
		if !assert.NoError(t, err, "ParseDecimal(%q)", tt.in) {
			continue
		}
		assert.Equal(t, tt.want, d.String(), "ParseDecimal(%q)", tt.in)
		assert.Equal(t, tt.scale, d.Scale(), "ParseDecimal(%q) scale", tt.in)
	}
}

func TestParseDecimalRefuses(t *testing.T) {
	bad := []string{
		"", " ", "-", "+", ".", "-.", "e5", "1e", "1e+", "1e-", "1.2.3", "1..2", "--1", "+-1", "1-", "1 000", " 1", "1 ",
		"NaN", "nan", "Inf", "+Inf", "-Infinity", "0x1A", "0x1p-2", "1_000", "١٢", "1e5e5", "1e1.5", "½",
		"1e999999999", "1e-999999999", "1e9999999999", "1e-401", "1e400", strings.Repeat("9", 401),
		strings.Repeat("9", 400) + "e1", "0." + strings.Repeat("0", 400) + "1",
	}
	for _, in := range bad {
		d, err := ParseDecimal(in)
		if !assert.Error(t, err, "ParseDecimal(%q) = %s, want an error", in, d) {
			continue
		}
		assert.ErrorIs(t, err, ErrInvalidDecimal, "ParseDecimal(%q) error %v does not wrap ErrInvalidDecimal", in, err)
		assert.LessOrEqual(t, len(err.Error()), 120, "ParseDecimal(%q) error is %d bytes long", in, len(err.Error()))
	}
	func() {
		defer func() {
			assert.NotNil(t, recover(), "MustDecimal did not panic")
		}()
		MustDecimal("12,50")
	}()
}

func TestDecimalJSON(t *testing.T) {
	type payload struct {
		Amount Decimal  `json:"amount"`
		Fee    Decimal  `json:"fee"`
		Tip    *Decimal `json:"tip,omitempty"`
	}
	tests := []struct {
		in             string
		amount, fee    string
		roundTrip      string
		wantErr        bool
		wantInvalidDec bool
	}{
		{in: `{"amount":15.00,"fee":"0.30"}`, amount: "15.00", fee: "0.30", roundTrip: `{"amount":15.00,"fee":0.30}`},
		{in: `{"amount":"1e-7","fee":1E2}`, amount: "0.0000001", fee: "100", roundTrip: `{"amount":0.0000001,"fee":100}`},
		{in: `{"amount":null,"fee":" 2.5 "}`, amount: "0", fee: "2.5", roundTrip: `{"amount":0,"fee":2.5}`},
		{in: `{"amount":-0.1}`, amount: "-0.1", fee: "0", roundTrip: `{"amount":-0.1,"fee":0}`},
		{in: `{"amount":"abc"}`, wantErr: true, wantInvalidDec: true},
		{in: `{"amount":""}`, wantErr: true, wantInvalidDec: true},
		{in: `{"amount":true}`, wantErr: true, wantInvalidDec: true},
		{in: `{"amount":"NaN"}`, wantErr: true, wantInvalidDec: true},
		{in: `{"amount":[1]}`, wantErr: true},
	}
	for _, tt := range tests {
		var p payload
		err := json.Unmarshal([]byte(tt.in), &p)
		if tt.wantErr {
			if assert.Error(t, err, "%s: decoded to %+v, want an error", tt.in, p) && tt.wantInvalidDec {
				assert.ErrorIs(t, err, ErrInvalidDecimal, tt.in)
			}
			continue
		}
		if !assert.NoError(t, err, tt.in) {
			continue
		}
		assert.Equal(t, tt.amount, p.Amount.String(), "%s: amount", tt.in)
		assert.Equal(t, tt.fee, p.Fee.String(), "%s: fee", tt.in)
		out, err := json.Marshal(p)
		assert.NoError(t, err, "%s: marshal", tt.in)
		assert.Equal(t, tt.roundTrip, string(out), "%s: marshal", tt.in)
		var again payload
		assert.NoError(t, json.Unmarshal(out, &again), "%s: round trip", tt.in)
		assert.Zero(t, again.Amount.Cmp(p.Amount), "%s: round trip gave %s", tt.in, again.Amount)
		assert.Equal(t, p.Amount.Scale(), again.Amount.Scale(), "%s: round trip scale", tt.in)
	}
	// Text form: query strings and map keys.
	m := map[Decimal]int{MustDecimal("1.50"): 1}
	out, err := json.Marshal(m)
	assert.NoError(t, err, "map key")
	assert.Equal(t, `{"1.50":1}`, string(out), "map key")
	var d Decimal
	assert.NoError(t, d.UnmarshalText([]byte("2.5e1")), "UnmarshalText")
	assert.Equal(t, "25", d.String(), "UnmarshalText")
	assert.ErrorIs(t, d.UnmarshalText([]byte("x")), ErrInvalidDecimal, "UnmarshalText(x)")
	assert.Equal(t, "25", d.String(), "UnmarshalText(x) changed d")
}

func TestDecimalArithmetic(t *testing.T) {
	m := MustDecimal
	tests := []struct {
		name string
		got  Decimal
		want string
	}{
		{"add keeps the larger scale", m("15.00").Add(m("0.3")), "15.30"},
		{"add negative", m("1").Add(m("-2.5")), "-1.5"},
		{"0.1+0.2", m("0.1").Add(m("0.2")), "0.3"},
		{"sub", m("10").Sub(m("0.01")), "9.99"},
		{"sub to zero", m("1.10").Sub(m("1.1")), "0.00"},
		{"mul adds scales", m("19.99").Mul(m("3")), "59.97"},
		{"mul fractions", m("0.5").Mul(m("0.25")), "0.125"},
		{"mul negative", m("-1.5").Mul(m("2.0")), "-3.00"},
		{"neg", m("2.50").Neg(), "-2.50"},
		{"neg zero value", Decimal{}.Neg(), "0"},
		{"round half up", m("2.345").Round(2), "2.35"},
		{"round half away from zero", m("-2.345").Round(2), "-2.35"},
		{"round down", m("2.344").Round(2), "2.34"},
		{"round to integer", m("2.5").Round(0), "3"},
		{"round negative to integer", m("-0.5").Round(0), "-1"},
		{"round small negative", m("-0.4").Round(0), "0"},
		{"round pads", m("2.5").Round(3), "2.500"},
		{"round negative places clamps to 0", m("1234.5").Round(-2), "1235"},
		{"string fixed", m("1e-7").Add(m("1")), "1.0000001"},
		{"new decimal", NewDecimal(1999, 2), "19.99"},
		{"new decimal negative scale", NewDecimal(5, -3), "5000"},
		{"new decimal small", NewDecimal(-5, 3), "-0.005"},
		{"zero value", Decimal{}, "0"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.got.String(), "%s: got %s", tt.name, tt.got)
	}
	assert.Equal(t, "1.01", m("1.005").StringFixed(2), "StringFixed")
	// Operands are not modified.
	a, b := m("1.5"), m("2.25")
	_, _, _, _ = a.Add(b), a.Sub(b), a.Mul(b), a.Round(0)
	assert.Equal(t, "1.5", a.String(), "operand changed")
	assert.Equal(t, "2.25", b.String(), "operand changed")
}

func TestDecimalCompare(t *testing.T) {
	m := MustDecimal
	tests := []struct {
		a, b string
		want int
	}{
		{"1.50", "1.5", 0}, {"0", "-0.00", 0}, {"1", "1.0000001", -1}, {"-1", "-2", 1},
		{"1e-7", "0.0000001", 0}, {"100", "1e2", 0}, {"99.99", "100", -1},
	}
	for _, tt := range tests {
		a, b := m(tt.a), m(tt.b)
		assert.Equal(t, tt.want, a.Cmp(b), "Cmp(%s, %s)", tt.a, tt.b)
		assert.Equal(t, -tt.want, b.Cmp(a), "Cmp(%s, %s)", tt.b, tt.a)
		assert.Equal(t, tt.want == 0, a.Equal(b), "Equal disagrees with Cmp for %s, %s", tt.a, tt.b)
		assert.Equal(t, tt.want < 0, a.LessThan(b), "LessThan disagrees with Cmp for %s, %s", tt.a, tt.b)
		assert.Equal(t, tt.want > 0, a.GreaterThan(b), "GreaterThan disagrees with Cmp for %s, %s", tt.a, tt.b)
	}
	assert.True(t, m("0.00").IsZero(), "IsZero")
	assert.False(t, m("0.01").IsZero(), "IsZero")
	assert.True(t, (Decimal{}).IsZero(), "IsZero")
	assert.Equal(t, -1, m("-0.01").Sign(), "Sign")
	assert.Equal(t, 0, m("0.00").Sign(), "Sign")
	assert.Equal(t, 1, m("3").Sign(), "Sign")
	assert.Equal(t, 25.99, m("25.99").Float64(), "Float64")
}

func TestDecimalInt64Scaled(t *testing.T) {
	tests := []struct {
		in     string
		places int32
		want   int64
		ok     bool
	}{
		{"25.99", 2, 2599, true},
		{"25.9", 2, 2590, true},
		{"25", 2, 2500, true},
		{"25.990", 2, 2599, true}, // trailing zero dropped exactly
		{"25.999", 2, 0, false},   // would round
		{"-0.01", 2, -1, true},
		{"0", 30, 0, true},
		{"0.000", 0, 0, true},
		{"2500", -2, 25, true},
		{"2550", -2, 0, false},
		{"92233720368547758.07", 2, math.MaxInt64, true},
		{"92233720368547758.08", 2, 0, false},
		{"-92233720368547758.08", 2, math.MinInt64, true},
		{"1", 19, 0, false}, // 10^19 overflows
		{"1", 18, 1e18, true},
		{"1", 2000000000, 0, false}, // no giant allocation either
		{"1e-400", -2000000000, 0, false},
	}
	for _, tt := range tests {
		got, ok := MustDecimal(tt.in).Int64Scaled(tt.places)
		assert.Equal(t, tt.want, got, "%s.Int64Scaled(%d)", tt.in, tt.places)
		assert.Equal(t, tt.ok, ok, "%s.Int64Scaled(%d) ok", tt.in, tt.places)
	}
	got, ok := NewDecimal(2599, 2).Int64Scaled(2)
	assert.Equal(t, int64(2599), got, "NewDecimal(2599, 2).Int64Scaled(2)")
	assert.True(t, ok, "NewDecimal(2599, 2).Int64Scaled(2) ok")
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{
		"0", "15.00", "-12.50", "1e-7", "1.5E3", "007.50", ".5", "5.", "+1", "-0", "1e400", "1e-400",
		"NaN", "0x10", "", "1e999999999", strings.Repeat("9", 400), "1.2.3", "١",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidDecimal, "ParseDecimal(%q) error %v does not wrap ErrInvalidDecimal", s, err)
			return
		}
		out := d.String()
		again, err := ParseDecimal(out)
		require.NoError(t, err, "ParseDecimal(%q) = %q, which does not parse", s, out)
		require.Zero(t, again.Cmp(d), "ParseDecimal(%q) = %q re-parses to %q", s, out, again)
		require.Equal(t, d.Scale(), again.Scale(), "ParseDecimal(%q) = %q re-parses with another scale", s, out)
		require.Equal(t, out, again.String(), "ParseDecimal(%q) = %q re-parses to another text", s, out)
		b, err := json.Marshal(d)
		require.NoError(t, err)
		var viaJSON Decimal
		require.NoError(t, json.Unmarshal(b, &viaJSON), "JSON round trip of %q: %s", s, b)
		require.Zero(t, viaJSON.Cmp(d), "JSON round trip of %q: %s", s, b)
	})
}
