package jovepaytest_test

import (
	"context"
	"fmt"
	"log"

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
	_ = srv.Pay(ctx, pay.ID, paykit.MustDecimal("0.0005")) // half of 0.002 btc
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
	fmt.Println(err != nil, srv.Count("POST", "/v1/payment"))
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
	fmt.Println(errStatus == nil, err != nil, srv.Count("POST", "/v1/payment"))
	// Output:
	// true true 1
}
