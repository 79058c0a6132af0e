package pepay

import (
	"encoding/json"
	"strings"
)

// Status is an invoice status. Unknown values decode as they are, so a status added by Pepay
// passes through; compare with the constants.
type Status string

// Invoice statuses. Paid, expired and canceled are terminal.
const (
	StatusUnpaid    Status = "unpaid"
	StatusUnderpaid Status = "underpaid" // partly paid; the rest must use the locked network/token
	StatusPaid      Status = "paid"
	StatusExpired   Status = "expired"
	// StatusCanceled is also what Pepay's "cancelled" spelling (one payor page) decodes to.
	StatusCanceled Status = "canceled"
)

// IsTerminal reports whether the invoice can no longer change: paid, expired or canceled.
func (s Status) IsTerminal() bool {
	return s == StatusPaid || s == StatusExpired || s == StatusCanceled
}

// IsPaid reports whether the invoice is paid in full (StatusPaid). Underpaid is not paid.
func (s Status) IsPaid() bool { return s == StatusPaid }

// ParseStatus normalizes a status string: case and surrounding space are ignored and
// "cancelled" becomes StatusCanceled. Unknown values are returned lower-cased.
func ParseStatus(s string) Status {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "cancelled" {
		return StatusCanceled
	}
	return Status(s)
}

// UnmarshalJSON decodes a string (or null) through ParseStatus.
func (s *Status) UnmarshalJSON(b []byte) error {
	var v *string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v == nil {
		*s = ""
		return nil
	}
	*s = ParseStatus(*v)
	return nil
}

// PaymentStatus is the status of one payment receipt on an invoice.
type PaymentStatus string

// Payment receipt statuses. Confirmed is terminal.
const (
	PaymentPending     PaymentStatus = "pending"
	PaymentUnderpaid   PaymentStatus = "underpaid"
	PaymentConfirmed   PaymentStatus = "confirmed"
	PaymentManualRetry PaymentStatus = "manual_retry"
)

// IsTerminal reports whether the receipt is final (confirmed). Pepay does not document terminal
// receipt states; confirmed is the SDK's reading.
func (s PaymentStatus) IsTerminal() bool { return s == PaymentConfirmed }

// SettlementStatus is the status of the merchant payout for a payment.
type SettlementStatus string

// Settlement statuses. Settled and failed are terminal.
const (
	SettlementPending    SettlementStatus = "pending"
	SettlementProcessing SettlementStatus = "processing"
	SettlementManual     SettlementStatus = "manual"
	SettlementFailed     SettlementStatus = "failed"
	SettlementSettled    SettlementStatus = "settled"
)

// IsTerminal reports whether the settlement is final: settled or failed.
func (s SettlementStatus) IsTerminal() bool { return s == SettlementSettled || s == SettlementFailed }

// InvoiceType tells merchant invoices from commerce (order) invoices.
type InvoiceType string

// Invoice types.
const (
	InvoiceTypeStandard InvoiceType = "standard"
	InvoiceTypeCommerce InvoiceType = "commerce"
)

// MetadataOrderID is the metadata key this package's examples put the merchant's order id in
// (CreateInvoiceParams.Metadata); Invoice.OrderID and Event.OrderID read it.
const MetadataOrderID = "order_id"

// IsPaid reports whether the invoice is paid in full (status paid).
func (inv *Invoice) IsPaid() bool { return inv != nil && inv.Status.IsPaid() }

// IsTerminal reports whether the invoice can no longer change: paid, expired or canceled.
func (inv *Invoice) IsTerminal() bool { return inv != nil && inv.Status.IsTerminal() }

// OrderID returns metadata.order_id (MetadataOrderID) when it is a string, or "".
func (inv *Invoice) OrderID() string {
	if inv == nil {
		return ""
	}
	return inv.Metadata.Get(MetadataOrderID)
}
