package idempotency

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// separator joins the parts passed to Key and UUID.
const separator = ":"

// Key returns a deterministic idempotency key: the lowercase hex SHA-256 of
// the parts joined with ":". It is always 64 characters and passes Validate.
//
// Key("checkout", id) equals sha256Hex("checkout:" + id) as used in the
// JoPay integration guide, so keys interoperate with services written from
// that guide.
func Key(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, separator)))
	return hex.EncodeToString(sum[:])
}

// New returns a random idempotency key: 32 bytes from crypto/rand encoded as
// unpadded base64url (43 characters). It passes Validate.
//
// Use New only when a request has no stable identifier to derive a key from
// (see Key), and reuse the returned key on every retry of that request.
func New() string {
	var b [32]byte
	mustRead(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// mustRead fills b from crypto/rand. crypto/rand.Read is documented never to
// return an error on supported platforms (Go 1.24 crashes the program
// instead), so a failure here is unrecoverable and we panic rather than hand
// out a predictable key.
func mustRead(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("idempotency: crypto/rand failed: " + err.Error())
	}
}
