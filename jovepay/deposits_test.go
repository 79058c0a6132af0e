package jovepay_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/paykit-go/paykit/webhook"
)

// ipnLog is an IPN endpoint built with NewIPNHandler that keeps every verified, parsed and
// deduplicated IPN the application function received.
type ipnLog struct {
	mu   sync.Mutex
	ipns []*jovepay.IPN
	url  string
}

func newIPNLog(t *testing.T, ipnSecret string) *ipnLog {
	t.Helper()
	l := &ipnLog{}
	h, err := jovepay.NewIPNHandler(ipnSecret, func(_ context.Context, ipn *jovepay.IPN) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.ipns = append(l.ipns, ipn)
		return nil
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	l.url = srv.URL + "/ipn"
	return l
}

func (l *ipnLog) all() []*jovepay.IPN {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*jovepay.IPN(nil), l.ipns...)
}

// flagged lists the fields CheckIPN reported, each with its sentinel, sorted: "pay_currency=asset".
func flagged(err error) string {
	names := map[error]string{
		jovepay.ErrOrderMismatch: "order", jovepay.ErrAmountMismatch: "amount",
		jovepay.ErrAssetMismatch: "asset", jovepay.ErrRepeatedDeposit: "repeated", jovepay.ErrNotPaymentIPN: "kind",
	}
	var out []string
	for f, sentinel := range mismatchFields(err) {
		if !errors.Is(err, sentinel) {
			out = append(out, f+"=not-wrapped")
			continue
		}
		out = append(out, f+"="+names[sentinel])
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func mismatchFields(err error) map[string]error {
	out := map[string]error{}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			var m *jovepay.MismatchError
			if errors.As(e, &m) {
				out[m.Field] = m.Err
			}
		}
	}
	return out
}

// TestSeedWarningsEndToEnd drives every case the seed warns about through the fake, signed
// IPNs, NewIPNHandler and CheckIPN: the checks must flag each IPN of a warning case, and the
// rule "fulfil when Status.IsPaid() and CheckIPN returns nil" must fire only for real payments.
func TestSeedWarningsEndToEnd(t *testing.T) {
	type step struct {
		status  jovepay.PaymentStatus
		flagged string // flagged(CheckIPN(ipn, order)); "" for a clean IPN
		child   bool   // the IPN is about a child payment (a repeated deposit)
	}
	btcOrder := jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd", PayCurrency: "btc"} // 0.002 btc
	usdtOrder := jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("25"), PriceCurrency: "usd", PayCurrency: "usdttrc20"}
	dec := paykit.MustDecimal
	eth := func(amount string, auto bool, hold jovepay.PaymentStatus) jovepaytest.WrongAssetDeposit {
		return jovepaytest.WrongAssetDeposit{Currency: "eth", Amount: dec(amount), AutoProcess: auto, HoldStatus: hold}
	}
	const (
		confirming = jovepay.StatusConfirming
		confirmed  = jovepay.StatusConfirmed
		sending    = jovepay.StatusSending
		partial    = jovepay.StatusPartiallyPaid
		finished   = jovepay.StatusFinished
	)
	normal := []step{{confirming, "", false}, {confirmed, "", false}, {sending, "", false}, {finished, "", false}}
	asset := "pay_currency=asset"
	cases := []struct {
		name     string
		order    jovepay.CreatePaymentParams
		opts     []jovepaytest.Option
		run      func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error
		want     []step
		fulfils  int // IPNs passing the fulfilment rule
		children int
	}{
		{
			name: "normal payment", order: btcOrder,
			run: func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error {
				_, err := srv.Pay(ctx, id)
				return err
			},
			want: normal, fulfils: 1,
		},
		{
			// Not a warning of the seed: more than pay_amount is still the order paid.
			name: "overpayment", order: btcOrder,
			run: func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error {
				_, err := srv.PayAmount(ctx, id, dec("0.0025"))
				return err
			},
			want: normal, fulfils: 1,
		},
		{
			name: "underpayment", order: btcOrder,
			run: func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error {
				_, err := srv.PayAmount(ctx, id, dec("0.0005"))
				return err
			},
			want: []step{{confirming, "actually_paid=amount", false}, {partial, "actually_paid=amount", false}},
		},
		{
			// The seed: track parent_payment_id "to avoid providing service for partial/underpayments".
			name: "repeated deposit after an underpayment", order: btcOrder,
			run: func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error {
				if _, err := srv.PayAmount(ctx, id, dec("0.0005")); err != nil {
					return err
				}
				_, err := srv.Redeposit(ctx, id, dec("0.0015"))
				return err
			},
			want: []step{{confirming, "actually_paid=amount", false}, {partial, "actually_paid=amount", false},
				{finished, "actually_paid=amount,parent_payment_id=repeated,price_amount=amount", true}},
			children: 1,
		},
		{
			// Only parent_payment_id tells this one apart: same price, same asset, full amount.
			name: "repeated deposit after a full payment", order: btcOrder,
			run: func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error {
				if _, err := srv.Pay(ctx, id); err != nil {
					return err
				}
				_, err := srv.Redeposit(ctx, id, dec("0.002"))
				return err
			},
			want:     append(normal[:4:4], step{finished, "parent_payment_id=repeated", true}),
			fulfils:  1,
			children: 1,
		},
		{
			name: "wrong asset, held for manual resolution, then resolved", order: btcOrder,
			run: func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error {
				if _, err := srv.PayWrongAsset(ctx, id, eth("0.04", false, "")); err != nil {
					return err
				}
				_, err := srv.SetStatus(ctx, id, finished) // support credits it by hand
				return err
			},
			want: []step{{confirming, asset, false}, {finished, asset, false}},
		},
		{
			name: "wrong asset, held as partially_paid", order: btcOrder,
			run: func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error {
				_, err := srv.PayWrongAsset(ctx, id, eth("0.04", false, partial))
				return err
			},
			want: []step{{confirming, asset, false}, {partial, asset, false}},
		},
		{
			// The dangerous one: auto-processing makes it finished; only the asset check stops it.
			name: "wrong asset, auto-processed", order: btcOrder,
			run: func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error {
				_, err := srv.PayWrongAsset(ctx, id, eth("0.04", true, ""))
				return err
			},
			want: []step{{confirming, asset, false}, {confirmed, asset, false}, {sending, asset, false}, {finished, asset, false}},
		},
		{
			name: "wrong asset, auto-processed, worth less than pay_amount", order: btcOrder,
			run: func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error {
				_, err := srv.PayWrongAsset(ctx, id, eth("0.02", true, ""))
				return err
			},
			want: []step{{confirming, asset, false}, {partial, asset, false}},
		},
		{
			name: "right token, wrong network", order: usdtOrder,
			opts: []jovepaytest.Option{jovepaytest.WithRate("usdterc20", dec("1"))},
			run: func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error {
				_, err := srv.PayWrongAsset(ctx, id, jovepaytest.WrongAssetDeposit{Currency: "usdterc20", Amount: dec("25"), AutoProcess: true})
				return err
			},
			want: []step{{confirming, asset, false}, {confirmed, asset, false}, {sending, asset, false}, {finished, asset, false}},
		},
		{
			// "All repeated deposits are converted to the payment's original asset."
			name: "wrong asset sent again after payment", order: btcOrder,
			run: func(ctx context.Context, srv *jovepaytest.Server, id jovepay.ID) error {
				if _, err := srv.Pay(ctx, id); err != nil {
					return err
				}
				_, err := srv.PayWrongAsset(ctx, id, eth("0.04", false, ""))
				return err
			},
			want:     append(normal[:4:4], step{finished, "parent_payment_id=repeated", true}),
			fulfils:  1,
			children: 1,
		},
	}
	forms := []webhook.SortedJSONForm{webhook.FormNode, webhook.FormPHP, webhook.FormPython}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			form := forms[i%len(forms)] // every signing form gets exercised
			srv, c := newFake(t, append([]jovepaytest.Option{jovepaytest.WithSignatureForm(form)}, tc.opts...)...)
			rec := newIPNLog(t, srv.IPNSecret())
			params := tc.order
			params.OrderID, params.IPNCallbackURL = fmt.Sprintf("W-%d", i), rec.url
			pay, err := c.CreatePayment(ctx, params)
			require.NoError(t, err)
			exp := jovepay.Expected{OrderID: params.OrderID, PriceAmount: params.PriceAmount,
				PriceCurrency: params.PriceCurrency, PayCurrency: params.PayCurrency, PayAmount: pay.PayAmount}
			require.NoError(t, tc.run(ctx, srv, pay.ID))

			for j, d := range srv.Deliveries() {
				assert.True(t, d.Delivered, "delivery %d (%s form) not accepted: %+v", j, form, d.Attempts)
				assert.Equal(t, 200, d.Attempts[0].Status, "delivery %d (%s form) not accepted: %+v", j, form, d.Attempts)
			}
			ipns := rec.all()
			require.Len(t, ipns, len(tc.want), "handled")
			fulfils, children := 0, map[jovepay.ID]bool{}
			for j, ipn := range ipns {
				p, want := ipn.Payment, tc.want[j]
				require.Equal(t, jovepay.IPNPayment, ipn.Kind, "IPN %d: kind", j)
				require.NotNil(t, p, "IPN %d: kind %s", j, ipn.Kind)
				err := jovepay.CheckIPN(ipn, exp)
				assert.Equal(t, want.status, p.Status, "IPN %d: status", j)
				assert.Equal(t, want.flagged, flagged(err), "IPN %d: flagged", j)
				assert.Equal(t, want.child, p.ID != pay.ID, "IPN %d: payment %s (parent %q) is a child", j, p.ID, p.ParentPaymentID)
				assert.Equal(t, want.child, p.IsRepeatedDeposit(), "IPN %d: payment %s (parent %q) IsRepeatedDeposit", j, p.ID, p.ParentPaymentID)
				if want.child {
					children[p.ID] = true
					assert.Equal(t, pay.ID, p.ParentPaymentID, "IPN %d: child's parent", j)
					assert.Equal(t, params.PayCurrency, p.PayCurrency, "IPN %d: child's currency", j)
				}
				if want.flagged == asset {
					assert.Equal(t, pay.PayAddress, p.PayAddress, "IPN %d: a wrong-asset deposit to another address", j)
				}
				if p.Status.IsPaid() && err == nil {
					fulfils++
				}
			}
			assert.Equal(t, tc.fulfils, fulfils, "fulfilment rule fired")
			assert.Len(t, children, tc.children, "children")
		})
	}
}

// TestWrongAssetIPNFields: what a wrong-asset IPN says, as CheckIPN and a merchant read it.
func TestWrongAssetIPNFields(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t)
	rec := newIPNLog(t, srv.IPNSecret())
	pay, err := c.CreatePayment(ctx, jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd",
		PayCurrency: "btc", OrderID: "W-F", IPNCallbackURL: rec.url})
	require.NoError(t, err)
	got, err := srv.PayWrongAsset(ctx, pay.ID, jovepaytest.WrongAssetDeposit{Currency: "ETH", Amount: paykit.MustDecimal("0.04"), AutoProcess: true})
	require.NoError(t, err, "PayWrongAsset = %s", got)
	require.Equal(t, pay.ID, got, "PayWrongAsset: want the payment itself")
	ipns := rec.all()
	last := ipns[len(ipns)-1].Payment
	assert.Equal(t, jovepay.StatusFinished, last.Status, "finished wrong-asset IPN: %+v", last)
	assert.Equal(t, "eth", last.PayCurrency, "finished wrong-asset IPN: %+v", last)
	assert.Equal(t, "0.04", last.ActuallyPaid.String(), "ActuallyPaid")
	assert.Equal(t, "100", last.ActuallyPaidAtFiat.String(), "ActuallyPaidAtFiat")
	assert.Equal(t, "0.002", last.PayAmount.String(), "PayAmount")
	assert.Equal(t, "100", last.PriceAmount.String(), "PriceAmount")
	assert.Equal(t, "btc", last.OutcomeCurrency, "finished wrong-asset IPN: %+v", last)
	assert.Equal(t, "0.00199", last.OutcomeAmount.String(), "OutcomeAmount")
	if assert.NotNil(t, last.Fee, "finished wrong-asset IPN: %+v", last) {
		assert.Equal(t, "eth", last.Fee.Currency, "fee %+v", last.Fee)
	}
	assert.True(t, last.IsWrongAsset("btc"), "IsWrongAsset(btc) = %v, IsRepeatedDeposit = %v", last.IsWrongAsset("btc"), last.IsRepeatedDeposit())
	assert.False(t, last.IsWrongAsset("ETH"), "IsWrongAsset(btc) = %v, IsRepeatedDeposit = %v", last.IsWrongAsset("btc"), last.IsRepeatedDeposit())
	assert.False(t, last.IsRepeatedDeposit(), "IsWrongAsset(btc) = %v, IsRepeatedDeposit = %v", last.IsWrongAsset("btc"), last.IsRepeatedDeposit())
	var m *jovepay.MismatchError
	err = jovepay.CheckIPN(ipns[len(ipns)-1], jovepay.Expected{PayCurrency: "btc"})
	if assert.ErrorAs(t, err, &m, "CheckIPN") {
		assert.Equal(t, `jovepay: pay_currency is "eth", order expects "btc"`, m.Error(), "CheckIPN")
	}
	// GET /payment/{id} tells the same story.
	st, err := c.GetPayment(ctx, pay.ID)
	require.NoError(t, err, "status: %+v", st)
	assert.Equal(t, "eth", st.PayCurrency, "status: %+v", st)
	assert.Equal(t, "eth", st.Network, "status: %+v", st)
	assert.Equal(t, jovepay.StatusFinished, st.Status, "status: %+v", st)
	assert.NotEmpty(t, st.PayoutHash, "status: %+v", st)
	assert.ErrorIs(t, jovepay.CheckPayment(st, jovepay.Expected{PayCurrency: "btc"}), jovepay.ErrAssetMismatch, "CheckPayment")
}
