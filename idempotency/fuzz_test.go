package idempotency

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// keyRE is the oracle for Validate: the documented rule as a regexp.
var keyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{32,64}$`)

// uuidRE is the oracle for ValidateUUID.
var uuidRE = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		"",
		"0123456789abcdef0123456789abcdef",
		"0123456789abcdef0123456789abcde",
		Key("checkout", "1001"),
		Key("checkout", "1001") + "0",
		"abc-DEF_ghi-JKL_mno-PQR_stu-VWX_yz0-123_456",
		"abc+DEF/ghi+JKL/mno+PQR/stu+VWX/yz0+123/456=",
		"é0123456789abcdef0123456789abcd",
		"e3b0c442-98fc-4c14-9afb-f4c8996fb924",
		"\x00\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := Validate(s)
		require.Equal(t, keyRE.MatchString(s), err == nil, "Validate(%q) = %v, oracle says valid", s, err)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidKey, "Validate(%q) error does not wrap ErrInvalidKey", s)
		}
		uerr := ValidateUUID(s)
		require.Equal(t, uuidRE.MatchString(s), uerr == nil, "ValidateUUID(%q) = %v, oracle says valid", s, uerr)
		if uerr != nil {
			require.ErrorIs(t, uerr, ErrInvalidKey, "ValidateUUID(%q) error does not wrap ErrInvalidKey", s)
		}
	})
}
