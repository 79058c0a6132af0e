package jopay_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/paykit-go/paykit"
	"log"
	"net/http/httptest"
	"time"

	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
)

func ExampleNewClient() {
	client, err := jopay.NewClient("jo_test_3f9a0c", jopay.WithSlug("acme"), jopay.WithMaxRetries(5))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.BaseURL())
	fmt.Println(client.Mode())
	// Output:
	// https://acme.jopay.app/api/v1
	// test
}

func ExampleKeyMode() {
	fmt.Println(jopay.KeyMode("jo_live_8b1e"), jopay.KeyMode("jo_test_8b1e"), jopay.KeyMode("other"))
	// Output: live test unknown
}

func ExampleClient_CreateRequest() {
	srv := jopaytest.NewServer() // a fake JoPay; use jopay.NewClient(key, jopay.WithSlug(…)) for real
	defer srv.Close()
	client, _ := srv.NewClient()
	ctx := context.Background()

	order := struct {
		ID         string
		TotalCents int64
	}{"A-1001", 2750}
	params := jopay.CreateRequestParams{
		MerchantID:    jopaytest.DefaultMerchantID,
		FiatAmountInt: order.TotalCents,
		Memo:          "Order #" + order.ID,
		// Derived from the order: a double click or a retry returns the same pay link.
		IdempotencyKey: idempotency.Key("checkout", order.ID),
		Metadata:       map[string]string{jopay.MetadataOrderID: order.ID},
	}
	req, err := client.CreateRequest(ctx, params)
	if err != nil {
		log.Fatal(err)
	}
	again, _ := client.CreateRequest(ctx, params)
	fmt.Println(req.Status, req.Amount.FiatInt, req.Amount.FiatCode, req.Amount.USDC())
	fmt.Println("expires after", req.ExpiresAt.Sub(req.CreatedAt))
	fmt.Println("same request on retry:", again.ID == req.ID)
	// Output:
	// requested 2750 USD 27.500000
	// expires after 1h0m0s
	// same request on retry: true
}

func ExampleCreateRequestParams_Validate() {
	p := jopay.CreateRequestParams{MerchantID: "m1", FiatAmountInt: 125000, PaymentMode: jopay.PaymentModeInvoice}
	err := p.Validate()
	var ve *paykit.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field)
		fmt.Println(err)
	}
	// Output:
	// customer_name
	// invalid customer_name: required when payment_mode is "invoice"
}

func ExampleClient_ListRequests() {
	srv := jopaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	at := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 25; i++ { // five requests per millisecond: page boundaries split ties
		srv.AddPaymentRequests(jopaytest.PaymentRequestFixture{CreatedAt: at.Add(time.Duration(i/5) * time.Millisecond),
			ProofStatus: jopay.ProofStatusVerified, FiatAmountInt: 100})
	}
	var n int
	var total int64
	for r, err := range client.ListRequests(context.Background(), jopay.ListRequestsParams{
		ProofStatus: jopay.ProofStatusVerified, Limit: 7,
	}) {
		if err != nil {
			log.Fatal(err)
		}
		n++
		total += r.Amount.FiatInt
	}
	fmt.Println(n, "verified requests,", total, "cents")
	// Output: 25 verified requests, 2500 cents
}

func ExampleClient_ListRequestsFrom() {
	srv := jopaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	at := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
	seed := func(n int) {
		for i := 0; i < n; i++ {
			srv.AddPaymentRequests(jopaytest.PaymentRequestFixture{CreatedAt: at, ProofStatus: jopay.ProofStatusVerified})
			at = at.Add(time.Second)
		}
	}
	params := jopay.ListRequestsParams{ProofStatus: jopay.ProofStatusVerified}
	stored := "" // your job's state: a database row, a file

	for run := 1; run <= 2; run++ {
		seed(3 * run) // new payments since the last run
		from, err := jopay.ParseCursor(stored)
		if err != nil {
			log.Fatal(err)
		}
		it := client.ListRequestsFrom(params, from)
		n := 0
		for _, err := range it.All(context.Background()) {
			if err != nil {
				log.Fatal(err) // keep the old cursor; the next run retries
			}
			n++
		}
		stored = it.Cursor().String()
		fmt.Printf("run %d: %d new payments\n", run, n)
	}
	// Output:
	// run 1: 3 new payments
	// run 2: 6 new payments
}

func ExampleNewWebhookHandler() {
	paid := make(chan string, 1)
	handler, err := jopay.NewWebhookHandler(jopaytest.WebhookSecret, func(ctx context.Context, e *jopay.Event) error {
		if e.IsPaid() {
			paid <- e.OrderID() // mark the order paid; return an error to make JoPay retry
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	endpoint := httptest.NewServer(handler) // in production: mux.Handle("/webhooks/jopay", handler)
	defer endpoint.Close()

	srv := jopaytest.NewServer()
	defer srv.Close()
	srv.SetWebhook(endpoint.URL, jopaytest.WebhookSecret)
	client, _ := srv.NewClient()
	req, _ := client.CreateRequest(context.Background(), jopay.CreateRequestParams{
		MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 2750,
		Metadata: map[string]string{jopay.MetadataOrderID: "A-1001"},
	})
	if _, err := srv.Pay(context.Background(), req.ID); err != nil { // the customer pays
		log.Fatal(err)
	}
	fmt.Println("paid:", <-paid)
	// Output: paid: A-1001
}

func ExampleParseEvent() {
	e, err := jopay.ParseEvent([]byte(`{"event":"payment.proof_verified","delivery_id":"4f1c","request_id":"7b2e",
		"proof_status":"verified","tx_hash":"0x5e","timestamp":"2026-05-02T09:15:00.000Z",
		"metadata":{"subscription_id":"SUB-8821","billing_cycle":"monthly"}}`))
	if err != nil {
		log.Fatal(err)
	}
	sub, recurring := e.SubscriptionID()
	fmt.Println(e.Type, e.IsPaid(), e.Timestamp.Format(time.Kitchen))
	fmt.Println(recurring, sub, e.Charge().BillingCycle)
	// Output:
	// payment.proof_verified true 9:15AM
	// true SUB-8821 monthly
}
