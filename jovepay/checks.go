package jovepay

import (
	"errors"
	"github.com/paykit-go/paykit"
	"strconv"
)

// Sentinels wrapped by the *MismatchError values CheckIPN and CheckPayment return.
var (
	// ErrNotPaymentIPN: the IPN is not a payment IPN (a withdrawal, a recurring payment, unknown).
	ErrNotPaymentIPN = errors.New("jovepay: not a payment IPN")
	// ErrOrderMismatch: the payment belongs to another order.
	ErrOrderMismatch = errors.New("jovepay: payment is for another order")
	// ErrAmountMismatch: the price differs from the order's, or less than expected was paid.
	ErrAmountMismatch = errors.New("jovepay: payment amount does not match the order")
	// ErrAssetMismatch: paid in another asset or price currency than the order's (a wrong-asset
	// deposit when it is the pay currency). These usually need manual resolution.
	ErrAssetMismatch = errors.New("jovepay: payment asset does not match the order")
	// ErrRepeatedDeposit: a repeated deposit (child payment with parent_payment_id); do not
	// fulfil automatically on it.
	ErrRepeatedDeposit = errors.New("jovepay: payment is a repeated deposit")
)

// Expected is what an order expects of its payment. Zero fields are not checked.
type Expected struct {
	// OrderID is the order_id the payment was created with.
	OrderID string
	// PriceAmount is the order's price.
	PriceAmount paykit.Decimal
	// PriceCurrency is the price's currency (compared case-insensitively).
	PriceCurrency string
	// PayCurrency is the asset the customer was asked to pay in.
	PayCurrency string
	// PayAmount is the crypto amount the customer was asked to send (CreatePayment's
	// PayAmount); actually_paid must reach it.
	PayAmount paykit.Decimal
}

// MismatchError is one difference between a payment and what its order expected.
type MismatchError struct {
	// Field is the payment field that differs: "order_id", "price_amount", "price_currency",
	// "pay_currency", "actually_paid", "parent_payment_id" or "kind".
	Field string
	// Want is the expected value, Got the value the payment carries.
	Want, Got string
	// Err is the sentinel for the kind of mismatch (ErrAmountMismatch, ErrAssetMismatch…).
	Err error
}

// Error reads like `jovepay: pay_currency is "eth", order expects "btc"`.
func (e *MismatchError) Error() string {
	if e.Want == "" {
		return "jovepay: " + e.Field + " is " + strconv.Quote(e.Got) + ": " + e.Err.Error()
	}
	return "jovepay: " + e.Field + " is " + strconv.Quote(e.Got) + ", order expects " + strconv.Quote(e.Want)
}

// Unwrap returns the sentinel.
func (e *MismatchError) Unwrap() error { return e.Err }

// CheckIPN checks a verified payment IPN against the order it claims to pay, as JovePay's
// guide asks ("always validate amount and asset type from IPN"): the order id, the price, the pay asset,
// that actually_paid reaches the expected pay amount (in the expected asset; not compared after
// a wrong-asset deposit, which is a mismatch already), and that it is not a repeated deposit. It
// returns nil or every mismatch found (errors.Join of *MismatchError; test with errors.Is and
// the sentinels, or errors.As). It does not look at the status: fulfil only when this returns
// nil AND Status.IsPaid().
func CheckIPN(ipn *IPN, exp Expected) error {
	if ipn == nil || ipn.Payment == nil {
		kind := "nil"
		if ipn != nil {
			kind = string(ipn.Kind)
		}
		return &MismatchError{Field: "kind", Want: string(IPNPayment), Got: kind, Err: ErrNotPaymentIPN}
	}
	return CheckPayment(ipn.Payment, exp)
}

// CheckPayment is CheckIPN for a payment fetched with GetPayment or ListPayments.
func CheckPayment(p *Payment, exp Expected) error {
	var errs []error
	add := func(field, want, got string, sentinel error) {
		errs = append(errs, &MismatchError{Field: field, Want: want, Got: got, Err: sentinel})
	}
	if exp.OrderID != "" && p.OrderID() != exp.OrderID {
		add("order_id", exp.OrderID, p.OrderID(), ErrOrderMismatch)
	}
	if exp.PriceCurrency != "" && !sameCurrency(p.PriceCurrency, exp.PriceCurrency) {
		add("price_currency", exp.PriceCurrency, p.PriceCurrency, ErrAssetMismatch)
	}
	if !exp.PriceAmount.IsZero() && !p.PriceAmount.Equal(exp.PriceAmount) {
		add("price_amount", exp.PriceAmount.String(), p.PriceAmount.String(), ErrAmountMismatch)
	}
	wrongAsset := exp.PayCurrency != "" && p.IsWrongAsset(exp.PayCurrency)
	if wrongAsset {
		add("pay_currency", exp.PayCurrency, p.PayCurrency, ErrAssetMismatch)
	}
	// actually_paid is counted in the asset received: after a wrong-asset deposit it is not
	// comparable with the expected pay amount, and the asset mismatch already rejects the IPN.
	if !wrongAsset && !exp.PayAmount.IsZero() && p.ActuallyPaid.LessThan(exp.PayAmount) {
		add("actually_paid", ">= "+exp.PayAmount.String(), p.ActuallyPaid.String(), ErrAmountMismatch)
	}
	if p.IsRepeatedDeposit() {
		add("parent_payment_id", "", string(p.ParentPaymentID), ErrRepeatedDeposit)
	}
	return errors.Join(errs...)
}
