package jopay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/paykit-go/paykit"
)

// Status is a payment request's lifecycle state (the API calls it status or request_status).
// Values JoPay adds later pass through unchanged.
type Status string

// Request statuses.
const (
	// StatusRequested: created, the pay page has not been opened yet.
	StatusRequested Status = "requested"
	// StatusOpened: the customer opened the pay page.
	StatusOpened Status = "opened"
	// StatusExpired: the request ran out of time unpaid (terminal).
	StatusExpired Status = "expired"
	// StatusCancelled: the partner cancelled (voided) the request (terminal).
	StatusCancelled Status = "cancelled"
)

// IsTerminal reports whether the status can no longer change (expired, cancelled).
func (s Status) IsTerminal() bool { return s == StatusExpired || s == StatusCancelled }

// IsPaid reports whether the status says the request was paid. It is always false: a request's
// lifecycle status never says paid (JoPay reports payment in ProofStatus, see
// ProofStatus.IsPaid). It exists so every provider's status type answers the same questions.
func (s Status) IsPaid() bool { return false }

// IsOpen reports whether the request can still be paid or cancelled (requested, opened).
func (s Status) IsOpen() bool { return s == StatusRequested || s == StatusOpened }

// ProofStatus is the state of the payment proof (the on-chain transaction) of a request.
type ProofStatus string

// Proof statuses.
const (
	// ProofStatusNone: no payment proof yet.
	ProofStatusNone ProofStatus = "none"
	// ProofStatusAttached: a transaction hash was submitted and is being verified. Not paid yet.
	ProofStatusAttached ProofStatus = "attached"
	// ProofStatusVerified: verified on-chain — the only "paid" state (terminal).
	ProofStatusVerified ProofStatus = "verified"
	// ProofStatusMismatch: the attached transaction does not match the request (wrong amount or
	// recipient), per JoPay's merchant guide. Not paid.
	ProofStatusMismatch ProofStatus = "mismatch"
)

// IsPaid reports whether the proof is verified: the only state that means money arrived.
func (p ProofStatus) IsPaid() bool { return p == ProofStatusVerified }

// IsTerminal reports whether the proof status can no longer change (verified).
func (p ProofStatus) IsTerminal() bool { return p == ProofStatusVerified }

// PaymentMode selects the request's lifecycle.
type PaymentMode string

// Payment modes.
const (
	// PaymentModePOS is the default: short expiry (1 hour), QR code or browser redirect.
	PaymentModePOS PaymentMode = "pos"
	// PaymentModeInvoice is for links sent later (email): long expiry (7 days) and a required
	// customer name.
	PaymentModeInvoice PaymentMode = "invoice"
)

// Amount is a request's amount in the partner's fiat currency and in USDC.
type Amount struct {
	// FiatInt is the amount in minor units of FiatCode (cents; paise for INR; whole yen for JPY).
	FiatInt int64
	// FiatCode is the ISO 4217 currency code ("USD").
	FiatCode string
	// USDCMicro is the amount in millionths of a USDC (2750000 = 2.75 USDC). The API sends it as
	// a string integer; it is parsed exactly.
	USDCMicro int64
}

// USDC returns the USDC amount as an exact decimal with six places ("2.750000").
func (a Amount) USDC() paykit.Decimal { return paykit.NewDecimal(a.USDCMicro, 6) }

// wireMetadata decodes the metadata map tolerantly: strings as they are, numbers and booleans
// as their JSON text, nulls dropped, nested values kept as JSON text. Documented as string to
// string, but a field that fails to decode must not cost the caller the whole event.
type wireMetadata map[string]string

// UnmarshalJSON implements json.Unmarshaler.
func (m *wireMetadata) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = nil
		return nil
	}
	// Fast path: the documented all-strings object decodes in one pass.
	var plain map[string]string
	if err := json.Unmarshal(b, &plain); err == nil {
		*m = plain
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("jopay: metadata must be an object: %w", err)
	}
	out := make(wireMetadata, len(raw))
	for k, v := range raw {
		switch {
		case len(v) == 0 || string(v) == "null":
			continue
		case v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("jopay: metadata value of %q: %w", k, err)
			}
			out[k] = s
		case v[0] == '{' || v[0] == '[':
			out[k] = string(v) // not documented; keep the JSON text rather than fail
		default:
			out[k] = strings.TrimSpace(string(v))
		}
	}
	*m = out
	return nil
}

// stringMap is the documented metadata object, every value a string, decoded on the fast path
// (fastRequest). It reads the object directly instead of through encoding/json's reflection,
// which allocates once more per key and grows the map as it goes: the map is sized up front.
// Anything but an object of strings (and nulls, kept as "", as encoding/json does for a
// map[string]string) is refused, so the caller falls back to the tolerant wireMetadata.
type stringMap map[string]string

// errNotStringMap makes the fast path give way to the tolerant decoding.
var errNotStringMap = errors.New("jopay: metadata is not an object of strings")

// UnmarshalJSON implements json.Unmarshaler. encoding/json has validated b (one JSON value)
// before calling it; the parser still refuses anything unexpected rather than trust that.
func (m *stringMap) UnmarshalJSON(b []byte) error {
	i := skipSpace(b, 0)
	if i < len(b) && b[i] == 'n' {
		if string(bytes.TrimSpace(b)) != jsonNull {
			return errNotStringMap
		}
		*m = nil
		return nil
	}
	if i >= len(b) || b[i] != '{' {
		return errNotStringMap
	}
	// Every entry has at least four quotes; escaped quotes only make the map roomier.
	out := make(stringMap, bytes.Count(b, []byte(`"`))/4)
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		*m = out
		return nil
	}
	for {
		k, next, err := jsonString(b, i)
		if err != nil {
			return err
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return errNotStringMap
		}
		i = skipSpace(b, i+1)
		var v string
		switch {
		case i < len(b) && b[i] == '"':
			if v, i, err = jsonString(b, i); err != nil {
				return err
			}
		case len(b)-i >= len(jsonNull) && string(b[i:i+len(jsonNull)]) == jsonNull:
			i += len(jsonNull)
		default:
			return errNotStringMap
		}
		out[k] = v
		i = skipSpace(b, i)
		if i >= len(b) {
			return errNotStringMap
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
			continue
		case '}':
			if skipSpace(b, i+1) != len(b) {
				return errNotStringMap
			}
			*m = out
			return nil
		}
		return errNotStringMap
	}
}

// jsonNull is the JSON null literal.
const jsonNull = "null"

// skipSpace returns the index of the first byte at or after i that is not JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// jsonString decodes the JSON string starting at b[i] (a quote) and returns it with the index
// after its closing quote. Plain ASCII without escapes is copied as it is; anything else goes
// through encoding/json, so escapes and invalid UTF-8 come out exactly as encoding/json makes
// them.
func jsonString(b []byte, i int) (string, int, error) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, errNotStringMap
	}
	plain := true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			if plain {
				return string(b[i+1 : j]), j + 1, nil
			}
			var s string
			if err := json.Unmarshal(b[i:j+1], &s); err != nil {
				return "", 0, errNotStringMap
			}
			return s, j + 1, nil
		case c == '\\':
			plain = false
			j++ // the escaped byte cannot end the string
		case c < 0x20:
			return "", 0, errNotStringMap
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return "", 0, errNotStringMap
}
