package idempotency

import (
	"errors"
	"regexp"
	"testing"
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
		if want := keyRE.MatchString(s); want != (err == nil) {
			t.Fatalf("Validate(%q) = %v, oracle says valid=%v", s, err, want)
		}
		if err != nil && !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("Validate(%q) error %v does not wrap ErrInvalidKey", s, err)
		}
		uerr := ValidateUUID(s)
		if want := uuidRE.MatchString(s); want != (uerr == nil) {
			t.Fatalf("ValidateUUID(%q) = %v, oracle says valid=%v", s, uerr, want)
		}
		if uerr != nil && !errors.Is(uerr, ErrInvalidKey) {
			t.Fatalf("ValidateUUID(%q) error %v does not wrap ErrInvalidKey", s, uerr)
		}
	})
}
