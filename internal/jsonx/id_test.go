package jsonx

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIDUnmarshal(t *testing.T) {
	tests := []struct {
		name, in string
		want     ID
	}{
		{"string", `"req_123"`, "req_123"},
		{"uuid string", `"9b2f8c1e-6a7d-4e1b-8f3a-2c5d7e9f0a1b"`, "9b2f8c1e-6a7d-4e1b-8f3a-2c5d7e9f0a1b"},
		{"number", `5077`, "5077"},
		{"big number keeps digits", `12345678901234567890123`, "12345678901234567890123"},
		{"float64-unsafe integer", `9007199254740993`, "9007199254740993"},
		{"negative number", `-7`, "-7"},
		{"number text kept verbatim", `1.50`, "1.50"},
		{"exponent kept verbatim", `1e3`, "1e3"},
		{"null", `null`, ""},
		{"empty string", `""`, ""},
		{"escaped string", `"a\u0062c\n"`, "abc\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got ID
			require.NoError(t, json.Unmarshal([]byte(tt.in), &got), "Unmarshal(%s)", tt.in)
			assert.Equal(t, tt.want, got, "Unmarshal(%s)", tt.in)
		})
	}
}

func TestIDUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"bool", `true`, "jsonx: ID must be a JSON string or number, got boolean"},
		{"object", `{"id":1}`, "jsonx: ID must be a JSON string or number, got object"},
		{"array", `[1]`, "jsonx: ID must be a JSON string or number, got array"},
		{"empty input", ``, "jsonx: ID must be a JSON string or number, got empty input"},
		{"malformed number", `12abc`, "jsonx: cannot parse ID 12abc: not a JSON number"},
		{"two numbers", `1 2`, "jsonx: cannot parse ID 1 2: not a JSON number"},
		{"unterminated string", `"abc`, `jsonx: cannot parse ID "abc: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := ID("unchanged")
			err := id.UnmarshalJSON([]byte(tt.in))
			require.Error(t, err, "UnmarshalJSON(%s) = %q, want error", tt.in, id)
			assert.True(t, strings.HasPrefix(err.Error(), tt.wantErr), "error = %q, want prefix %q", err, tt.wantErr)
			assert.Equal(t, ID("unchanged"), id, "failed decode modified the value")
		})
	}
}

func TestIDMarshal(t *testing.T) {
	type doc struct {
		ID ID `json:"id"`
	}
	var d doc
	require.NoError(t, json.Unmarshal([]byte(`{"id":5077}`), &d))
	b, err := json.Marshal(d)
	require.NoError(t, err)
	assert.Equal(t, `{"id":"5077"}`, string(b), "Marshal")
	var back doc
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Empty(t, cmp.Diff(d, back), "round trip (-want +got)")
	assert.Equal(t, "x<y", ID("x<y").String(), "String()")
}
