package jsonx

import (
	"encoding/json"
	"testing"
)

func TestBool(t *testing.T) {
	for in, want := range map[string]Bool{
		`true`: true, `"true"`: true, `1`: true, `"1"`: true,
		`false`: false, `"false"`: false, `0`: false, `"0"`: false, `null`: false,
	} {
		v := !want // start from the opposite so a no-op decode is caught
		if err := json.Unmarshal([]byte(in), &v); err != nil {
			t.Errorf("Unmarshal(%s): %v", in, err)
			continue
		}
		if v != want {
			t.Errorf("Unmarshal(%s) = %v, want %v", in, v, want)
		}
	}
	for _, in := range []string{`"yes"`, `2`, `"TRUE"`, `{}`, `""`} {
		var v Bool
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want error", in, v)
		}
	}
	b, err := json.Marshal([]Bool{true, false})
	if err != nil || string(b) != `[true,false]` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}
