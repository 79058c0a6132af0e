package jsonx

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestText(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"abc"`, "abc", true},
		{`"a\"b"`, `a"b`, true},
		{`12345678901234567890`, "12345678901234567890", true},
		{`-1.50`, "-1.50", true},
		{`null`, "", false},
		{``, "", false},
		{`{"a":1}`, "", false},
		{`[1]`, "", false},
		{`true`, "", false},
	} {
		got, ok := Text([]byte(tc.raw))
		assert.Equal(t, tc.want, got, "Text(%s) = %q, %v; want %q, %v", tc.raw, got, ok, tc.want, tc.ok)
		assert.Equal(t, tc.ok, ok, "Text(%s) = %q, %v; want %q, %v", tc.raw, got, ok, tc.want, tc.ok)
	}
}
