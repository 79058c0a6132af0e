package jovepay

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/webhook"
)

var ignoreRaw = cmpopts.IgnoreFields(IPN{}, "Raw")

func TestParseIPNFixtures(t *testing.T) {
	cases := []struct {
		fixture string
		want    *IPN
		key     string
	}{
		{"ipn_payment_seed.json", &IPN{Kind: IPNPayment, Payment: &PaymentIPN{
			ID: "123456789", ParentPaymentID: "987654321", Status: StatusFinished, PayAddress: "address",
			PriceAmount: dec("1"), PriceCurrency: "usd", PayAmount: dec("15"), ActuallyPaid: dec("15"),
			ActuallyPaidAtFiat: dec("0"), PayCurrency: "trx", PurchaseID: "123456789",
			OutcomeAmount: dec("14.8106"), OutcomeCurrency: "trx",
			// 17 significant digits: float64 would round this; Decimal keeps every one.
			Fee: &Fee{Currency: "btc", DepositFee: dec("0.09853637216235617"), WithdrawalFee: dec("0"), ServiceFee: dec("0")},
		}}, "jovepay:payment:123456789:finished:15"},
		{"ipn_payment_providers.json", &IPN{Kind: IPNPayment, Payment: &PaymentIPN{
			ID: "4100223344", Status: StatusFinished, PayAddress: "TQ7x…", PriceAmount: dec("25"), PriceCurrency: "usd",
			PayAmount: dec("25.31"), ActuallyPaid: dec("25.31"), PayCurrency: "usdttrc20", OrderID: "A-1001",
			OrderDescription: "Plan", PurchaseID: "5120098877", OutcomeAmount: dec("24.9"), OutcomeCurrency: "usdttrc20",
			Fee: &Fee{Currency: "usdttrc20", DepositFee: dec("0.2"), WithdrawalFee: dec("0"), ServiceFee: dec("0.21")},
		}}, "jovepay:payment:4100223344:finished:25.31"},
		{"ipn_withdrawal_seed.json", &IPN{Kind: IPNWithdrawal, Withdrawal: &WithdrawalIPN{
			ID: "123456789", BatchWithdrawalID: "987654321", Status: "CREATING", Currency: "usdttrc20",
			Amount: dec("50"), Address: "address", IPNCallbackURL: "callback_url",
			CreatedAt: mustTime("2023-07-27T15:29:40.803Z"),
		}}, "jovepay:withdrawal:123456789:CREATING"},
		{"ipn_recurring_seed.json", &IPN{Kind: IPNRecurring, Recurring: &RecurringIPN{
			ID: "1234567890", Status: "FINISHED", Currency: "trx", Amount: dec("12.171365564140688"),
			IPNCallbackURL: "callback_url", CreatedAt: mustTime("2023-07-26T14:20:11.531Z"), UpdatedAt: mustTime("2023-07-26T14:20:21.079Z"),
		}}, "jovepay:recurring:1234567890:FINISHED"},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			body := apitest.Fixture(t, tc.fixture)
			got, err := ParseIPN(body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, decimalExact, ignoreRaw); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if string(got.Raw) != string(body) {
				t.Error("Raw is not the payload")
			}
			if k := got.DedupeKey(); k != tc.key {
				t.Errorf("DedupeKey = %q, want %q", k, tc.key)
			}
		})
	}
}

// TestIDsDecodeAlike: the same payment id as a string (create) and a number (status, IPN)
// is one ID.
func TestIDsDecodeAlike(t *testing.T) {
	var a, b Payment
	if err := json.Unmarshal([]byte(`{"payment_id":"12345678901234567890","purchase_id":5}`), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"payment_id":12345678901234567890,"purchase_id":"5"}`), &b); err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.ID != "12345678901234567890" || a.PurchaseID != b.PurchaseID {
		t.Errorf("ids differ: %q/%q, %q/%q", a.ID, b.ID, a.PurchaseID, b.PurchaseID)
	}
	out, _ := json.Marshal(a.ID)
	if string(out) != `"12345678901234567890"` {
		t.Errorf("ID encodes as %s", out)
	}
}

func TestPaymentTolerantDecoding(t *testing.T) {
	var p Payment
	body := `{"payment_id":1,"payment_status":"mystery_state","price_amount":"10.50","pay_amount":1e-7,
		"payin_extra_id":123456,"order_id":42,"is_fixed_rate":"true","is_fee_paid_by_user":1,
		"created_at":1700000000,"updated_at":"2023-11-14T22:13:20Z","valid_until":null,"payment_extra_ids":[1,2]}`
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != "mystery_state" || p.Status.IsKnown() || p.Status.IsFinal() || p.Status.IsPaid() {
		t.Errorf("unknown status: %q", p.Status)
	}
	if p.PriceAmount.String() != "10.50" || p.PayAmount.String() != "0.0000001" {
		t.Errorf("amounts %s %s", p.PriceAmount, p.PayAmount)
	}
	if p.PayinExtraID != "123456" || p.OrderID != "42" || !p.IsFixedRate || !p.IsFeePaidByUser {
		t.Errorf("tolerant fields: %+v", p)
	}
	if !p.CreatedAt.Equal(p.UpdatedAt) || !p.ValidUntil.IsZero() || string(p.PaymentExtraIDs) != "[1,2]" {
		t.Errorf("times/extra: %v %v %v %s", p.CreatedAt, p.UpdatedAt, p.ValidUntil, p.PaymentExtraIDs)
	}
}

func TestParseIPNShapes(t *testing.T) {
	cases := []struct {
		body string
		kind IPNKind
	}{
		{`{"payment_status":"waiting"}`, IPNPayment},
		{`{"payment_id":null,"id":"1","status":"FINISHED"}`, IPNRecurring},
		{`{"id":"1","address":"T…","status":"SENDING","amount":1}`, IPNWithdrawal},
		{`{"batch_withdrawal_id":2,"status":"FAILED","error":{"reason":"x"}}`, IPNWithdrawal},
		{`{"event":"something_new"}`, IPNUnknown},
		{` {}`, IPNUnknown},
	}
	for _, tc := range cases {
		got, err := ParseIPN([]byte(tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		if got.Kind != tc.kind {
			t.Errorf("%s: kind %s, want %s", tc.body, got.Kind, tc.kind)
		}
		set := 0
		for _, p := range []bool{got.Payment != nil, got.Withdrawal != nil, got.Recurring != nil} {
			if p {
				set++
			}
		}
		if want := map[bool]int{true: 0, false: 1}[tc.kind == IPNUnknown]; set != want {
			t.Errorf("%s: %d typed shapes set, want %d", tc.body, set, want)
		}
	}
	w, _ := ParseIPN([]byte(`{"batch_withdrawal_id":2,"status":"FAILED","error":{"reason":"x"}}`))
	if w.Withdrawal.Error != `{"reason":"x"}` {
		t.Errorf("non-string error lost: %q", w.Withdrawal.Error)
	}
	u, _ := ParseIPN([]byte(`{"event":"something_new"}`))
	if !strings.HasPrefix(u.DedupeKey(), "jovepay:sha256:") || len(u.DedupeKey()) != len("jovepay:sha256:")+64 {
		t.Errorf("unknown key %q", u.DedupeKey())
	}
}

func TestParseIPNInvalid(t *testing.T) {
	for _, body := range []string{
		``, `null`, `[]`, `"x"`, `{`, `{"payment_id":1,"price_amount":"abc"}`,
		`{"payment_id":{"x":1}}`, `{"payment_id":1,"fee":5}`, `{"id":"1","status":"X","amount":"1e999999"}`,
	} {
		_, err := ParseIPN([]byte(body))
		if !errors.Is(err, webhook.ErrInvalidPayload) {
			t.Errorf("%q: err = %v, want ErrInvalidPayload", body, err)
		}
	}
}

func TestDedupeKeyNormalisesAmount(t *testing.T) {
	a, _ := ParseIPN([]byte(`{"payment_id":7,"payment_status":"partially_paid","actually_paid":0.5}`))
	b, _ := ParseIPN([]byte(`{"payment_id":"7","payment_status":"partially_paid","actually_paid":"0.50"}`))
	c, _ := ParseIPN([]byte(`{"payment_id":7,"payment_status":"partially_paid","actually_paid":0.75}`))
	if a.DedupeKey() != b.DedupeKey() {
		t.Errorf("same state, different keys: %q %q", a.DedupeKey(), b.DedupeKey())
	}
	if a.DedupeKey() == c.DedupeKey() {
		t.Error("a second deposit must be a new event")
	}
	z, _ := ParseIPN([]byte(`{"payment_id":7,"payment_status":"waiting","actually_paid":0}`))
	if z.DedupeKey() != "jovepay:payment:7:waiting:0" {
		t.Errorf("key %q", z.DedupeKey())
	}
}

func FuzzParseIPN(f *testing.F) {
	for _, name := range []string{"ipn_payment_seed.json", "ipn_payment_providers.json", "ipn_withdrawal_seed.json", "ipn_recurring_seed.json"} {
		f.Add(apitest.Fixture(f, name))
	}
	f.Add([]byte(`{"payment_id":1e400}`))
	f.Add([]byte(`{"id":"1","status":"X","amount":"-0.000"}`))
	f.Add([]byte(`{"payment_status":"finished","actually_paid":"1E+3"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ipn, err := ParseIPN(body)
		if err != nil {
			if !errors.Is(err, webhook.ErrInvalidPayload) {
				t.Fatalf("error does not wrap ErrInvalidPayload: %v", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		set := 0
		for _, p := range []bool{ipn.Payment != nil, ipn.Withdrawal != nil, ipn.Recurring != nil} {
			if p {
				set++
			}
		}
		if (ipn.Kind == IPNUnknown) != (set == 0) || set > 1 {
			t.Fatalf("kind %s with %d shapes", ipn.Kind, set)
		}
		if ipn.DedupeKey() == "" {
			t.Fatal("empty dedupe key")
		}
		_ = CheckIPN(ipn, Expected{OrderID: "x", PriceAmount: dec("1"), PayCurrency: "btc", PayAmount: dec("1")})
	})
}

// BenchmarkParseIPN parses the seed's payment webhook; the baseline is what a hand-rolled
// handler does, json.Unmarshal into map[string]any (which also loses amount digits to float64).
func BenchmarkParseIPN(b *testing.B) {
	body := apitest.Fixture(b, "ipn_payment_seed.json")
	b.Run("ParseIPN", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			if _, err := ParseIPN(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline_map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
