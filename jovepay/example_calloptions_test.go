package jovepay_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
)

// Per-call options: a header, a timeout and a retry limit for one call, and what came back
// besides the payment.
func ExampleClient_GetPayment_callOptions() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	created, err := client.CreatePayment(ctx, jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("49.99"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "A-1001",
	})
	if err != nil {
		log.Fatal(err)
	}

	var info paykit.ResponseInfo
	pay, err := client.GetPayment(ctx, created.ID,
		paykit.WithHeader("X-Trace-Id", "order-A-1001"),
		paykit.WithTimeout(5*time.Second),
		paykit.WithMaxRetries(1),
		paykit.WithResponseInfo(&info))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pay.OrderID(), pay.Status)
	fmt.Println("status", info.StatusCode, "after", info.Attempts, "attempt(s)")

	// JovePay has no idempotency keys: asking for one fails before anything is sent.
	_, err = client.CreatePayment(ctx, jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("49.99"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "A-1002",
	}, paykit.WithIdempotencyKey("A-1002"))
	var vErr *paykit.ValidationError
	fmt.Println("idempotency key refused:", errors.As(err, &vErr))
	// Output:
	// A-1001 waiting
	// status 200 after 1 attempt(s)
	// idempotency key refused: true
}

// Do reaches an endpoint the client does not wrap, with the same API key, retries and error
// decoding; DoJWT does the same for the endpoints that also need the JWT.
func ExampleClient_Do() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	var min struct {
		CurrencyFrom string         `json:"currency_from"`
		MinAmount    paykit.Decimal `json:"min_amount"`
	}
	if err := client.Do(ctx, "GET", "/min-amount?currency_from=btc", nil, &min); err != nil {
		log.Fatal(err)
	}
	fmt.Println("minimum", min.MinAmount, min.CurrencyFrom)

	var page struct {
		Data []jovepay.Payment `json:"data"`
	}
	if err := client.DoJWT(ctx, "GET", "/payment/?limit=10&page=0", nil, &page); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Data), "payments")

	err = client.Do(ctx, "GET", "/payment/404", nil, nil)
	var apiErr *paykit.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code)
	}

	// A path that leaves the base URL is refused before anything is sent.
	err = client.Do(ctx, "GET", "https://elsewhere.example/v1/status", nil, nil)
	var vErr *paykit.ValidationError
	fmt.Println("refused:", errors.As(err, &vErr))
	// Output:
	// minimum 0.0002 btc
	// 0 payments
	// 404 NOT_FOUND
	// refused: true
}

// WaitForPayment polls until the payment reaches a final status, for servers that cannot
// receive IPNs.
func ExampleClient_WaitForPayment() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pay, err := client.CreatePayment(ctx, jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("49.99"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "A-1001",
	})
	if err != nil {
		log.Fatal(err)
	}
	go func() { _, _ = srv.Pay(ctx, pay.ID) }() // the customer pays; the fake moves it along

	final, err := client.WaitForPayment(ctx, pay.ID,
		jovepay.WithPollInterval(10*time.Millisecond, 50*time.Millisecond),
		jovepay.WithCallOptions(paykit.WithTimeout(2*time.Second)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(final.OrderID(), final.Status, "paid:", final.IsPaid())
	// Output:
	// A-1001 finished paid: true
}
