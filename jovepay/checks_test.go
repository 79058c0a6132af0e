package jovepay

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/apitest"
)

func TestPaymentStatus(t *testing.T) {
	cases := []struct {
		s                  PaymentStatus
		known, final, paid bool
	}{
		{StatusWaiting, true, false, false},
		{StatusConfirming, true, false, false},
		{StatusConfirmed, true, false, false},
		{StatusSending, true, false, false},
		{StatusPartiallyPaid, true, false, false},
		{StatusFinished, true, true, true},
		{StatusFailed, true, true, false},
		{StatusRefunded, true, true, false},
		{StatusExpired, true, true, false},
		{"on_hold", false, false, false},
		{"FINISHED", false, false, false}, // statuses are lower case; no guessing
	}
	for _, tc := range cases {
		assert.Equal(t, tc.known, tc.s.IsKnown(), "%s: IsKnown", tc.s)
		assert.Equal(t, tc.final, tc.s.IsTerminal(), "%s: IsTerminal", tc.s)
		assert.Equal(t, tc.paid, tc.s.IsPaid(), "%s: IsPaid", tc.s)
	}
}

func mismatches(err error) map[string]error {
	out := map[string]error{}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			var m *MismatchError
			if errors.As(e, &m) {
				out[m.Field] = m.Err
			}
		}
	}
	return out
}

func TestCheckIPN(t *testing.T) {
	good, err := ParseIPN(apitest.Fixture(t, "ipn_payment_providers.json"))
	require.NoError(t, err)
	exp := Expected{OrderID: "A-1001", PriceAmount: dec("25.00"), PriceCurrency: "USD", PayCurrency: "usdttrc20", PayAmount: dec("25.31")}
	require.NoError(t, CheckIPN(good, exp), "matching IPN refused")
	require.NoError(t, CheckIPN(good, Expected{}), "empty expectation checks nothing")

	cases := []struct {
		name string
		exp  Expected
		want map[string]error
	}{
		{"other order", Expected{OrderID: "A-1002"}, map[string]error{"order_id": ErrOrderMismatch}},
		{"other price", Expected{PriceAmount: dec("26")}, map[string]error{"price_amount": ErrAmountMismatch}},
		{"other fiat", Expected{PriceCurrency: "eur"}, map[string]error{"price_currency": ErrAssetMismatch}},
		{"wrong asset", Expected{PayCurrency: "usdterc20"}, map[string]error{"pay_currency": ErrAssetMismatch}},
		{"underpaid", Expected{PayAmount: dec("25.32")}, map[string]error{"actually_paid": ErrAmountMismatch}},
		{"everything", Expected{OrderID: "x", PriceAmount: dec("1"), PriceCurrency: "eur", PayCurrency: "usdttrc20", PayAmount: dec("30")},
			map[string]error{"order_id": ErrOrderMismatch, "price_amount": ErrAmountMismatch, "price_currency": ErrAssetMismatch,
				"actually_paid": ErrAmountMismatch}},
		// actually_paid is in the asset received: after a wrong-asset deposit it is not compared
		// with the expected pay amount (the units differ); the asset mismatch rejects the IPN.
		{"wrong asset, amount in another unit", Expected{PayCurrency: "btc", PayAmount: dec("30")},
			map[string]error{"pay_currency": ErrAssetMismatch}},
	}
	for _, tc := range cases {
		err := CheckIPN(good, tc.exp)
		got := mismatches(err)
		if !assert.Len(t, got, len(tc.want), "%s: mismatches %v, want %v", tc.name, got, tc.want) {
			continue
		}
		for f, sentinel := range tc.want {
			assert.True(t, got[f] == sentinel, "%s: field %s = %v, want %v", tc.name, f, got[f], sentinel)
			assert.ErrorIs(t, err, sentinel, "%s: field %s", tc.name, f)
		}
	}

	// The seed's payment webhook is a finished repeated deposit: paid in status, but not to be
	// fulfilled automatically.
	seed, _ := ParseIPN(apitest.Fixture(t, "ipn_payment_seed.json"))
	err = CheckIPN(seed, Expected{PayCurrency: "trx", PayAmount: dec("15")})
	assert.ErrorIs(t, err, ErrRepeatedDeposit, "seed payment")
	assert.True(t, seed.Payment.IsRepeatedDeposit(), "seed payment: err = %v", err)
	assert.True(t, seed.Payment.Status.IsPaid(), "seed payment: err = %v", err)
	assert.EqualError(t, err, `jovepay: parent_payment_id is "987654321": jovepay: payment is a repeated deposit`, "message")

	// partially_paid: never paid, and underpaid against the expectation.
	partial, _ := ParseIPN([]byte(`{"payment_id":5,"payment_status":"partially_paid","pay_amount":0.001,"actually_paid":0.0004,"pay_currency":"btc"}`))
	err = CheckIPN(partial, Expected{PayCurrency: "btc", PayAmount: dec("0.001")})
	assert.False(t, partial.Payment.Status.IsPaid(), "partial: paid")
	assert.ErrorIs(t, err, ErrAmountMismatch, "partial")
	assert.True(t, partial.Payment.Underpaid(), "partial: underpaid (err=%v)", err)
	var m *MismatchError
	if assert.ErrorAs(t, err, &m, "mismatch") {
		assert.Equal(t, `jovepay: actually_paid is "0.0004", order expects ">= 0.001"`, m.Error(), "mismatch text")
	}

	w, _ := ParseIPN(apitest.Fixture(t, "ipn_withdrawal_seed.json"))
	assert.ErrorIs(t, CheckIPN(w, exp), ErrNotPaymentIPN, "withdrawal")
	assert.ErrorIs(t, CheckIPN(nil, exp), ErrNotPaymentIPN, "nil")
	child, _ := ParseIPN([]byte(`{"payment_id":6,"payment_status":"finished","origin_type":"REPEATED"}`))
	assert.True(t, child.Payment.IsRepeatedDeposit(), "origin_type REPEATED alone marks a repeated deposit")
}
