package jopay

import (
	"errors"
	"fmt"
	"github.com/paykit-go/paykit"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paykit-go/paykit/idempotency"
)

// Documented limits of the create-request body, checked by CreateRequestParams.Validate.
const (
	MaxFiatAmountInt       = 1<<31 - 1 // 2 147 483 647 minor units
	MaxMemoLength          = 500       // characters
	MaxMetadataKeys        = 20
	MaxMetadataKeyLength   = 40  // characters
	MaxMetadataValueLength = 500 // characters
	maxEmailLength         = 254
)

// Validate checks the documented rules JoPay enforces, so a bad request fails before it is sent
// with a *paykit.ValidationError naming the JSON field:
//
//   - merchant_id: required
//   - fiat_amount_int: 1 … 2147483647
//   - fiat_currency_code: empty or three ASCII letters
//   - memo: at most 500 characters
//   - payment_mode: empty, "pos" or "invoice"
//   - customer_name: required in invoice mode
//   - customer_email: empty or one plain address of at most 254 characters
//   - expiry_minutes: not negative
//   - idempotency_key: empty (generated) or 32–64 characters of [A-Za-z0-9_-]
//   - metadata: at most 20 keys, keys 1–40 characters, values at most 500 characters
//
// Lengths count characters (runes), and text must be valid UTF-8: JSON encoding would
// otherwise replace bad bytes silently.
func (p *CreateRequestParams) Validate() error {
	if strings.TrimSpace(p.MerchantID) == "" {
		return &paykit.ValidationError{Field: "merchant_id", Reason: "required"}
	}
	if p.FiatAmountInt < 1 || p.FiatAmountInt > MaxFiatAmountInt {
		return &paykit.ValidationError{Field: "fiat_amount_int",
			Reason: "must be between 1 and 2147483647 minor units, got " + strconv.FormatInt(p.FiatAmountInt, 10)}
	}
	if p.FiatCurrencyCode != "" && !isLetters(p.FiatCurrencyCode, 3) {
		return &paykit.ValidationError{Field: "fiat_currency_code", Reason: "must be a three-letter ISO 4217 code"}
	}
	if err := checkText("memo", p.Memo, MaxMemoLength); err != nil {
		return err
	}
	switch p.PaymentMode {
	case "", PaymentModePOS, PaymentModeInvoice:
	default:
		return &paykit.ValidationError{Field: "payment_mode", Reason: `must be "pos" or "invoice"`}
	}
	if err := checkText("customer_name", p.CustomerName, 0); err != nil {
		return err
	}
	if p.PaymentMode == PaymentModeInvoice && strings.TrimSpace(p.CustomerName) == "" {
		return &paykit.ValidationError{Field: "customer_name", Reason: `required when payment_mode is "invoice"`}
	}
	if p.CustomerEmail != "" {
		if err := checkEmail("customer_email", p.CustomerEmail); err != nil {
			return err
		}
	}
	if p.ExpiryMinutes < 0 {
		return &paykit.ValidationError{Field: "expiry_minutes", Reason: "must not be negative"}
	}
	if p.IdempotencyKey != "" {
		if err := idempotency.Validate(p.IdempotencyKey); err != nil {
			return &paykit.ValidationError{Field: "idempotency_key", Reason: reasonOf(err), Err: idempotency.ErrInvalidKey}
		}
	}
	return checkMetadata(p.Metadata)
}

// checkMetadata applies the documented metadata limits, in sorted key order so the same map
// always reports the same key. Valid metadata, the usual case, is checked without allocating:
// the keys are sorted (and field names built) only to report a failure.
func checkMetadata(md map[string]string) error {
	if len(md) > MaxMetadataKeys {
		return &paykit.ValidationError{Field: "metadata",
			Reason: fmt.Sprintf("has %d keys, at most %d allowed", len(md), MaxMetadataKeys)}
	}
	valid := true
	for k, v := range md {
		if metadataError(k, v) != nil {
			valid = false
			break
		}
	}
	if valid {
		return nil
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := metadataError(k, md[k]); err != nil {
			return err
		}
	}
	return nil
}

// metadataError checks one metadata entry; it allocates only for the error it returns.
func metadataError(k, v string) error {
	switch n := utf8.RuneCountInString(k); {
	case !utf8.ValidString(k):
		return &paykit.ValidationError{Field: "metadata", Reason: "a key is not valid UTF-8"}
	case strings.TrimSpace(k) == "":
		return &paykit.ValidationError{Field: "metadata", Reason: "keys must not be empty"}
	case n > MaxMetadataKeyLength:
		return &paykit.ValidationError{Field: "metadata",
			Reason: fmt.Sprintf("key %q is %d characters, at most %d allowed", shorten(k, MaxMetadataKeyLength), n, MaxMetadataKeyLength)}
	}
	if textOK(v, MaxMetadataValueLength) {
		return nil
	}
	return checkText("metadata."+k, v, MaxMetadataValueLength)
}

// textOK reports whether checkText would accept s.
func textOK(s string, max int) bool {
	return utf8.ValidString(s) && (max <= 0 || len(s) <= max || utf8.RuneCountInString(s) <= max)
}

// checkText requires valid UTF-8 and, when max > 0, at most max characters.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return &paykit.ValidationError{Field: field, Reason: "must be valid UTF-8"}
	}
	if n := utf8.RuneCountInString(s); max > 0 && n > max {
		return &paykit.ValidationError{Field: field, Reason: fmt.Sprintf("is %d characters, at most %d allowed", n, max)}
	}
	return nil
}

// checkEmail accepts one plain address ("a@example.com", no display name).
func checkEmail(field, s string) error {
	if len(s) > maxEmailLength {
		return &paykit.ValidationError{Field: field, Reason: fmt.Sprintf("is longer than %d characters", maxEmailLength)}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return &paykit.ValidationError{Field: field, Reason: "must be a plain email address like name@example.com"}
	}
	return nil
}

// isLetters reports whether s is exactly n ASCII letters.
func isLetters(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // fold to lower case
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func upperASCII(s string) string { return strings.ToUpper(s) }

// shorten cuts s to n runes, marking the cut.
func shorten(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// reasonOf strips a sentinel's prefix from a wrapped error's text ("idempotency: invalid key:
// length 12, want 32–64" → "length 12, want 32–64").
func reasonOf(err error) string {
	msg := err.Error()
	if u := errors.Unwrap(err); u != nil {
		if rest, ok := strings.CutPrefix(msg, u.Error()+": "); ok {
			return rest
		}
	}
	return msg
}
