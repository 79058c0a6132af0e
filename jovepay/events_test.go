package jovepay

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/paykit-go/paykit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
			// 17 significant digits: float64 would round this; paykit.Decimal keeps every one.
			Fee: &Fee{Currency: "btc", DepositFee: dec("0.09853637216235617"), WithdrawalFee: dec("0"), ServiceFee: dec("0")},
		}}, "jovepay:payment:123456789:finished:15"},
		{"ipn_payment_providers.json", &IPN{Kind: IPNPayment, Payment: &PaymentIPN{
			ID: "4100223344", Status: StatusFinished, PayAddress: "TQ7x…", PriceAmount: dec("25"), PriceCurrency: "usd",
			PayAmount: dec("25.31"), ActuallyPaid: dec("25.31"), PayCurrency: "usdttrc20", orderID: "A-1001",
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
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(tc.want, got, decimalExact, ignoreRaw, cmp.AllowUnexported(Payment{})), "(-want +got)")
			assert.Equal(t, string(body), string(got.Raw), "Raw is not the payload")
			assert.Equal(t, tc.key, got.DedupeKey(), "DedupeKey")
		})
	}
}

// TestIDsDecodeAlike: the same payment id as a string (create) and a number (status, IPN)
// is one ID.
func TestIDsDecodeAlike(t *testing.T) {
	var a, b Payment
	require.NoError(t, json.Unmarshal([]byte(`{"payment_id":"12345678901234567890","purchase_id":5}`), &a))
	require.NoError(t, json.Unmarshal([]byte(`{"payment_id":12345678901234567890,"purchase_id":"5"}`), &b))
	assert.Equal(t, ID("12345678901234567890"), a.ID, "payment_id as a string")
	assert.Equal(t, a.ID, b.ID, "payment_id as a number")
	assert.Equal(t, a.PurchaseID, b.PurchaseID, "purchase_id")
	out, _ := json.Marshal(a.ID)
	assert.Equal(t, `"12345678901234567890"`, string(out), "ID encodes as %s", out)
}

func TestPaymentTolerantDecoding(t *testing.T) {
	var p Payment
	body := `{"payment_id":1,"payment_status":"mystery_state","price_amount":"10.50","pay_amount":1e-7,
		"payin_extra_id":123456,"order_id":42,"is_fixed_rate":"true","is_fee_paid_by_user":1,
		"created_at":1700000000,"updated_at":"2023-11-14T22:13:20Z","valid_until":null,"payment_extra_ids":[1,2]}`
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	assert.Equal(t, PaymentStatus("mystery_state"), p.Status, "unknown status")
	assert.False(t, p.Status.IsKnown(), "unknown status: %q", p.Status)
	assert.False(t, p.Status.IsTerminal(), "unknown status: %q", p.Status)
	assert.False(t, p.Status.IsPaid(), "unknown status: %q", p.Status)
	assert.Equal(t, "10.50", p.PriceAmount.String(), "amounts %s", p.PayAmount)
	assert.Equal(t, "0.0000001", p.PayAmount.String(), "amounts %s", p.PriceAmount)
	assert.Equal(t, "123456", p.PayinExtraID, "tolerant fields: %+v", p)
	assert.Equal(t, "42", p.OrderID(), "tolerant fields: %+v", p)
	assert.True(t, p.IsFixedRate, "tolerant fields: %+v", p)
	assert.True(t, p.IsFeePaidByUser, "tolerant fields: %+v", p)
	assert.True(t, p.CreatedAt.Equal(p.UpdatedAt), "times/extra: %v %v %v %s", p.CreatedAt, p.UpdatedAt, p.ValidUntil, p.PaymentExtraIDs)
	assert.True(t, p.ValidUntil.IsZero(), "times/extra: %v %v %v %s", p.CreatedAt, p.UpdatedAt, p.ValidUntil, p.PaymentExtraIDs)
	assert.Equal(t, "[1,2]", string(p.PaymentExtraIDs), "times/extra: %v %v %v %s", p.CreatedAt, p.UpdatedAt, p.ValidUntil, p.PaymentExtraIDs)
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
		if !assert.NoError(t, err, tc.body) {
			continue
		}
		assert.Equal(t, tc.kind, got.Kind, "%s: kind", tc.body)
		set := 0
		for _, p := range []bool{got.Payment != nil, got.Withdrawal != nil, got.Recurring != nil} {
			if p {
				set++
			}
		}
		assert.Equal(t, map[bool]int{true: 0, false: 1}[tc.kind == IPNUnknown], set, "%s", tc.body)
	}
	w, _ := ParseIPN([]byte(`{"batch_withdrawal_id":2,"status":"FAILED","error":{"reason":"x"}}`))
	assert.Equal(t, `{"reason":"x"}`, w.Withdrawal.Error, "non-string error lost")
	u, _ := ParseIPN([]byte(`{"event":"something_new"}`))
	assert.True(t, strings.HasPrefix(u.DedupeKey(), "jovepay:sha256:"), "unknown key %q", u.DedupeKey())
	assert.Len(t, u.DedupeKey(), len("jovepay:sha256:")+64, "unknown key")
}

func TestParseIPNInvalid(t *testing.T) {
	for _, body := range []string{
		``, `null`, `[]`, `"x"`, `{`, `{"payment_id":1,"price_amount":"abc"}`,
		`{"payment_id":{"x":1}}`, `{"payment_id":1,"fee":5}`, `{"id":"1","status":"X","amount":"1e999999"}`,
	} {
		_, err := ParseIPN([]byte(body))
		assert.ErrorIs(t, err, webhook.ErrInvalidPayload, "%q", body)
	}
}

func TestDedupeKeyNormalisesAmount(t *testing.T) {
	a, _ := ParseIPN([]byte(`{"payment_id":7,"payment_status":"partially_paid","actually_paid":0.5}`))
	b, _ := ParseIPN([]byte(`{"payment_id":"7","payment_status":"partially_paid","actually_paid":"0.50"}`))
	c, _ := ParseIPN([]byte(`{"payment_id":7,"payment_status":"partially_paid","actually_paid":0.75}`))
	assert.Equal(t, a.DedupeKey(), b.DedupeKey(), "same state, different keys")
	assert.NotEqual(t, a.DedupeKey(), c.DedupeKey(), "a second deposit must be a new event")
	z, _ := ParseIPN([]byte(`{"payment_id":7,"payment_status":"waiting","actually_paid":0}`))
	assert.Equal(t, "jovepay:payment:7:waiting:0", z.DedupeKey(), "key")
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
			require.ErrorIs(t, err, webhook.ErrInvalidPayload, "error does not wrap ErrInvalidPayload")
			return
		}
		require.True(t, json.Valid(body), "accepted invalid JSON %q", body)
		set := 0
		for _, p := range []bool{ipn.Payment != nil, ipn.Withdrawal != nil, ipn.Recurring != nil} {
			if p {
				set++
			}
		}
		require.Equal(t, ipn.Kind == IPNUnknown, set == 0, "kind %s with %d shapes", ipn.Kind, set)
		require.LessOrEqual(t, set, 1, "kind %s with %d shapes", ipn.Kind, set)
		require.NotEmpty(t, ipn.DedupeKey(), "empty dedupe key")
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

// sharesSignature reports whether some form's signature over a also verifies b: then a replay
// of a's delivery with b's bytes is accepted, and the two must have one dedupe key.
func sharesSignature(t *testing.T, v *IPNVerifier, a, b string) bool {
	t.Helper()
	for _, f := range []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython} {
		sig, err := webhook.SignSortedJSONForm("k", []byte(a), f)
		if err != nil {
			continue // no such form for a (PHP and a lone surrogate)
		}
		if v.VerifySignature([]byte(b), sig) == nil {
			return true
		}
	}
	return false
}

// parsedKey is the dedupe key NewIPNHandler uses for body.
func parsedKey(t *testing.T, body string) string {
	t.Helper()
	ipn, err := ParseIPN([]byte(body))
	require.NoError(t, err, "ParseIPN(%s)", body)
	return ipn.DedupeKey()
}

// TestDedupeKeyFollowsSignature: bodies that verify under one signature share a key, across the
// cases where the three canonical forms read numbers, strings and containers differently.
func TestDedupeKeyFollowsSignature(t *testing.T) {
	v, err := NewIPNVerifier("k")
	require.NoError(t, err)
	pay := func(id, status, paid string) string {
		return `{"payment_id":` + id + `,"payment_status":` + status + `,"actually_paid":` + paid + `}`
	}
	same := []struct {
		name string
		a, b []string
	}{
		{"payment id re-encoded", []string{pay("5077125051", `"finished"`, "25.31")}, []string{
			pay("5077125051.0", `"finished"`, "25.31"), pay("5.077125051e9", `"finished"`, "25.31"),
			pay("5077125051.00", `"finished"`, "25.31"), pay("507712505100e-2", `"finished"`, "25.31"),
			pay("0.5077125051E+10", `"finished"`, "25.31"),
		}},
		{"digits beyond double precision", []string{pay("5077125051", `"finished"`, "25.31")}, []string{
			pay("5077125051.0000000001", `"finished"`, "25.310000000000000001"),
		}},
		{"integers above 2^53 (one double)", []string{pay("9007199254740993", `"finished"`, "1")}, []string{
			pay("9007199254740992", `"finished"`, "1"), pay("9007199254740992.4", `"finished"`, "1"),
		}},
		{"negative zero", []string{pay("7", `"waiting"`, "0")}, []string{
			pay("7", `"waiting"`, "-0"), pay("7", `"waiting"`, "-0.0"), pay("7", `"waiting"`, "0e5"), pay("7", `"waiting"`, "-1e-400"),
		}},
		{"1e21 and beyond", []string{pay("7", `"finished"`, "1e21")}, []string{
			pay("7", `"finished"`, "1000000000000000000000"), pay("7", `"finished"`, "1E+21"), pay("7", `"finished"`, "1000000000000000000000.0"),
		}},
		{"string escapes", []string{pay("7", `"finished"`, `"0.5"`)}, []string{
			pay("7", `"\u0066inished"`, `"0.5"`), pay("7", `"\u0066\u0069nished"`, `"\u0030.5"`),
		}},
		{"whitespace and key order", []string{pay("7", `"finished"`, "0.5")}, []string{
			" {\n\t\"actually_paid\" : 0.5 ,\r\n \"payment_status\":\"finished\",\"payment_id\":7}\n",
		}},
		{"__proto__ keys (JSON.parse + assignment drops them)", []string{pay("7", `"finished"`, "0.5")}, []string{
			`{"__proto__":{"payment_id":8},"payment_id":7,"payment_status":"finished","actually_paid":0.5}`,
			`{"payment_id":7,"payment_status":"finished","actually_paid":0.5,"__proto__":null}`,
		}},
		{"arrays and index-keyed objects", []string{`{"event":"new","ids":[5,2],"x":{"0":"a","1":"b"}}`}, []string{
			`{"event":"new","ids":{"1":2,"0":5},"x":["a","b"]}`,
		}},
		{"empty object and empty array", []string{`{"event":"new","meta":{}}`}, []string{`{"event":"new","meta":[]}`}},
		{"non-ASCII escaped", []string{`{"event":"new","note":"Ä-1 café"}`}, []string{`{"event":"new","note":"\u00c4-1 caf\u00e9"}`}},
		{"withdrawal id re-encoded", []string{`{"id":123456789,"batch_withdrawal_id":1,"status":"FINISHED","address":"T"}`}, []string{
			`{"id":1.23456789e8,"batch_withdrawal_id":1.0,"status":"\u0046INISHED","address":"T"}`,
		}},
		{"recurring id re-encoded", []string{`{"id":1234567890,"status":"FINISHED","amount":1}`}, []string{
			`{"status":"FINISHED","amount":1.0,"id":1234567890.0}`,
		}},
	}
	for _, tc := range same {
		for _, a := range tc.a {
			ka := parsedKey(t, a)
			for _, b := range tc.b {
				assert.True(t, sharesSignature(t, v, a, b), "%s: fixture %s does not verify under a signature of %s", tc.name, b, a)
				kb := parsedKey(t, b)
				assert.Equal(t, ka, kb, "%s: one signature, two keys:\n  %s → %s\n  %s → %s", tc.name, a, ka, b, kb)
			}
		}
	}

	// Different events keep different keys.
	distinct := []string{
		pay("7", `"partially_paid"`, "0.5"), pay("7", `"partially_paid"`, "0.75"), pay("7", `"finished"`, "0.75"),
		pay("8", `"finished"`, "0.75"), pay(`"7:finished"`, `"0.75"`, "0"), pay("7", `"finished:0.75"`, "0"),
		`{"event":"a"}`, `{"event":"b"}`,
		`{"id":1,"batch_withdrawal_id":1,"status":"SENDING"}`, `{"id":1,"batch_withdrawal_id":1,"status":"FINISHED"}`,
		`{"id":1,"status":"FINISHED"}`,
	}
	seen := map[string]string{}
	for _, body := range distinct {
		k := parsedKey(t, body)
		other, dup := seen[k]
		assert.False(t, dup, "%s and %s share key %q", other, body, k)
		seen[k] = body
	}
	assert.Equal(t, "jovepay:payment:5077125051:finished:25.31", parsedKey(t, pay("5077125051.0", `"finished"`, `"25.310"`)), "key")
	assert.Equal(t, "jovepay:payment:7%3Ax%25:finished:1", parsedKey(t, pay(`"7:x%"`, `"finished"`, "1")), "escaped key")
}

// TestDedupeKeyDuplicateKeys: a body with a duplicate key has no canonical form, so no
// sorted-JSON signature verifies it (not even one over the text JSON.parse would make of it);
// only the raw-body fallback, which signs the exact bytes, can accept it, and its key hashes
// those bytes.
func TestDedupeKeyDuplicateKeys(t *testing.T) {
	dup := []byte(`{"payment_id":1,"payment_id":2,"payment_status":"finished"}`)
	v, err := NewIPNVerifier("k")
	require.NoError(t, err)
	for _, lastWins := range []string{`{"payment_id":2,"payment_status":"finished"}`, `{"payment_id":1,"payment_status":"finished"}`} {
		sig, err := webhook.SignSortedJSON("k", []byte(lastWins))
		require.NoError(t, err)
		assert.Error(t, v.VerifySignature(dup, sig), "a body with a duplicate key verified under the signature of %s", lastWins)
	}
	sum := sha256.Sum256(dup)
	assert.Equal(t, "jovepay:raw-sha256:"+hex.EncodeToString(sum[:]), (&IPN{Raw: dup}).DedupeKey(), "key")
}

// checkScan compares keyFields.scan on a Node form with encoding/json's decoding of it.
func checkScan(t *testing.T, canon []byte) {
	t.Helper()
	var f keyFields
	ok := f.scan(canon)
	var top map[string]json.RawMessage
	want := canon[0] == '{' && json.Unmarshal(canon, &top) == nil
	require.Equal(t, want, ok, "scan(%s)", canon)
	for name, got := range map[string][]byte{"payment_id": f.paymentID, "payment_status": f.paymentStatus,
		"actually_paid": f.actuallyPaid, "batch_withdrawal_id": f.batchWithdrawalID, "id": f.id,
		"address": f.address, "status": f.status} {
		if ok {
			require.Equal(t, string(top[name]), string(got), "scan(%s): %s (want: what encoding/json says)", canon, name)
		}
	}
}

// FuzzIPNDedupeKey checks the property the replay protection rests on: a body and each of its
// canonical forms have the same key. A signature is over one form's text, so if bodies a and b
// both verify under it, that text is a form of both, and key(a) = key(text) = key(b).
func FuzzIPNDedupeKey(f *testing.F) {
	for _, name := range []string{"ipn_payment_seed.json", "ipn_payment_providers.json", "ipn_withdrawal_seed.json", "ipn_recurring_seed.json"} {
		f.Add(apitest.Fixture(f, name))
	}
	sv, err := webhook.NewSortedJSONVerifier("k")
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body []byte) {
		key := (&IPN{Raw: body}).DedupeKey()
		require.NotEmpty(t, key, "empty key")
		// NewIPNHandler's key, written with the verifier's buffers, is the same.
		require.Equal(t, key, dedupeKey(body, sv), "the handler's key for %q", body)
		var junk keyFields
		_ = junk.scan(body) // any bytes: must not panic or loop
		if canon, err := webhook.CanonicalSortedJSON(body, webhook.FormNode); err == nil {
			checkScan(t, canon)
		}
		for _, form := range []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython} {
			canon, err := webhook.CanonicalSortedJSON(body, form)
			if err != nil {
				continue
			}
			require.Equal(t, key, (&IPN{Raw: canon}).DedupeKey(), "%s form %s: key differs from the body %q", form, canon, body)
		}
	})
}

// BenchmarkIPNDedupeKey measures what the canonical-form key adds to an IPN delivery, against
// the two steps every delivery already pays for: ParseIPN and signature verification.
func BenchmarkIPNDedupeKey(b *testing.B) {
	body := apitest.Fixture(b, "ipn_payment_providers.json")
	ipn, err := ParseIPN(body)
	if err != nil {
		b.Fatal(err)
	}
	v, err := NewIPNVerifier("k")
	if err != nil {
		b.Fatal(err)
	}
	sig, err := webhook.SignSortedJSON("k", body)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("DedupeKey", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			if ipn.DedupeKey() == "" {
				b.Fatal("empty key")
			}
		}
	})
	b.Run("DedupeKey_handler", func(b *testing.B) { // as NewIPNHandler computes it
		sv := v.v
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			if dedupeKey(body, sv) == "" {
				b.Fatal("empty key")
			}
		}
	})
	b.Run("baseline_ParseIPN", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			if _, err := ParseIPN(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline_VerifySignature", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			if err := v.VerifySignature(body, sig); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestKeyFieldsScan(t *testing.T) {
	for _, canon := range []string{
		`{}`, `[]`, `"x"`, `1`, `null`,
		`{"a":"}\"{,:","payment_id":1,"x":{"payment_id":2,"s":"\\"},"y":[{"z":"]"}],"status":"\u0000"}`,
		`{"pay\u006dent_id":"k","actually_paid":-1.5e-7,"id":true,"address":{},"batch_withdrawal_id":null}`,
		`{"payment_status":"finished"}`, `{"":1,"0":[[],{}]}`,
	} {
		checkScan(t, []byte(canon))
	}
	var f keyFields
	assert.True(t, f.scan([]byte(`{"a":"}\"{","payment_id":1,"x":{"payment_id":2}}`)), "nested payment_id taken: %s", f.paymentID)
	assert.Equal(t, "1", string(f.paymentID), "nested payment_id taken: %s", f.paymentID)
	for _, bad := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1}x`, `{"a":"1}`, `{1:2}`} {
		var g keyFields
		assert.False(t, g.scan([]byte(bad)), "scan(%q) accepted", bad)
	}
}

// The key's fast paths give what the general ones do: an unescaped string's text is its value,
// and a number already in normal form is kept as written.
func TestDedupeKeyFastTexts(t *testing.T) {
	for _, raw := range []string{`"abc"`, `"a b:c%"`, `"é"`, `"a\"b"`, `"\u0041"`, `""`, `"\\"`} {
		var want string
		require.NoError(t, json.Unmarshal([]byte(raw), &want))
		assert.Equal(t, want, keyText([]byte(raw)), "keyText(%s)", raw)
	}
	for text, norm := range map[string]bool{"0": true, "15": true, "15.5": true, "0.0123": true, "10": true,
		"100.001": true, "5077125051": true, "0.1": true, "1.0": false, "1.": false, "01": false, "-1": false,
		"1e-7": false, ".5": false, "00.5": false, "1.50": false, "": false, "12a": false, "1.2.3": false} {
		assert.Equal(t, norm, isNormDecimal(text), "isNormDecimal(%q)", text)
		if norm {
			d, err := paykit.ParseDecimal(text)
			require.NoError(t, err)
			assert.Equal(t, normDecimal(d), text, "normal form of %q", text)
		}
	}
}
