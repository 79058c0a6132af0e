package jovepay

import (
	"errors"
	"testing"

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
		if tc.s.IsKnown() != tc.known || tc.s.IsTerminal() != tc.final || tc.s.IsPaid() != tc.paid {
			t.Errorf("%s: known/final/paid = %v/%v/%v, want %v/%v/%v", tc.s,
				tc.s.IsKnown(), tc.s.IsTerminal(), tc.s.IsPaid(), tc.known, tc.final, tc.paid)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	exp := Expected{OrderID: "A-1001", PriceAmount: dec("25.00"), PriceCurrency: "USD", PayCurrency: "usdttrc20", PayAmount: dec("25.31")}
	if err := CheckIPN(good, exp); err != nil {
		t.Fatalf("matching IPN refused: %v", err)
	}
	if err := CheckIPN(good, Expected{}); err != nil {
		t.Fatalf("empty expectation checks nothing, got %v", err)
	}

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
		if len(got) != len(tc.want) {
			t.Errorf("%s: mismatches %v, want %v", tc.name, got, tc.want)
			continue
		}
		for f, sentinel := range tc.want {
			if got[f] != sentinel || !errors.Is(err, sentinel) {
				t.Errorf("%s: field %s = %v, want %v", tc.name, f, got[f], sentinel)
			}
		}
	}

	// The seed's payment webhook is a finished repeated deposit: paid in status, but not to be
	// fulfilled automatically.
	seed, _ := ParseIPN(apitest.Fixture(t, "ipn_payment_seed.json"))
	err = CheckIPN(seed, Expected{PayCurrency: "trx", PayAmount: dec("15")})
	if !errors.Is(err, ErrRepeatedDeposit) || !seed.Payment.IsRepeatedDeposit() || !seed.Payment.Status.IsPaid() {
		t.Errorf("seed payment: err = %v", err)
	}
	if want := `jovepay: parent_payment_id is "987654321": jovepay: payment is a repeated deposit`; err.Error() != want {
		t.Errorf("message %q", err)
	}

	// partially_paid: never paid, and underpaid against the expectation.
	partial, _ := ParseIPN([]byte(`{"payment_id":5,"payment_status":"partially_paid","pay_amount":0.001,"actually_paid":0.0004,"pay_currency":"btc"}`))
	err = CheckIPN(partial, Expected{PayCurrency: "btc", PayAmount: dec("0.001")})
	if partial.Payment.Status.IsPaid() || !errors.Is(err, ErrAmountMismatch) || !partial.Payment.Underpaid() {
		t.Errorf("partial: paid=%v err=%v", partial.Payment.Status.IsPaid(), err)
	}
	var m *MismatchError
	if !errors.As(err, &m) || m.Error() != `jovepay: actually_paid is "0.0004", order expects ">= 0.001"` {
		t.Errorf("mismatch text: %v", err)
	}

	w, _ := ParseIPN(apitest.Fixture(t, "ipn_withdrawal_seed.json"))
	if err := CheckIPN(w, exp); !errors.Is(err, ErrNotPaymentIPN) {
		t.Errorf("withdrawal: %v", err)
	}
	if err := CheckIPN(nil, exp); !errors.Is(err, ErrNotPaymentIPN) {
		t.Errorf("nil: %v", err)
	}
	child, _ := ParseIPN([]byte(`{"payment_id":6,"payment_status":"finished","origin_type":"REPEATED"}`))
	if !child.Payment.IsRepeatedDeposit() {
		t.Error("origin_type REPEATED alone marks a repeated deposit")
	}
}
