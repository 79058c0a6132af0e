package jsonx

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Unmarshal(%s) = %q, want %q", tt.in, got, tt.want)
			}
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
			if err == nil {
				t.Fatalf("UnmarshalJSON(%s) = %q, want error", tt.in, id)
			}
			if !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want prefix %q", err, tt.wantErr)
			}
			if id != "unchanged" {
				t.Errorf("failed decode modified the value to %q", id)
			}
		})
	}
}

func TestIDMarshal(t *testing.T) {
	type doc struct {
		ID ID `json:"id"`
	}
	var d doc
	if err := json.Unmarshal([]byte(`{"id":5077}`), &d); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"id":"5077"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	var back doc
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got := ID("x<y").String(); got != "x<y" {
		t.Errorf("String() = %q", got)
	}
}
