package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// UUID returns a deterministic UUID for the parts, for providers such as
// Pepay whose Idempotency-Key header must be a UUID. The first 16 bytes of
// the SHA-256 of the parts joined with ":" are shaped into a version-4
// layout with the RFC 4122 variant (version nibble 4, variant bits 10), and
// returned in lowercase canonical 8-4-4-4-12 form.
//
// Like Key, the same parts always give the same UUID, so a retried or
// double-submitted request is recognised by the provider. (Strictly, a
// name-based UUID would be version 5; version 4 is used because Pepay
// documents "UUID v4" keys and some validators check the version nibble.)
func UUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, separator)))
	var b [16]byte
	copy(b[:], sum[:16])
	return formatUUID(b)
}

// NewUUID returns a random version-4 UUID (RFC 4122 variant) from
// crypto/rand, in lowercase canonical form. Reuse it on every retry of the
// same logical request.
func NewUUID() string {
	var b [16]byte
	mustRead(b[:])
	return formatUUID(b)
}

// formatUUID sets the version-4 and RFC 4122 variant bits and formats b as
// xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx.
func formatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10xx (RFC 4122)
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// ValidateUUID reports whether s is a UUID in canonical 8-4-4-4-12 text form
// (hex digits of either case, hyphens at positions 8, 13, 18 and 23), as
// Pepay requires for Idempotency-Key. It does not check the version or
// variant, so UUIDs of any version are accepted. The returned error wraps
// ErrInvalidKey and does not repeat s.
func ValidateUUID(s string) error {
	if len(s) != 36 {
		return fmt.Errorf("%w: UUID length %d, want 36", ErrInvalidKey, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return fmt.Errorf("%w: UUID needs '-' at index %d", ErrInvalidKey, i)
			}
		default:
			if !isHex(c) {
				return fmt.Errorf("%w: UUID character at index %d is not a hex digit", ErrInvalidKey, i)
			}
		}
	}
	return nil
}

// isHex reports whether c is a hex digit of either case.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
