package jovepay_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
)

// The standard flow against the in-process fake: minimum, estimate, payment.
func ExampleClient_CreatePayment() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	client, err := jovepay.NewClient(srv.APIKey(), jovepay.WithBaseURL(srv.BaseURL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	min, err := client.MinAmount(ctx, jovepay.MinAmountParams{CurrencyFrom: "btc"})
	if err != nil {
		log.Fatal(err)
	}
	est, err := client.Estimate(ctx, jovepay.EstimateParams{Amount: paykit.MustDecimal("49.99"), CurrencyFrom: "usd", CurrencyTo: "btc"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("estimate", est.EstimatedAmount, "btc; minimum", min.MinAmount, "btc; enough:", est.AtLeast(min))

	pay, err := client.CreatePayment(ctx, jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("49.99"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "A-1001",
	})
	if errors.Is(err, paykit.ErrUnknownOutcome) {
		// The payment may exist: look it up by order id before creating another (or use
		// CreatePaymentOnce).
		log.Fatal(err)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pay.Status, "for", pay.PayAmount, pay.PayCurrency, "order", pay.OrderID())
	// Output:
	// estimate 0.0009998 btc; minimum 0.0002 btc; enough: true
	// waiting for 0.0009998 btc order A-1001
}

// Below the pair's minimum, JovePay refuses with AMOUNT_MINIMAL_ERROR.
func ExampleError() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	_, err := client.CreatePayment(context.Background(), jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("1"), PriceCurrency: "usd", PayCurrency: "btc",
	})
	var apiErr *paykit.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code)
	}
	// Output:
	// 400 AMOUNT_MINIMAL_ERROR
}

// Parse the seed's payment webhook: a finished repeated deposit, whose amounts keep every
// digit.
func ExampleParseIPN() {
	body := []byte(`{"payment_id":123456789,"parent_payment_id":987654321,"invoice_id":null,
		"payment_status":"finished","pay_amount":15,"actually_paid":15,"pay_currency":"trx",
		"price_amount":1,"price_currency":"usd","purchase_id":"123456789",
		"fee":{"currency":"btc","depositFee":0.09853637216235617,"withdrawalFee":0,"serviceFee":0}}`)
	ipn, err := jovepay.ParseIPN(body)
	if err != nil {
		log.Fatal(err)
	}
	p := ipn.Payment
	fmt.Println(ipn.Kind, p.ID, p.Status, p.ActuallyPaid, p.PayCurrency)
	fmt.Println("deposit fee", p.Fee.DepositFee)
	fmt.Println("repeated deposit:", p.IsRepeatedDeposit())
	fmt.Println("dedupe key:", ipn.DedupeKey())
	// Output:
	// payment 123456789 finished 15 trx
	// deposit fee 0.09853637216235617
	// repeated deposit: true
	// dedupe key: jovepay:payment:123456789:finished:15
}

// A partial payment is neither paid nor the amount the order expects.
func ExampleCheckIPN() {
	ipn, _ := jovepay.ParseIPN([]byte(`{"payment_id":5000000007,"payment_status":"partially_paid",
		"order_id":"A-1002","price_amount":49.99,"price_currency":"usd",
		"pay_amount":0.0009998,"actually_paid":0.0004,"pay_currency":"btc"}`))
	err := jovepay.CheckIPN(ipn, jovepay.Expected{
		OrderID: "A-1002", PriceAmount: paykit.MustDecimal("49.99"), PriceCurrency: "usd",
		PayCurrency: "btc", PayAmount: paykit.MustDecimal("0.0009998"),
	})
	fmt.Println("paid:", ipn.Payment.Status.IsPaid())
	fmt.Println("underpaid:", errors.Is(err, jovepay.ErrAmountMismatch))
	fmt.Println(err)
	// Output:
	// paid: false
	// underpaid: true
	// jovepay: actually_paid is "0.0004", order expects ">= 0.0009998"
}

// Mount NewIPNHandler at the ipn_callback_url; it verifies, parses and dedupes.
func ExampleNewIPNHandler() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	h, err := jovepay.NewIPNHandler(srv.IPNSecret(), func(ctx context.Context, ipn *jovepay.IPN) error {
		if ipn.Payment != nil {
			fmt.Println("IPN:", ipn.Payment.OrderID(), ipn.Payment.Status)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	endpoint := httptest.NewServer(h) // in production: http.Handle("/jovepay/ipn", h)
	defer endpoint.Close()

	client, _ := srv.NewClient()
	ctx := context.Background()
	pay, err := client.CreatePayment(ctx, jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("25"), PriceCurrency: "usd", PayCurrency: "usdttrc20",
		OrderID: "A-1003", IPNCallbackURL: endpoint.URL,
	})
	if err != nil {
		log.Fatal(err)
	}
	_, _ = srv.Pay(ctx, pay.ID)       // four IPNs: confirming … finished
	_, _ = srv.Redeliver(ctx, pay.ID) // a duplicate: verified, recognised, not handled again
	// Output:
	// IPN: A-1003 confirming
	// IPN: A-1003 confirmed
	// IPN: A-1003 sending
	// IPN: A-1003 finished
}

// ListPayments needs a JWT: the client logs in with the dashboard credentials once.
func ExampleClient_ListPayments() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	email, password := srv.Credentials()
	client, _ := jovepay.NewClient(srv.APIKey(), jovepay.WithBaseURL(srv.BaseURL), jovepay.WithCredentials(email, password))
	ctx := context.Background()
	for _, price := range []string{"20", "30", "40"} {
		_, _ = client.CreatePayment(ctx, jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal(price), PriceCurrency: "usd", PayCurrency: "usdttrc20"})
	}
	total := paykit.MustDecimal("0")
	for p, err := range client.ListPayments(ctx, jovepay.ListPaymentsParams{Limit: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		total = total.Add(p.PriceAmount)
	}
	fmt.Println("total", total, "usd; logins:", srv.Logins())
	// Output:
	// total 90 usd; logins: 1
}

// CreatePaymentOnce survives a lost answer without creating a second payment.
func ExampleClient_CreatePaymentOnce() {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	// The payment is created, but the answer is lost.
	srv.AddFault(1, jovepaytest.Fault{LoseResponse: true, Match: jovepaytest.Match("POST", "/v1/payment")})

	pay, err := client.CreatePaymentOnce(context.Background(), jovepay.CreatePaymentParams{
		PriceAmount: paykit.MustDecimal("49.99"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "A-1004",
	}, jovepay.OnceOptions{LookupDelay: 10 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pay.OrderID(), pay.Status, "creates sent:", srv.CountCalls("POST", "/v1/payment"))
	// Output:
	// A-1004 waiting creates sent: 1
}

func ExamplePaymentStatus_IsPaid() {
	for _, s := range []jovepay.PaymentStatus{jovepay.StatusConfirmed, jovepay.StatusPartiallyPaid, jovepay.StatusFinished, "something_new"} {
		fmt.Println(s, s.IsPaid(), s.IsTerminal())
	}
	// Output:
	// confirmed false false
	// partially_paid false false
	// finished true true
	// something_new false false
}
