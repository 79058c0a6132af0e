package jovepay

// PaymentStatus is a payment's payment_status. Values JovePay adds later pass through unchanged;
// IsKnown tells them apart.
type PaymentStatus string

// Payment statuses (NOWPayments' documented lifecycle, which JovePay follows):
//
//	waiting → confirming → confirmed → sending → finished
//	        ↘ partially_paid, failed, expired, refunded
const (
	// StatusWaiting: created, waiting for the customer's transfer.
	StatusWaiting PaymentStatus = "waiting"
	// StatusConfirming: the transfer is seen on chain, not yet confirmed.
	StatusConfirming PaymentStatus = "confirming"
	// StatusConfirmed: the transfer has enough confirmations; JovePay has not yet forwarded the
	// funds to the merchant's wallet.
	StatusConfirmed PaymentStatus = "confirmed"
	// StatusSending: JovePay is forwarding the funds to the merchant's payout wallet.
	StatusSending PaymentStatus = "sending"
	// StatusPartiallyPaid: less than pay_amount arrived. Never fulfil on it; later deposits to
	// the same address arrive as child payments (see Payment.IsRepeatedDeposit).
	StatusPartiallyPaid PaymentStatus = "partially_paid"
	// StatusFinished: the funds reached the merchant's wallet. The only paid status.
	StatusFinished PaymentStatus = "finished"
	// StatusFailed: the payment failed (an error on JovePay's side or the chain's).
	StatusFailed PaymentStatus = "failed"
	// StatusRefunded: the funds were sent back to the customer.
	StatusRefunded PaymentStatus = "refunded"
	// StatusExpired: nothing arrived in time (7 days; 20 minutes for a fixed-rate quote).
	StatusExpired PaymentStatus = "expired"
)

// IsKnown reports whether s is one of the documented statuses.
func (s PaymentStatus) IsKnown() bool {
	switch s {
	case StatusWaiting, StatusConfirming, StatusConfirmed, StatusSending, StatusPartiallyPaid,
		StatusFinished, StatusFailed, StatusRefunded, StatusExpired:
		return true
	}
	return false
}

// IsTerminal reports whether the payment will not change again: finished, failed, refunded or
// expired (§3.4's final set). partially_paid is not final: the payment can still expire or be
// settled by JovePay's support, and more money arrives as separate child payments. Unknown
// statuses are not final.
func (s PaymentStatus) IsTerminal() bool {
	switch s {
	case StatusFinished, StatusFailed, StatusRefunded, StatusExpired:
		return true
	}
	return false
}

// IsPaid reports whether the order may be fulfilled: only finished. Decision on confirmed and
// sending: §3.4 lists them as in progress — the customer's funds are confirmed on chain but not
// yet in the merchant's wallet, and forwarding can still fail — so they are not paid. A merchant
// who accepts that risk can test for them explicitly. partially_paid is never paid.
func (s PaymentStatus) IsPaid() bool { return s == StatusFinished }

// String returns the status text.
func (s PaymentStatus) String() string { return string(s) }

// MetadataOrderID is the JSON name of the payment's order id. JovePay has no metadata: the
// merchant's order id is a first-class field (order_id; CreatePaymentParams.OrderID), and
// Payment.OrderID and IPN.OrderID return it. The constant names the field, so code that
// correlates orders reads the same in every provider package.
const MetadataOrderID = "order_id"

// IsPaid reports whether the payment is finished (see PaymentStatus.IsPaid).
func (p *Payment) IsPaid() bool { return p != nil && p.Status.IsPaid() }

// IsTerminal reports whether the payment will not change again (see PaymentStatus.IsTerminal).
func (p *Payment) IsTerminal() bool { return p != nil && p.Status.IsTerminal() }

// IsPaid reports whether the IPN is a payment IPN whose payment is finished. Withdrawal and
// recurring IPNs are never paid.
func (i *IPN) IsPaid() bool { return i != nil && i.Payment.IsPaid() }

// IsTerminal reports whether the IPN is a payment IPN whose payment will not change again.
func (i *IPN) IsTerminal() bool { return i != nil && i.Payment.IsTerminal() }

// OrderID returns the order id of a payment IPN (its order_id field), or "".
func (i *IPN) OrderID() string {
	if i == nil || i.Payment == nil {
		return ""
	}
	return i.Payment.OrderID()
}
