package jovepaytest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
)

// Drive a payment through its lifecycle and inspect the state JovePay would report.
func ExampleNewServer() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	pay, err := client.CreatePayment(ctx, jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "T-1",
	})
	if err != nil {
		log.Fatal(err)
	}
	_, _ = srv.PayAmount(ctx, pay.ID, paykit.MustDecimal("0.0005")) // half of 0.002 btc
	got, _ := client.GetPayment(ctx, pay.ID)
	fmt.Println(got.Status, got.ActuallyPaid, "of", got.PayAmount)

	child, _ := srv.Redeposit(ctx, pay.ID, paykit.MustDecimal("0.0015"))
	re, _ := client.GetPayment(ctx, child)
	fmt.Println(re.Status, re.IsRepeatedDeposit(), re.ParentPaymentID == pay.ID)
	// Output:
	// partially_paid 0.0005 of 0.002
	// finished true true
}

// Inject the failure an unkeyed create must survive: processed, answer lost.
func ExampleServer_LoseResponseNext() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	srv.LoseResponseNext(1)
	_, err := client.CreatePayment(context.Background(), jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "T-2",
	})
	fmt.Println(err != nil, srv.CountCalls("POST", "/v1/payment"))
	// Output:
	// true 1
}

// Lose only the answer of one endpoint: other requests go through untouched.
func ExampleServer_AddFault() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	srv.AddFault(1, jovepaytest.Fault{LoseResponse: true, Match: jovepaytest.Match("POST", "/v1/payment")})
	ctx := context.Background()
	errStatus := client.Status(ctx) // not matched: answered
	_, err := client.CreatePayment(ctx, jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "T-3",
	})
	fmt.Println(errStatus == nil, err != nil, srv.CountCalls("POST", "/v1/payment"))
	// Output:
	// true true 1
}

// A customer sends ETH to a BTC payment's address: a wrong-asset deposit, held for manual
// resolution by default. The IPN reports the asset and amount received, and jovepay.CheckIPN
// flags it — even once support resolves it to finished.
func ExampleServer_PayWrongAsset() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	exp := jovepay.Expected{OrderID: "T-4", PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd", PayCurrency: "btc"}
	h, err := jovepay.NewIPNHandler(srv.IPNSecret(), func(_ context.Context, ipn *jovepay.IPN) error {
		p, err := ipn.Payment, jovepay.CheckIPN(ipn, exp)
		fmt.Println(p.Status, p.ActuallyPaid, p.PayCurrency, "fulfil:", p.Status.IsPaid() && err == nil)
		if err != nil {
			fmt.Println("  ", err)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	endpoint := httptest.NewServer(h)
	defer endpoint.Close()
	client, _ := srv.NewClient()
	ctx := context.Background()
	pay, err := client.CreatePayment(ctx, jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "T-4",
		IPNCallbackURL: endpoint.URL,
	})
	if err != nil {
		log.Fatal(err)
	}
	exp.PayAmount = pay.PayAmount // 0.002 btc

	_, _ = srv.PayWrongAsset(ctx, pay.ID, jovepaytest.WrongAssetDeposit{Currency: "eth", Amount: paykit.MustDecimal("0.04")})
	_, _ = srv.SetStatus(ctx, pay.ID, jovepay.StatusFinished) // resolved by hand in the dashboard
	// Output:
	// confirming 0.04 eth fulfil: false
	//    jovepay: pay_currency is "eth", order expects "btc"
	// finished 0.04 eth fulfil: false
	//    jovepay: pay_currency is "eth", order expects "btc"
}

// With the dashboard's auto-processing on, a wrong-asset deposit goes all the way to finished:
// only the asset check keeps the order from being fulfilled.
func ExampleWrongAssetDeposit_autoProcess() {
	srv := jovepaytest.NewServer(jovepaytest.WithRate("usdterc20", paykit.MustDecimal("1")))
	defer srv.Close()
	var last *jovepay.IPN
	h, _ := jovepay.NewIPNHandler(srv.IPNSecret(), func(_ context.Context, ipn *jovepay.IPN) error {
		last = ipn // deliveries are synchronous: read after PayWrongAsset returns
		return nil
	})
	endpoint := httptest.NewServer(h)
	defer endpoint.Close()
	client, _ := srv.NewClient()
	ctx := context.Background()
	pay, err := client.CreatePayment(ctx, jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("25"), PriceCurrency: "usd", PayCurrency: "usdttrc20", OrderID: "T-5",
		IPNCallbackURL: endpoint.URL,
	})
	if err != nil {
		log.Fatal(err)
	}
	// USDT on Ethereum instead of Tron: the right token, the wrong network.
	_, err = srv.PayWrongAsset(ctx, pay.ID, jovepaytest.WrongAssetDeposit{
		Currency: "usdterc20", Amount: paykit.MustDecimal("25"), AutoProcess: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	err = jovepay.CheckIPN(last, jovepay.Expected{OrderID: "T-5", PayCurrency: "usdttrc20", PayAmount: pay.PayAmount})
	fmt.Println(last.Payment.Status, last.Payment.PayCurrency, "paid:", last.Payment.Status.IsPaid())
	fmt.Println("wrong asset:", errors.Is(err, jovepay.ErrAssetMismatch))
	// Output:
	// finished usdterc20 paid: true
	// wrong asset: true
}

// A second transfer to a paid payment's address is a repeated deposit: a finished child
// payment with parent_payment_id, which CheckIPN flags so it is not fulfilled as a new order.
func ExampleServer_Redeposit() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	exp := jovepay.Expected{OrderID: "T-6", PayCurrency: "btc"}
	h, _ := jovepay.NewIPNHandler(srv.IPNSecret(), func(_ context.Context, ipn *jovepay.IPN) error {
		p, err := ipn.Payment, jovepay.CheckIPN(ipn, exp)
		fmt.Println(p.Status, "repeated:", errors.Is(err, jovepay.ErrRepeatedDeposit), "fulfil:", p.Status.IsPaid() && err == nil)
		return nil
	})
	endpoint := httptest.NewServer(h)
	defer endpoint.Close()
	client, _ := srv.NewClient()
	ctx := context.Background()
	pay, err := client.CreatePayment(ctx, jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("100"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "T-6",
		IPNCallbackURL: endpoint.URL,
	})
	if err != nil {
		log.Fatal(err)
	}
	exp.PayAmount = pay.PayAmount
	_, _ = srv.Pay(ctx, pay.ID)
	_, _ = srv.Redeposit(ctx, pay.ID, pay.PayAmount)
	// Output:
	// confirming repeated: false fulfil: false
	// confirmed repeated: false fulfil: false
	// sending repeated: false fulfil: false
	// finished repeated: false fulfil: true
	// finished repeated: true fulfil: false
}
