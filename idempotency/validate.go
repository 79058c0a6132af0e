package idempotency

import (
	"errors"
	"fmt"
)

// Length limits accepted by Validate, as documented by JoPay: 32–64
// characters of the base64url alphabet (hex is a subset).
const (
	MinLength = 32
	MaxLength = 64
)

// ErrInvalidKey is wrapped by every error returned from Validate and
// ValidateUUID; test for it with errors.Is.
var ErrInvalidKey = errors.New("idempotency: invalid key")

// Validate reports whether key is an acceptable idempotency key: 32–64
// characters, each in [A-Za-z0-9_-] (base64url; lowercase and uppercase hex
// are subsets). The returned error wraps ErrInvalidKey and names the reason
// (length, or the index of the first bad character) without repeating the
// key itself.
func Validate(key string) error {
	if n := len(key); n < MinLength || n > MaxLength {
		return fmt.Errorf("%w: length %d, want %d–%d", ErrInvalidKey, n, MinLength, MaxLength)
	}
	for i := 0; i < len(key); i++ {
		if !isKeyByte(key[i]) {
			return fmt.Errorf("%w: character at index %d is not in [A-Za-z0-9_-]", ErrInvalidKey, i)
		}
	}
	return nil
}

// isKeyByte reports whether c is in the base64url alphabet.
func isKeyByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		return true
	}
	return false
}
