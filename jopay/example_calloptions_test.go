package jopay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
)

// Per-call options: an idempotency key derived from the order (it wins over the params'
// IdempotencyKey), a timeout for this call only, and what came back besides the body.
func ExampleClient_CreateRequest_callOptions() {
	srv := jopaytest.NewServer() // a fake JoPay; use jopay.NewClient(key, jopay.WithSlug(…)) for real
	defer srv.Close()
	client, _ := srv.NewClient()
	ctx := context.Background()

	key := idempotency.Key("checkout", "A-1001")
	var info paykit.ResponseInfo
	r, err := client.CreateRequest(ctx, jopay.CreateRequestParams{MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 1250},
		paykit.WithIdempotencyKey(key),
		paykit.WithTimeout(10*time.Second),
		paykit.WithHeader("X-Trace-Id", "order-A-1001"),
		paykit.WithResponseInfo(&info))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Status, info.StatusCode, info.Attempts, info.IdempotencyKey == key)

	// Other calls take no idempotency key: the option is refused before anything is sent.
	_, err = client.GetRequest(ctx, r.ID, paykit.WithIdempotencyKey(key))
	var vErr *paykit.ValidationError
	fmt.Println(errors.As(err, &vErr))
	// Output:
	// requested 200 1 true
	// true
}

// Do sends a request paykit does not wrap, with the client's key, retries, limits and error
// decoding; paths that would leave the base URL are refused.
func ExampleClient_Do() {
	srv := jopaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	ctx := context.Background()

	var merchant struct {
		ID          string `json:"merchant_id"`
		DisplayName string `json:"display_name"`
	}
	err := client.Do(ctx, http.MethodGet, "/merchants/"+jopaytest.DefaultMerchantID, nil, &merchant)
	fmt.Println(merchant.DisplayName, err)

	err = client.Do(ctx, http.MethodGet, "/merchants/unknown", nil, nil)
	var apiErr *paykit.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code)
	}

	err = client.Do(ctx, http.MethodGet, "../../admin", nil, nil)
	var vErr *paykit.ValidationError
	fmt.Println(errors.As(err, &vErr))
	// Output:
	// Fake Coffee <nil>
	// 404 not_found
	// true
}

// WaitForRequest polls until the request is paid, expired or cancelled.
func ExampleClient_WaitForRequest() {
	srv := jopaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	r, _ := client.CreateRequest(ctx, jopay.CreateRequestParams{MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 500})
	_, _ = srv.Pay(ctx, r.ID) // the customer pays
	paid, err := client.WaitForRequest(ctx, r.ID,
		jopay.WithPollInterval(time.Second, 10*time.Second),
		jopay.OnStatusChange(func(r *jopay.PaymentRequest) { fmt.Println("now", r.Status, r.ProofStatus) }))
	fmt.Println(paid.IsPaid(), err)
	// Output:
	// now requested verified
	// true <nil>
}

// One *rate.Limiter shared by two clients keeps them together under one quota; it replaces
// the default limits (60 requests per minute, CreateMerchant 30) of each.
func ExampleWithRateLimiter() {
	srv := jopaytest.NewServer()
	defer srv.Close()
	shared := rate.NewLimiter(rate.Every(time.Second), 1) // JoPay: 60 per minute per key
	reconciler, _ := srv.NewClient(jopay.WithRateLimiter(shared))
	webhooks, _ := srv.NewClient(jopay.WithRateLimiter(shared))

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := reconciler.ListMerchants(ctx)
	fmt.Println(err)
	// The next slot is a second away, after ctx's deadline: refused at once, nothing sent.
	_, err = webhooks.GetMerchant(ctx, jopaytest.DefaultMerchantID)
	fmt.Println(errors.Is(err, paykit.ErrRateLimited))
	// Output:
	// <nil>
	// true
}
