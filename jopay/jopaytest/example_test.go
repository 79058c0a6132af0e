package jopaytest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
)

// A test of your own webhook endpoint: the fake delivers correctly signed events to it.
func ExampleServer_Pay() {
	srv := jopaytest.NewServer()
	defer srv.Close()

	handler, _ := jopay.NewWebhookHandler(jopaytest.WebhookSecret, func(ctx context.Context, e *jopay.Event) error {
		fmt.Println("received", e.Type)
		return nil
	})
	endpoint := httptest.NewServer(handler)
	defer endpoint.Close()
	srv.SetWebhook(endpoint.URL, jopaytest.WebhookSecret)

	client, _ := srv.NewClient()
	req, err := client.CreateRequest(context.Background(), jopay.CreateRequestParams{
		MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 500,
	})
	if err != nil {
		log.Fatal(err)
	}
	d, _ := srv.Pay(context.Background(), req.ID)
	fmt.Println("delivered:", d.Delivered, "attempts:", len(d.Attempts))
	// Output:
	// received payment.proof_attached
	// received payment.proof_verified
	// delivered: true attempts: 1
}

// Test your retry path: the first create's answer is lost after JoPay made the request.
func ExampleServer_LoseResponseNext() {
	srv := jopaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	srv.LoseResponseNext(1)
	req, err := client.CreateRequest(context.Background(), jopay.CreateRequestParams{
		MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 500,
	})
	fmt.Println(err, len(srv.PaymentRequests()), srv.PaymentRequests()[0].ID == req.ID)
	// Output: <nil> 1 true
}

func ExampleServer_FailNext() {
	srv := jopaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient(jopay.WithMaxRetries(0))
	srv.FailNext(1, http.StatusTooManyRequests, 30*time.Second)
	_, err := client.GetRequest(context.Background(), "any")
	fmt.Println(err)
	// Output: jopay: 429 rate_limited
}

func ExampleServer_Advance() {
	srv := jopaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	ctx := context.Background()
	req, _ := client.CreateRequest(ctx, jopay.CreateRequestParams{MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 500})
	srv.Advance(jopaytest.POSExpiry)
	req, _ = client.GetRequest(ctx, req.ID)
	fmt.Println(req.Status)
	// Output: expired
}
