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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.NoError(t, err)
		return pay
	}
	status := func(id jovepay.ID) *jovepay.Payment {
		t.Helper()
		p, err := srv.Payment(id)
		require.NoError(t, err)
		return p
	}
	eth := func(amount string) jovepaytest.WrongAssetDeposit {
		return jovepaytest.WrongAssetDeposit{Currency: "eth", Amount: paykit.MustDecimal(amount)}
	}

	// Held (the default): one IPN, confirming, reporting the asset and amount received, with the
	// keys of JovePay's payment webhook example and nothing invented.
	p := create("WA-1", "btc", "100", true)
	id, err := srv.PayWrongAsset(ctx, p.ID, eth("0.04"))
	require.NoError(t, err, "PayWrongAsset = %s", id)
	require.Equal(t, p.ID, id, "PayWrongAsset")
	got := recv.all()
	require.Len(t, got, 1, "IPNs")
	ipn := got[0]
	var keys []string
	for k := range ipn {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	wantKeys := "actually_paid actually_paid_at_fiat fee invoice_id order_description order_id outcome_amount outcome_currency " +
		"parent_payment_id pay_address pay_amount pay_currency payin_extra_id payment_extra_ids payment_id payment_status " +
		"price_amount price_currency purchase_id"
	assert.Equal(t, wantKeys, strings.Join(keys, " "), "IPN keys %v", keys)
	fee, _ := ipn["fee"].(map[string]any)
	assert.Equal(t, "confirming", ipn["payment_status"], "wrong-asset IPN %v", ipn)
	assert.Equal(t, "eth", ipn["pay_currency"], "wrong-asset IPN %v", ipn)
	assert.Equal(t, json.Number("0.04"), ipn["actually_paid"], "wrong-asset IPN %v", ipn)
	assert.Equal(t, json.Number("100"), ipn["actually_paid_at_fiat"], "wrong-asset IPN %v", ipn)
	assert.Equal(t, json.Number("0.002"), ipn["pay_amount"], "wrong-asset IPN %v", ipn)
	assert.Equal(t, "btc", ipn["outcome_currency"], "wrong-asset IPN %v", ipn)
	assert.Nil(t, ipn["parent_payment_id"], "wrong-asset IPN %v", ipn)
	assert.Equal(t, p.PayAddress, ipn["pay_address"], "wrong-asset IPN %v", ipn)
	assert.Equal(t, "eth", fee["currency"], "wrong-asset IPN %v", ipn)
	st := status(p.ID)
	assert.Equal(t, jovepay.StatusConfirming, st.Status, "held payment %+v", st)
	assert.Equal(t, "eth", st.Network, "held payment %+v", st)
	assert.NotEmpty(t, st.PayinHash, "held payment %+v", st)
	assert.Empty(t, st.OriginType, "held payment %+v", st)
	// Resolved by hand: SetStatus; the payout is the deposit valued in btc, less the fee.
	_, err = srv.SetStatus(ctx, p.ID, jovepay.StatusFinished)
	require.NoError(t, err)
	st = status(p.ID)
	assert.Equal(t, "0.00199", st.OutcomeAmount.String(), "resolved payment %+v", st)
	assert.Equal(t, "btc", st.OutcomeCurrency, "resolved payment %+v", st)
	assert.Equal(t, "eth", st.PayCurrency, "resolved payment %+v", st)
	// A later deposit to the same address is a repeated one, in the order's asset (btc), even
	// though the payment now reports eth; a wrong asset sent again is converted to btc.
	child, err := srv.Redeposit(ctx, p.ID, paykit.MustDecimal("0.001"))
	require.NoError(t, err)
	ch := status(child)
	assert.Equal(t, "btc", ch.PayCurrency, "re-deposit after a wrong asset: %+v", ch)
	assert.Equal(t, "50", ch.PriceAmount.String(), "re-deposit after a wrong asset: %+v", ch)
	assert.Equal(t, p.ID, ch.ParentPaymentID, "re-deposit after a wrong asset: %+v", ch)
	child2, err := srv.PayWrongAsset(ctx, p.ID, eth("0.02"))
	require.NoError(t, err, "wrong asset on a paid payment = %s", child2)
	require.NotEqual(t, p.ID, child2, "wrong asset on a paid payment: want a child")
	ch = status(child2)
	assert.Equal(t, "btc", ch.PayCurrency, "converted re-deposit: %+v", ch)
	assert.Equal(t, "0.001", ch.ActuallyPaid.String(), "converted re-deposit: %+v", ch)
	assert.True(t, ch.IsRepeatedDeposit(), "converted re-deposit: %+v", ch)
	assert.Equal(t, jovepay.StatusFinished, ch.Status, "converted re-deposit: %+v", ch)

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
		_, err := srv.PayWrongAsset(ctx, q.ID, tc.dep)
		require.NoError(t, err)
		var seq []string
		for _, b := range recv.all()[before:] {
			seq = append(seq, b["payment_status"].(string))
		}
		assert.Equal(t, tc.want, strings.Join(seq, " "), "%+v: IPNs", tc.dep)
	}

	// The right token on the wrong network.
	u := create("WA-3", "usdttrc20", "25", false)
	_, err = srv.PayWrongAsset(ctx, u.ID, jovepaytest.WrongAssetDeposit{Currency: "usdterc20", Amount: paykit.MustDecimal("25")})
	require.NoError(t, err)
	st = status(u.ID)
	assert.Equal(t, "usdterc20", st.PayCurrency, "wrong network: %+v", st)
	assert.Equal(t, "eth", st.Network, "wrong network: %+v", st)
	assert.Equal(t, "trx", u.Network, "wrong network: %+v", st)

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
		if assert.Error(t, err, tc.name) {
			assert.Equal(t, tc.transition, errors.Is(err, jovepaytest.ErrTransition), "%s: err = %v, ErrTransition", tc.name, err)
		}
	}
	st = status(w.ID)
	assert.Equal(t, jovepay.StatusWaiting, st.Status, "refused deposits changed the payment: %+v", st)
	assert.True(t, st.ActuallyPaid.IsZero(), "refused deposits changed the payment: %+v", st)
	assert.Equal(t, "btc", st.PayCurrency, "refused deposits changed the payment: %+v", st)
}
