package jovepaytest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
)

// bodies is an IPN receiver that keeps the raw bodies.
type bodies struct {
	mu  sync.Mutex
	got []map[string]any
}

func (b *bodies) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	_ = d.Decode(&m)
	b.mu.Lock()
	b.got = append(b.got, m)
	b.mu.Unlock()
}

func (b *bodies) all() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]map[string]any(nil), b.got...)
}

func TestPayWrongAsset(t *testing.T) {
	ctx := context.Background()
	recv := &bodies{}
	hook := httptest.NewServer(recv)
	defer hook.Close()
	srv := jovepaytest.NewServer(jovepaytest.WithRate("usdterc20", paykit.MustDecimal("1")))
	defer srv.Close()
	c, _ := srv.NewClient()
	create := func(order, payCur, price string, ipn bool) *jovepay.Payment {
		t.Helper()
		p := jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal(price), PriceCurrency: "usd", PayCurrency: payCur, OrderID: order}
		if ipn {
			p.IPNCallbackURL = hook.URL
		}
		pay, err := c.CreatePayment(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return pay
	}
	status := func(id jovepay.ID) *jovepay.Payment {
		t.Helper()
		p, err := srv.Payment(id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	eth := func(amount string) jovepaytest.WrongAssetDeposit {
		return jovepaytest.WrongAssetDeposit{Currency: "eth", Amount: paykit.MustDecimal(amount)}
	}

	// Held (the default): one IPN, confirming, reporting the asset and amount received, with the
	// keys of JovePay's payment webhook example and nothing invented.
	p := create("WA-1", "btc", "100", true)
	if id, err := srv.PayWrongAsset(ctx, p.ID, eth("0.04")); err != nil || id != p.ID {
		t.Fatalf("PayWrongAsset = %s, %v", id, err)
	}
	got := recv.all()
	if len(got) != 1 {
		t.Fatalf("%d IPNs, want 1", len(got))
	}
	ipn := got[0]
	var keys []string
	for k := range ipn {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	wantKeys := "actually_paid actually_paid_at_fiat fee invoice_id order_description order_id outcome_amount outcome_currency " +
		"parent_payment_id pay_address pay_amount pay_currency payin_extra_id payment_extra_ids payment_id payment_status " +
		"price_amount price_currency purchase_id"
	if strings.Join(keys, " ") != wantKeys {
		t.Errorf("IPN keys %v", keys)
	}
	fee, _ := ipn["fee"].(map[string]any)
	if ipn["payment_status"] != "confirming" || ipn["pay_currency"] != "eth" || ipn["actually_paid"] != json.Number("0.04") ||
		ipn["actually_paid_at_fiat"] != json.Number("100") || ipn["pay_amount"] != json.Number("0.002") ||
		ipn["outcome_currency"] != "btc" || ipn["parent_payment_id"] != nil || ipn["pay_address"] != p.PayAddress || fee["currency"] != "eth" {
		t.Errorf("wrong-asset IPN %v", ipn)
	}
	st := status(p.ID)
	if st.Status != jovepay.StatusConfirming || st.Network != "eth" || st.PayinHash == "" || st.OriginType != "" {
		t.Errorf("held payment %+v", st)
	}
	// Resolved by hand: SetStatus; the payout is the deposit valued in btc, less the fee.
	if _, err := srv.SetStatus(ctx, p.ID, jovepay.StatusFinished); err != nil {
		t.Fatal(err)
	}
	if st := status(p.ID); st.OutcomeAmount.String() != "0.00199" || st.OutcomeCurrency != "btc" || st.PayCurrency != "eth" {
		t.Errorf("resolved payment %+v", st)
	}
	// A later deposit to the same address is a repeated one, in the order's asset (btc), even
	// though the payment now reports eth; a wrong asset sent again is converted to btc.
	child, err := srv.Redeposit(ctx, p.ID, paykit.MustDecimal("0.001"))
	if err != nil {
		t.Fatal(err)
	}
	if ch := status(child); ch.PayCurrency != "btc" || ch.PriceAmount.String() != "50" || ch.ParentPaymentID != p.ID {
		t.Errorf("re-deposit after a wrong asset: %+v", ch)
	}
	child2, err := srv.PayWrongAsset(ctx, p.ID, eth("0.02"))
	if err != nil || child2 == p.ID {
		t.Fatalf("wrong asset on a paid payment = %s, %v; want a child", child2, err)
	}
	if ch := status(child2); ch.PayCurrency != "btc" || ch.ActuallyPaid.String() != "0.001" || !ch.IsRepeatedDeposit() ||
		ch.Status != jovepay.StatusFinished {
		t.Errorf("converted re-deposit: %+v", ch)
	}

	// Hold statuses and auto-processing: the IPN sequence.
	for _, tc := range []struct {
		dep  jovepaytest.WrongAssetDeposit
		want string
	}{
		{jovepaytest.WrongAssetDeposit{Currency: "eth", Amount: paykit.MustDecimal("0.04"), HoldStatus: jovepay.StatusConfirmed}, "confirming confirmed"},
		{jovepaytest.WrongAssetDeposit{Currency: "eth", Amount: paykit.MustDecimal("0.04"), HoldStatus: jovepay.StatusSending}, "confirming confirmed sending"},
		{jovepaytest.WrongAssetDeposit{Currency: "eth", Amount: paykit.MustDecimal("0.04"), HoldStatus: jovepay.StatusPartiallyPaid}, "confirming partially_paid"},
		{jovepaytest.WrongAssetDeposit{Currency: "eth", Amount: paykit.MustDecimal("0.04"), AutoProcess: true}, "confirming confirmed sending finished"},
		{jovepaytest.WrongAssetDeposit{Currency: "eth", Amount: paykit.MustDecimal("0.0399"), AutoProcess: true}, "confirming partially_paid"},
		{jovepaytest.WrongAssetDeposit{Currency: "ltc", Amount: paykit.MustDecimal("1.25"), AutoProcess: true, HoldStatus: jovepay.StatusPartiallyPaid}, "confirming confirmed sending finished"},
	} {
		q := create("WA-2", "btc", "100", true)
		before := len(recv.all())
		if _, err := srv.PayWrongAsset(ctx, q.ID, tc.dep); err != nil {
			t.Fatal(err)
		}
		var seq []string
		for _, b := range recv.all()[before:] {
			seq = append(seq, b["payment_status"].(string))
		}
		if strings.Join(seq, " ") != tc.want {
			t.Errorf("%+v: IPNs %v, want %s", tc.dep, seq, tc.want)
		}
	}

	// The right token on the wrong network.
	u := create("WA-3", "usdttrc20", "25", false)
	if _, err := srv.PayWrongAsset(ctx, u.ID, jovepaytest.WrongAssetDeposit{Currency: "usdterc20", Amount: paykit.MustDecimal("25")}); err != nil {
		t.Fatal(err)
	}
	if st := status(u.ID); st.PayCurrency != "usdterc20" || st.Network != "eth" || u.Network != "trx" {
		t.Errorf("wrong network: %+v", st)
	}

	// Refusals.
	w := create("WA-4", "btc", "100", false)
	for _, tc := range []struct {
		name       string
		id         jovepay.ID
		dep        jovepaytest.WrongAssetDeposit
		transition bool
	}{
		{"same asset", w.ID, jovepaytest.WrongAssetDeposit{Currency: "BTC", Amount: paykit.MustDecimal("0.002")}, true},
		{"final hold status", w.ID, jovepaytest.WrongAssetDeposit{Currency: "eth", Amount: paykit.MustDecimal("0.04"), HoldStatus: jovepay.StatusFinished}, true},
		{"waiting hold status", w.ID, jovepaytest.WrongAssetDeposit{Currency: "eth", Amount: paykit.MustDecimal("0.04"), HoldStatus: jovepay.StatusWaiting}, true},
		{"unsupported asset", w.ID, jovepaytest.WrongAssetDeposit{Currency: "doge", Amount: paykit.MustDecimal("1")}, false},
		{"fiat", w.ID, jovepaytest.WrongAssetDeposit{Currency: "usd", Amount: paykit.MustDecimal("1")}, false},
		{"no amount", w.ID, jovepaytest.WrongAssetDeposit{Currency: "eth"}, false},
		{"unknown payment", "999", eth("0.04"), false},
	} {
		_, err := srv.PayWrongAsset(ctx, tc.id, tc.dep)
		if err == nil || errors.Is(err, jovepaytest.ErrTransition) != tc.transition {
			t.Errorf("%s: err = %v, ErrTransition want %v", tc.name, err, tc.transition)
		}
	}
	if st := status(w.ID); st.Status != jovepay.StatusWaiting || !st.ActuallyPaid.IsZero() || st.PayCurrency != "btc" {
		t.Errorf("refused deposits changed the payment: %+v", st)
	}
}
