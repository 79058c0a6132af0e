package jopaycheckout_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jopaycheckout/jopaycheckouttest"
)

// Per-call options: a timeout for this call, a header, and what came back besides the body.
// WithIdempotencyKey needs a client built WithIdempotencyHeader.
func ExampleClient_CreateSession_callOptions() {
	srv := jopaycheckouttest.NewServer() // a fake JoPay Checkout
	defer srv.Close()
	client, _ := srv.NewClient()
	ctx := context.Background()
	params := jopaycheckout.CreateSessionParams{AmountCents: 1250, Currency: "eur",
		SuccessURL: "https://shop.example/thanks", CancelURL: "https://shop.example/cart"}

	var info paykit.ResponseInfo
	_, err := client.CreateSession(ctx, params,
		paykit.WithTimeout(10*time.Second),
		paykit.WithHeader("X-Trace-Id", "order-A-1001"),
		paykit.WithResponseInfo(&info))
	fmt.Println(err, info.StatusCode, info.Attempts)

	_, err = client.CreateSession(ctx, params, paykit.WithIdempotencyKey("order-A-1001-0123456789abcdefghijkl"))
	var vErr *paykit.ValidationError
	fmt.Println(errors.As(err, &vErr))
	// Output:
	// <nil> 200 1
	// true
}

// Do sends a request paykit does not wrap, with the client's key, retries and error decoding.
func ExampleClient_Do() {
	srv := jopaycheckouttest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	ctx := context.Background()

	err := client.Do(ctx, http.MethodGet, "/sessions/cs_unknown", nil, nil)
	var apiErr *paykit.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status)
	}
	err = client.Do(ctx, http.MethodGet, "https://elsewhere.example/sessions", nil, nil)
	var vErr *paykit.ValidationError
	fmt.Println(errors.As(err, &vErr))
	// Output:
	// 404
	// true
}
