package jopay

import (
	"encoding/json"
	"fmt"
	"strings"

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
