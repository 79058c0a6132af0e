package pepay

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func FuzzObjectField(f *testing.F) {
	for _, s := range []string{
		`{"object":"invoice","id":"x"}`, `{"id":{"object":"nested"},"object":"invoice_payment"}`,
		` { "a" : [1,"]",{"object":"no"}] , "object" : "ping" } `, `{"object":1}`, `{"object":"a","object":"b"}`,
		`{"obj\u0065ct":"escaped"}`, `{"s":"\"object\":\"x\""}`, `[]`, `{`, `{"object":"x"`, `{}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := objectField(raw) // must not panic on anything
		if !json.Valid(raw) {
			return
		}
		var probe struct {
			Object *string `json:"object"`
		}
		want := ""
		var top map[string]json.RawMessage
		if json.Unmarshal(raw, &top) == nil && json.Unmarshal(raw, &probe) == nil && probe.Object != nil {
			want = *probe.Object
		}
		require.Equal(t, want, got, "objectField(%q) disagrees with encoding/json", raw)
	})
}
