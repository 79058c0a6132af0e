package jsonx

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBool(t *testing.T) {
	for in, want := range map[string]Bool{
		`true`: true, `"true"`: true, `1`: true, `"1"`: true,
		`false`: false, `"false"`: false, `0`: false, `"0"`: false, `null`: false,
	} {
		v := !want // start from the opposite so a no-op decode is caught
		if !assert.NoError(t, json.Unmarshal([]byte(in), &v), "Unmarshal(%s)", in) {
			continue
		}
		assert.Equal(t, want, v, "Unmarshal(%s)", in)
	}
	for _, in := range []string{`"yes"`, `2`, `"TRUE"`, `{}`, `""`} {
		var v Bool
		assert.Error(t, json.Unmarshal([]byte(in), &v), "Unmarshal(%s) = %v, want error", in, v)
	}
	b, err := json.Marshal([]Bool{true, false})
	require.NoError(t, err, "Marshal = %s, %v", b, err)
	assert.Equal(t, `[true,false]`, string(b), "Marshal = %s, %v", b, err)
}
