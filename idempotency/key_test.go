package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sha256Hex is the seed's helper, written independently of Key.
func sha256Hex(s string) string {
	h := sha256.New()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func TestKey(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		// Known-answer vectors (FIPS 180-2 / common test values), so Key is
		// not only checked against another call into crypto/sha256.
		{"empty", nil, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", []string{"abc"}, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"seed example", []string{"checkout", "1001"}, sha256Hex("checkout:1001")},
		// Same value from coreutils: printf 'checkout:1001' | sha256sum
		{"seed example literal", []string{"checkout", "1001"}, "eacee0c50c7c716e10eeb3ded7c1471a6987b4f94eab735bc59dd5feada82a82"},
		{"invoice namespace", []string{"invoice", "INV-2025-0042"}, sha256Hex("invoice:INV-2025-0042")},
		{"three parts", []string{"refund", "ord_9", "2"}, sha256Hex("refund:ord_9:2")},
		{"empty parts keep separators", []string{"", ""}, sha256Hex(":")},
		{"unicode", []string{"checkout", "заказ-7"}, sha256Hex("checkout:заказ-7")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Key(tt.parts...)
			assert.Equal(t, tt.want, got, "Key(%q)", tt.parts)
			assert.Len(t, got, 64, "len")
			assert.NoError(t, Validate(got), "Validate(Key(...))")
		})
	}
}

func TestKeyDistinguishesRequests(t *testing.T) {
	assert.NotEqual(t, Key("checkout", "1001"), Key("checkout", "1002"), "different order ids gave the same key")
	assert.NotEqual(t, Key("checkout", "1001"), Key("invoice", "1001"), "different namespaces gave the same key")
	assert.Equal(t, Key("checkout", "1001"), Key("checkout", "1001"), "Key is not deterministic")
	// Documented caveat: parts are joined, not escaped.
	assert.Equal(t, Key("a", "b"), Key("a:b"), "Key(\"a:b\") should equal Key(\"a\", \"b\") as documented")
}

func TestNew(t *testing.T) {
	const n = 10000
	seen := make(map[string]struct{}, n)
	for range n {
		k := New()
		require.Len(t, k, 43, "New()")
		require.NoError(t, Validate(k), "Validate(New())")
		_, dup := seen[k]
		require.False(t, dup, "New() repeated %q", k)
		seen[k] = struct{}{}
	}
}

func TestValidate(t *testing.T) {
	valid := []struct {
		name, key string
	}{
		{"32 lowercase hex", "0123456789abcdef0123456789abcdef"},
		{"64 hex (Key output)", Key("x")},
		{"64 uppercase hex", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},
		{"43 base64url with - and _", "abc-DEF_ghi-JKL_mno-PQR_stu-VWX_yz0-123_456"},
		{"all underscores 32", "________________________________"},
		{"mixed 50", "Aa0-_Aa0-_Aa0-_Aa0-_Aa0-_Aa0-_Aa0-_Aa0-_Aa0-_Aa0-_"},
	}
	for _, tt := range valid {
		t.Run("valid/"+tt.name, func(t *testing.T) {
			assert.NoError(t, Validate(tt.key), "Validate(%q)", tt.key)
		})
	}

	invalid := []struct {
		name, key, wantMsg string
	}{
		{"empty", "", "idempotency: invalid key: length 0, want 32–64"},
		{"31 chars", "0123456789abcdef0123456789abcde", "idempotency: invalid key: length 31, want 32–64"},
		{"65 chars", Key("x") + "a", "idempotency: invalid key: length 65, want 32–64"},
		{"space", "0123456789abcdef 123456789abcdef", "idempotency: invalid key: character at index 16 is not in [A-Za-z0-9_-]"},
		{"plus (std base64)", "+123456789abcdef0123456789abcdef", "idempotency: invalid key: character at index 0 is not in [A-Za-z0-9_-]"},
		{"slash (std base64)", "0123456789abcdef0123456789abcde/", "idempotency: invalid key: character at index 31 is not in [A-Za-z0-9_-]"},
		{"padding", "0123456789abcdef0123456789abcdef0123456789a=", "idempotency: invalid key: character at index 43 is not in [A-Za-z0-9_-]"},
		{"colon (unhashed parts)", "checkout:1001-aaaaaaaaaaaaaaaaaaaaaaa", "idempotency: invalid key: character at index 8 is not in [A-Za-z0-9_-]"},
		// 32 bytes but 31 runes: length is counted in bytes, and the
		// multi-byte rune is rejected at its first byte.
		{"non-ASCII", "é123456789abcdef0123456789abcd", "idempotency: invalid key: length 31, want 32–64"},
		{"non-ASCII 32 bytes", "é0123456789abcdef0123456789abcd", "idempotency: invalid key: character at index 0 is not in [A-Za-z0-9_-]"},
		{"NUL", "\x000123456789abcdef0123456789abcde", "idempotency: invalid key: character at index 0 is not in [A-Za-z0-9_-]"},
	}
	for _, tt := range invalid {
		t.Run("invalid/"+tt.name, func(t *testing.T) {
			err := Validate(tt.key)
			require.ErrorIs(t, err, ErrInvalidKey, "Validate(%q)", tt.key)
			assert.Equal(t, tt.wantMsg, err.Error(), "Validate(%q) error", tt.key)
		})
	}
}
