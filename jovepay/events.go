package jovepay

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/hookpreset"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/webhook"
)

// IPNKind says which body shape an IPN has. JovePay sends no type field, so ParseIPN detects it.
type IPNKind string

// IPN kinds.
const (
	// IPNPayment is a payment status change (body like GET /payment/{id}; has payment_id).
	IPNPayment IPNKind = "payment"
	// IPNWithdrawal is a payout (withdrawal) status change (has batch_withdrawal_id or address).
	IPNWithdrawal IPNKind = "withdrawal"
	// IPNRecurring is a custodial recurring payment (id, status, currency, amount only).
	IPNRecurring IPNKind = "recurring"
	// IPNUnknown is any other JSON object; only Raw is set. Unknown shapes pass through.
	IPNUnknown IPNKind = "unknown"
)

// IPN is one verified Instant Payment Notification. Exactly one of Payment, Withdrawal and
// Recurring is set, according to Kind (none for IPNUnknown).
type IPN struct {
	// Kind is the detected body shape.
	Kind IPNKind
	// Payment is set for IPNPayment.
	Payment *PaymentIPN
	// Withdrawal is set for IPNWithdrawal.
	Withdrawal *WithdrawalIPN
	// Recurring is set for IPNRecurring.
	Recurring *RecurringIPN
	// Raw is the payload ParseIPN was given (not copied). DedupeKey is computed from it alone.
	Raw json.RawMessage
}

// PaymentIPN is the body of a payment IPN: the payment as GET /payment/{id} returns it, with
// numeric ids, parent_payment_id on repeated deposits and invoice_id for invoice payments.
type PaymentIPN = Payment

// WithdrawalIPN is the body of a payout IPN.
type WithdrawalIPN struct {
	// ID is the withdrawal's id.
	ID ID `json:"id"`
	// BatchWithdrawalID is the payout batch it belongs to.
	BatchWithdrawalID ID `json:"batch_withdrawal_id"`
	// Status is the payout status as sent, upper case ("CREATING", "WAITING", "PROCESSING",
	// "SENDING", "FINISHED", "FAILED", "REJECTED").
	Status string `json:"status"`
	// Error is JovePay's error text for a failed payout ("" when null; an object's JSON text).
	Error string `json:"error,omitempty"`
	// Currency is the paid-out asset.
	Currency string `json:"currency"`
	// Amount is the paid-out amount.
	Amount paykit.Decimal `json:"amount"`
	// Address is the destination wallet.
	Address string `json:"address"`
	// Fee is the network fee, when sent (0 when null).
	Fee paykit.Decimal `json:"fee"`
	// ExtraID is the destination memo / tag, if any.
	ExtraID string `json:"extra_id,omitempty"`
	// Hash is the payout transaction hash, once sent.
	Hash string `json:"hash,omitempty"`
	// IPNCallbackURL is where this IPN was sent.
	IPNCallbackURL string `json:"ipn_callback_url,omitempty"`
	// CreatedAt is when the payout was created (zero when null).
	CreatedAt time.Time `json:"created_at,omitzero"`
	// RequestedAt is when the payout was requested from the network.
	RequestedAt time.Time `json:"requested_at,omitzero"`
	// UpdatedAt is when the payout last changed.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// UnmarshalJSON decodes tolerantly (ids and memos as strings or numbers, ISO or unix times).
func (w *WithdrawalIPN) UnmarshalJSON(b []byte) error {
	type plain WithdrawalIPN
	*w = WithdrawalIPN{}
	s := struct {
		*plain
		Error       json.RawMessage `json:"error"`
		ExtraID     jsonx.ID        `json:"extra_id"`
		CreatedAt   jsonx.Time      `json:"created_at"`
		RequestedAt jsonx.Time      `json:"requested_at"`
		UpdatedAt   jsonx.Time      `json:"updated_at"`
	}{plain: (*plain)(w)}
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	w.Error, w.ExtraID = rawText(s.Error), string(s.ExtraID)
	w.CreatedAt, w.RequestedAt, w.UpdatedAt = s.CreatedAt.Time, s.RequestedAt.Time, s.UpdatedAt.Time
	return nil
}

// RecurringIPN is the body of a custodial recurring payment IPN.
type RecurringIPN struct {
	// ID is the recurring payment's id.
	ID ID `json:"id"`
	// Status is as sent, upper case ("FINISHED", …).
	Status string `json:"status"`
	// Currency is the charged asset.
	Currency string `json:"currency"`
	// Amount is the charged amount.
	Amount paykit.Decimal `json:"amount"`
	// IPNCallbackURL is where this IPN was sent.
	IPNCallbackURL string `json:"ipn_callback_url,omitempty"`
	// CreatedAt is when the charge was created.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// UpdatedAt is when it last changed.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// UnmarshalJSON decodes tolerantly (see WithdrawalIPN).
func (r *RecurringIPN) UnmarshalJSON(b []byte) error {
	type plain RecurringIPN
	*r = RecurringIPN{}
	s := struct {
		*plain
		CreatedAt jsonx.Time `json:"created_at"`
		UpdatedAt jsonx.Time `json:"updated_at"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	r.CreatedAt, r.UpdatedAt = s.CreatedAt.Time, s.UpdatedAt.Time
	return nil
}

// present records whether a key was sent with a non-null value, without copying it.
type present bool

func (p *present) UnmarshalJSON(b []byte) error {
	*p = string(b) != "null"
	return nil
}

// shape holds the keys that tell the IPN bodies apart.
type shape struct {
	PaymentID         present `json:"payment_id"`
	PaymentStatus     present `json:"payment_status"`
	BatchWithdrawalID present `json:"batch_withdrawal_id"`
	Address           present `json:"address"`
	ID                present `json:"id"`
	Status            present `json:"status"`
}

func (s *shape) kind() IPNKind {
	switch {
	case bool(s.PaymentID || s.PaymentStatus):
		return IPNPayment
	case bool(s.BatchWithdrawalID || s.ID && s.Address):
		return IPNWithdrawal
	case bool(s.ID && s.Status):
		return IPNRecurring
	}
	return IPNUnknown
}

// ParseIPN decodes a verified IPN body into its typed shape, detected from the keys present:
// a non-empty payment_id or payment_status → payment; batch_withdrawal_id, or id with address
// → withdrawal; id with status → custodial recurring; any other JSON object → IPNUnknown with
// only Raw set. A body that is not a JSON object, or whose fields have the wrong types, is an
// error wrapping webhook.ErrInvalidPayload. Verify the signature first (IPNVerifier) —
// ParseIPN trusts its input.
func ParseIPN(payload []byte) (*IPN, error) {
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("jovepay: IPN body is not a JSON object: %w", webhook.ErrInvalidPayload)
	}
	// Payment IPNs are the common case: decode as a payment and classify in the same pass.
	pay := new(PaymentIPN)
	var w paymentWire
	err := w.decode(payload, pay)
	var kind IPNKind
	switch {
	case err == nil:
		s := shape{PaymentID: pay.ID != "", PaymentStatus: pay.Status != "", BatchWithdrawalID: w.BatchWithdrawalID,
			Address: w.Address, ID: w.OtherID, Status: w.OtherStatus}
		kind = s.kind()
	case isSyntaxError(err):
		return nil, fmt.Errorf("jovepay: IPN body: %w: %v", webhook.ErrInvalidPayload, err)
	default:
		// Not decodable as a payment: classify from the keys alone (a withdrawal's numeric fee,
		// say), and report the error if it is a payment after all.
		var s shape
		if serr := json.Unmarshal(payload, &s); serr != nil {
			return nil, fmt.Errorf("jovepay: IPN body: %w: %v", webhook.ErrInvalidPayload, serr)
		}
		if kind = s.kind(); kind == IPNPayment {
			return nil, fmt.Errorf("jovepay: payment IPN: %w: %v", webhook.ErrInvalidPayload, err)
		}
	}
	ipn := &IPN{Kind: kind, Raw: payload}
	switch kind {
	case IPNPayment:
		ipn.Payment = pay
	case IPNWithdrawal:
		ipn.Withdrawal = new(WithdrawalIPN)
		err = ipn.Withdrawal.UnmarshalJSON(payload)
	case IPNRecurring:
		ipn.Recurring = new(RecurringIPN)
		err = ipn.Recurring.UnmarshalJSON(payload)
	default:
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("jovepay: %s IPN: %w: %v", kind, webhook.ErrInvalidPayload, err)
	}
	return ipn, nil
}

func isSyntaxError(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se)
}

// DedupeKey is the key NewIPNHandler dedupes on, computed from Raw alone. IPNs carry neither an
// event id nor a timestamp, so the key is the only replay protection, and it is a function of
// what the signature covers: two bodies that verify under the same signature get the same key,
// whichever of the Node, PHP and Python forms the signature was made over.
//
// The key is built from the body's Node canonical form (webhook.CanonicalSortedJSON with
// webhook.FormNode: values as JSON.parse reads them, so 5077125051, 5077125051.0 and
// 5.077125051e9 are one number, -0 is 0, integers beyond 2^53 are rounded to a double, string
// escapes are decoded, arrays are index-keyed objects and "__proto__" keys are dropped). The PHP
// and Python forms of a body read back to the same Node form, so a signature over any form
// pins the key. Top-level keys are matched exactly:
//
//   - a payment (payment_id or payment_status set, payment_id not empty):
//     "jovepay:payment:<payment_id>:<payment_status>:<actually_paid>", the amount as a decimal
//     without trailing fractional zeros (0 when absent), so 15 and "15.0" agree and a second
//     partial deposit is a new event;
//   - a payout (batch_withdrawal_id, or id with address; id not empty):
//     "jovepay:withdrawal:<id>:<status>";
//   - a custodial recurring payment (id with status): "jovepay:recurring:<id>:<status>";
//   - any other body: "jovepay:sha256:<hex SHA-256 of the Node form>" (of the Python form for
//     the body null, the one body the Node program cannot canonicalize).
//
// A number id is written as JavaScript writes the number, a string id as its text; ':' and '%'
// inside a component are escaped as %3A and %25. A body that has no Node form (not JSON,
// duplicate keys, invalid UTF-8, a number beyond the float64 range: only the opt-in raw-body
// HMAC fallback can accept one, and it signs the exact bytes) gets
// "jovepay:raw-sha256:<hex SHA-256 of Raw>".
func (i *IPN) DedupeKey() string { return dedupeKey(i.Raw, nil) }

// dedupeKey is IPN.DedupeKey of raw. With a verifier, the canonical forms are written with its
// reusable buffers (SortedJSONVerifier.AppendCanonical: the Node form of a usual IPN takes one
// pass and allocates only its text), as NewIPNHandler does; without one, by CanonicalSortedJSON.
func dedupeKey(raw []byte, v *webhook.SortedJSONVerifier) string {
	canonical := func(form webhook.SortedJSONForm) ([]byte, error) {
		if v != nil {
			return v.AppendCanonical(make([]byte, 0, len(raw)+16), raw, form)
		}
		return webhook.CanonicalSortedJSON(raw, form)
	}
	canon, err := canonical(webhook.FormNode)
	if errors.Is(err, webhook.ErrNoCanonicalForm) {
		// JSON.parse + sortObject fails only on null; the Python form is the only one it has.
		canon, err = canonical(webhook.FormPython)
	}
	if err != nil {
		sum := sha256.Sum256(raw)
		return "jovepay:raw-sha256:" + hex.EncodeToString(sum[:])
	}
	var f keyFields
	if f.scan(canon) {
		if key := f.stateKey(); key != "" {
			return key
		}
	}
	sum := sha256.Sum256(canon)
	return "jovepay:sha256:" + hex.EncodeToString(sum[:])
}

// keyFields are the top-level values of a Node-form IPN its dedupe key is made of, as JSON
// text (nil when absent).
type keyFields struct {
	paymentID, paymentStatus, actuallyPaid, batchWithdrawalID, id, address, status []byte
}

// field returns where the value of the top-level key named by the JSON string text k goes, or
// nil for a key the dedupe key does not read.
func (f *keyFields) field(k []byte) *[]byte {
	name := k[1 : len(k)-1]
	if bytes.IndexByte(k, '\\') >= 0 {
		var decoded string
		if json.Unmarshal(k, &decoded) != nil {
			return nil
		}
		name = []byte(decoded)
	}
	switch string(name) {
	case "payment_id":
		return &f.paymentID
	case "payment_status":
		return &f.paymentStatus
	case "actually_paid":
		return &f.actuallyPaid
	case "batch_withdrawal_id":
		return &f.batchWithdrawalID
	case "id":
		return &f.id
	case "address":
		return &f.address
	case "status":
		return &f.status
	}
	return nil
}

// scan reads the top-level members of canon, a JSON text as CanonicalSortedJSON writes it
// (compact, valid), in one pass. It reports false when canon is not an object (or not such a
// text); a key that occurs twice keeps its last value.
func (f *keyFields) scan(canon []byte) bool {
	if len(canon) < 2 || canon[0] != '{' {
		return false
	}
	if string(canon) == "{}" {
		return true
	}
	for pos := 1; ; {
		kend, ok := skipValue(canon, pos)
		if !ok || canon[pos] != '"' || kend >= len(canon) || canon[kend] != ':' {
			return false
		}
		vend, ok := skipValue(canon, kend+1)
		if !ok || vend >= len(canon) {
			return false
		}
		if dst := f.field(canon[pos:kend]); dst != nil {
			*dst = canon[kend+1 : vend]
		}
		switch canon[vend] {
		case ',':
			pos = vend + 1
		case '}':
			return vend == len(canon)-1
		default:
			return false
		}
	}
}

// skipValue returns the end of the compact JSON value starting at pos: after a string's
// closing quote, a container's closing bracket, or a scalar's last byte.
func skipValue(b []byte, pos int) (int, bool) {
	if pos >= len(b) {
		return pos, false
	}
	depth, inString := 0, false
	for i := pos; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
				if depth == 0 {
					return i + 1, true
				}
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return i, i > pos
			}
			if depth--; depth == 0 {
				return i + 1, true
			}
		case c == ',' || c == ':':
			if depth == 0 {
				return i, i > pos
			}
		}
	}
	return len(b), depth == 0 && !inString && len(b) > pos
}

// stateKey returns the state-change key of the IPN (see IPN.DedupeKey), or "" for a shape
// without one.
func (f *keyFields) stateKey() string {
	set := func(v []byte) bool { return len(v) > 0 && string(v) != "null" }
	var kind, id, status string
	switch {
	case set(f.paymentID) || set(f.paymentStatus):
		kind, id, status = "payment", keyText(f.paymentID), keyText(f.paymentStatus)
	case set(f.batchWithdrawalID) || set(f.id) && set(f.address):
		kind, id, status = "withdrawal", keyText(f.id), keyText(f.status)
	case set(f.id) && set(f.status):
		kind, id, status = "recurring", keyText(f.id), keyText(f.status)
	default:
		return ""
	}
	if id == "" {
		return ""
	}
	key := "jovepay:" + kind + ":" + hookpreset.KeyPart(id) + ":" + hookpreset.KeyPart(status)
	if kind == "payment" {
		key += ":" + hookpreset.KeyPart(amountText(f.actuallyPaid))
	}
	return key
}

// keyText returns the text of a Node-form value for a key: a string's value, "" for null or
// absent, and the JSON text of anything else (a number as JavaScript writes it).
func keyText(raw []byte) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		if len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(raw[1:len(raw)-1], '\\') < 0 {
			return string(raw[1 : len(raw)-1]) // no escape: the text is the value (raw is valid JSON)
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// isNormDecimal reports whether s is a non-negative decimal as normDecimal writes it: no sign,
// no exponent, no leading zero before other integer digits, no trailing fractional zero.
func isNormDecimal(s string) bool {
	dot := strings.IndexByte(s, '.')
	intPart, frac := s, ""
	if dot >= 0 {
		intPart, frac = s[:dot], s[dot+1:]
		if frac == "" || frac[len(frac)-1] == '0' {
			return false
		}
	}
	if intPart == "" || (intPart[0] == '0' && len(intPart) > 1) {
		return false
	}
	for _, part := range [2]string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false
			}
		}
	}
	return true
}

// amountText returns a Node-form amount as a decimal without trailing fractional zeros ("0"
// for null or absent), or its keyText when it is not a decimal.
func amountText(raw []byte) string {
	text := keyText(raw)
	if text == "" {
		return "0"
	}
	if raw[0] != '"' && isNormDecimal(text) {
		return text // a number JavaScript wrote without exponent: already in the key's form
	}
	d, err := paykit.ParseDecimal(strings.TrimSpace(text))
	if err != nil {
		return text
	}
	return normDecimal(d)
}
