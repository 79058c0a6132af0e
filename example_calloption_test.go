package paykit_test

import (
	"fmt"
	"time"

	"github.com/paykit-go/paykit"
)

// Per-call options go last in every client method. A test double that stands in for a paykit
// client reads them with ResolveCallOptions, exactly as the clients do.
func ExampleResolveCallOptions() {
	var info paykit.ResponseInfo
	opts := []paykit.CallOption{
		paykit.WithIdempotencyKey("order-1042-create"),
		paykit.WithHeader("X-Correlation-Id", "c-77"),
		paykit.WithTimeout(10 * time.Second),
		paykit.WithMaxRetries(1),
		paykit.WithResponseInfo(&info),
	}
	cfg, err := paykit.ResolveCallOptions(opts...)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.IdempotencyKey, cfg.Header.Get("X-Correlation-Id"), cfg.Timeout, cfg.MaxRetries, cfg.ResponseInfo == &info)

	_, err = paykit.ResolveCallOptions(paykit.WithHeader("Authorization", "Bearer other"))
	fmt.Println(err)
	// Output:
	// order-1042-create c-77 10s 1 true
	// invalid WithHeader: Authorization is set by the client and cannot be overridden per call
}
