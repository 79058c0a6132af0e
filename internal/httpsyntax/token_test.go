package httpsyntax

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsToken(t *testing.T) {
	for _, s := range []string{"X-Request-Id", "a", "Z9", "!#$%&'*+-.^_`|~"} {
		assert.True(t, IsToken(s), "%q", s)
	}
	for _, s := range []string{"", "X Request", "X:Y", "é", "a\r\nb", "a\x00", "(x)", `"q"`, "a/b", "a,b", "a;b", "[x]", "{x}", "a=b", "a@b", "a?b", "a\\b"} {
		assert.False(t, IsToken(s), "%q", s)
	}
}
