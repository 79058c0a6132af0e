package webhook

import (
	"crypto/sha512"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDecodeHex512 checks the word-at-a-time signature decoder against encoding/hex, for
// every byte value at every position of each eight-digit word, in both cases.
func TestDecodeHex512(t *testing.T) {
	base := strings.Repeat("0123456789abcdefABCDEF", 6)[:2*sha512.Size]
	for pos := 0; pos < 2*sha512.Size; pos++ {
		for c := 0; c < 256; c++ {
			s := []byte(base)
			s[pos] = byte(c)
			var got [sha512.Size]byte
			ok := decodeHex512(&got, string(s))
			want, err := hex.DecodeString(string(s))
			require.Equal(t, err == nil, ok, "byte %#02x at %d: ok = %v, encoding/hex error %v", c, pos, ok, err)
			if ok {
				require.Equal(t, want, got[:], "byte %#02x at %d: decoded", c, pos)
			}
		}
	}
	for _, s := range []string{base[:len(base)-1], base + "0", ""} {
		var got [sha512.Size]byte
		assert.False(t, decodeHex512(&got, s), "decodeHex512 accepts %d digits", len(s))
	}
}

func BenchmarkDecodeHex512(b *testing.B) {
	sig := strings.Repeat("0123456789abcdefABCDEF", 6)[:2*sha512.Size]
	var dst [sha512.Size]byte
	for b.Loop() {
		if !decodeHex512(&dst, sig) {
			b.Fatal("rejected")
		}
	}
}
