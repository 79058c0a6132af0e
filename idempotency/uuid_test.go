package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// uuidV4RE matches a lowercase canonical version-4, RFC 4122-variant UUID.
var uuidV4RE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkV4 asserts the version nibble is 4 and the variant bits are 10xx,
// by decoding the hex rather than by pattern alone.
func checkV4(t *testing.T, u string) {
	t.Helper()
	require.True(t, uuidV4RE.MatchString(u), "%q is not a canonical lowercase v4 UUID", u)
	raw, err := hex.DecodeString(strings.ReplaceAll(u, "-", ""))
	require.NoError(t, err, "%q: hex decode", u)
	require.Len(t, raw, 16, "%q: hex decode", u)
	assert.Equal(t, byte(4), raw[6]>>4, "%q: version nibble", u)
	assert.Equal(t, byte(0b10), raw[8]>>6, "%q: variant bits", u)
	assert.NoError(t, ValidateUUID(u), "ValidateUUID(%q)", u)
}

func TestUUID(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
	}{
		{"empty", nil},
		{"seed-style", []string{"invoice", "1001"}},
		{"three parts", []string{"pepay", "order", "42"}},
		{"unicode", []string{"checkout", "заказ-7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UUID(tt.parts...)
			checkV4(t, got)

			// Independent construction: first 16 bytes of SHA-256 of the
			// ":"-joined parts, version and variant bits overwritten.
			sum := sha256.Sum256([]byte(strings.Join(tt.parts, ":")))
			want := hex.EncodeToString(sum[:16])
			want = want[:12] + "4" + want[13:]                                // version nibble
			want = want[:16] + string("89ab"[hexVal(want[16])&3]) + want[17:] // variant 10xx
			want = want[0:8] + "-" + want[8:12] + "-" + want[12:16] + "-" + want[16:20] + "-" + want[20:32]
			assert.Equal(t, want, got, "UUID(%q)", tt.parts)
			assert.Equal(t, got, UUID(tt.parts...), "UUID not deterministic")
		})
	}
	assert.NotEqual(t, UUID("invoice", "1001"), UUID("invoice", "1002"), "different parts gave the same UUID")
}

// hexVal returns the value of one lowercase hex digit.
func hexVal(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

func TestUUIDKnownAnswer(t *testing.T) {
	// sha256("") = e3b0c442 98fc 1c14 9afb f4c8996fb924...
	// byte 6 0x1c → 0x4c, byte 8 0x9a → 0x9a (already 10xx).
	got, want := UUID(), "e3b0c442-98fc-4c14-9afb-f4c8996fb924"
	assert.Equal(t, want, got, "UUID()")
	// sha256("abc") = ba7816bf 8f01 cfea 4141 40de5dae2223...
	// byte 6 0xcf → 0x4f, byte 8 0x41 → 0x81.
	got, want = UUID("abc"), "ba7816bf-8f01-4fea-8141-40de5dae2223"
	assert.Equal(t, want, got, "UUID(\"abc\")")
}

func TestNewUUID(t *testing.T) {
	const n = 10000
	seen := make(map[string]struct{}, n)
	for range n {
		u := NewUUID()
		checkV4(t, u)
		if t.Failed() {
			t.FailNow()
		}
		_, dup := seen[u]
		require.False(t, dup, "NewUUID() repeated %q", u)
		seen[u] = struct{}{}
	}
}

func TestValidateUUID(t *testing.T) {
	valid := []string{
		"e3b0c442-98fc-4c14-9afb-f4c8996fb924",
		"E3B0C442-98FC-4C14-9AFB-F4C8996FB924",
		"00000000-0000-0000-0000-000000000000", // nil UUID: format is fine
		"6ba7b810-9dad-11d1-80b4-00c04fd430c8", // version 1 is accepted
	}
	for _, s := range valid {
		assert.NoError(t, ValidateUUID(s), "ValidateUUID(%q)", s)
	}

	invalid := []struct {
		in, wantMsg string
	}{
		{"", "idempotency: invalid key: UUID length 0, want 36"},
		{"e3b0c44298fc4c149afbf4c8996fb924", "idempotency: invalid key: UUID length 32, want 36"},
		{"{e3b0c442-98fc-4c14-9afb-f4c8996fb924}", "idempotency: invalid key: UUID length 38, want 36"},
		{"urn:uuid:e3b0c442-98fc-4c14-9afb-f4c8996fb924", "idempotency: invalid key: UUID length 45, want 36"},
		{"e3b0c44298-fc-4c14-9afb-f4c8996fb924", "idempotency: invalid key: UUID needs '-' at index 8"},
		{"e3b0c442-98fc-4c14-9afb_f4c8996fb924", "idempotency: invalid key: UUID needs '-' at index 23"},
		{"g3b0c442-98fc-4c14-9afb-f4c8996fb924", "idempotency: invalid key: UUID character at index 0 is not a hex digit"},
		{"e3b0c442-98fc-4c14-9afb-f4c8996fb92 ", "idempotency: invalid key: UUID character at index 35 is not a hex digit"},
	}
	for _, tt := range invalid {
		err := ValidateUUID(tt.in)
		if !assert.ErrorIs(t, err, ErrInvalidKey, "ValidateUUID(%q)", tt.in) {
			continue
		}
		assert.Equal(t, tt.wantMsg, err.Error(), "ValidateUUID(%q) error", tt.in)
	}
}

func TestUUIDPassesValidate(t *testing.T) {
	// A UUID is 36 chars of hex and '-', so it also passes Validate; a
	// provider expecting either form accepts it.
	assert.NoError(t, Validate(NewUUID()), "Validate(NewUUID())")
}
