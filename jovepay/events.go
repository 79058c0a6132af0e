package jovepay

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
	// Raw is the payload ParseIPN was given (not copied).
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
	Amount Decimal `json:"amount"`
	// Address is the destination wallet.
	Address string `json:"address"`
	// Fee is the network fee, when sent (0 when null).
	Fee Decimal `json:"fee"`
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
	Amount Decimal `json:"amount"`
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

// DedupeKey is the key NewIPNHandler dedupes on. IPNs carry no event id, and JovePay re-sends
// the same body on retries and manual re-triggers, so the key is what identifies one state
// change: "jovepay:payment:<payment_id>:<status>:<actually_paid>" (the amount normalised, so
// 15 and "15.0" agree: a second partial deposit is a new event),
// "jovepay:withdrawal:<id>:<status>", "jovepay:recurring:<id>:<status>", and for unknown
// shapes or a missing id "jovepay:sha256:<hex of the raw body>".
func (i *IPN) DedupeKey() string {
	switch {
	case i.Payment != nil && !i.Payment.ID.IsZero():
		p := i.Payment
		return "jovepay:payment:" + string(p.ID) + ":" + string(p.Status) + ":" + normDecimal(p.ActuallyPaid)
	case i.Withdrawal != nil && !i.Withdrawal.ID.IsZero():
		return "jovepay:withdrawal:" + string(i.Withdrawal.ID) + ":" + i.Withdrawal.Status
	case i.Recurring != nil && !i.Recurring.ID.IsZero():
		return "jovepay:recurring:" + string(i.Recurring.ID) + ":" + i.Recurring.Status
	}
	sum := sha256.Sum256(i.Raw)
	return "jovepay:sha256:" + hex.EncodeToString(sum[:])
}
