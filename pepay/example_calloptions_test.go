package pepay_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

// Per-call options adjust one call; WithResponseInfo reports how it went.
func ExampleClient_CreateInvoice_callOptions() {
	srv := pepaytest.NewServer() // in production: pepay.NewClient(os.Getenv("PEPAY_API_KEY"))
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	var info paykit.ResponseInfo
	created, err := client.CreateInvoice(context.Background(),
		pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("25.00"), OrderRef: "order-1001"},
		// Wins over CreateInvoiceParams.IdempotencyKey and the key derived from OrderRef.
		paykit.WithIdempotencyKey("0b3f6d2e-6a57-4c1e-9d0b-7f1a2c3d4e5f"),
		paykit.WithTimeout(10*time.Second),
		paykit.WithMaxRetries(5),
		paykit.WithHeader("X-Correlation-Id", "checkout-42"),
		paykit.WithResponseInfo(&info))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("key:", created.IdempotencyKey)
	fmt.Println("status:", info.StatusCode, "attempts:", info.Attempts, "key sent:", info.IdempotencyKey)

	// Embedded payments and per-call options together.
	inv, err := client.GetInvoiceExpanded(context.Background(), created.InvoiceID,
		pepay.GetInvoiceParams{Expand: []pepay.ExpandField{pepay.ExpandPayments}},
		paykit.WithTimeout(5*time.Second), paykit.WithResponseInfo(&info))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(inv.Status, info.StatusCode)
	// Output:
	// key: 0b3f6d2e-6a57-4c1e-9d0b-7f1a2c3d4e5f
	// status: 201 attempts: 1 key sent: 0b3f6d2e-6a57-4c1e-9d0b-7f1a2c3d4e5f
	// unpaid 200
}

// Do reaches endpoints the client has no method for, with the client's key, retries, limiter
// and error decoding. A POST is retried only with WithIdempotencyKey.
func ExampleClient_Do() {
	srv := pepaytest.NewServer()
	defer srv.Close()
	client, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	var created struct {
		InvoiceID string `json:"invoice_id"`
	}
	body := map[string]any{"amount_usd": 12.5, "description": "raw request"}
	err = client.Do(ctx, http.MethodPost, "invoices", body, &created,
		paykit.WithIdempotencyKey("6e1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b")) // sent as Idempotency-Key
	if err != nil {
		log.Fatal(err)
	}

	var page struct {
		Data []struct {
			ID     string `json:"id"`
			Amount int64  `json:"amount"`
		} `json:"data"`
	}
	if err := client.Do(ctx, http.MethodGet, "invoices?limit=1", nil, &page); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Data), page.Data[0].ID == created.InvoiceID, page.Data[0].Amount)

	// A path that leaves the base URL is refused before anything is sent.
	err = client.Do(ctx, http.MethodGet, "../admin", nil, nil)
	fmt.Println(err)
	// Output:
	// 1 true 12500
	// pepay: Do: invalid path: the path has a dot segment or an escaped slash; give a path relative to the base URL, like "/invoices"
}

// WithCallOptions applies per-call options to every poll of WaitForInvoice.
func ExampleWithCallOptions() {
	srv := pepaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	ctx := context.Background()
	created, _ := client.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("25")})
	_, _ = srv.Pay(ctx, created.InvoiceID)

	var info paykit.ResponseInfo // the latest poll's
	st, err := client.WaitForInvoice(ctx, created.InvoiceID,
		pepay.WithCallOptions(paykit.WithTimeout(5*time.Second), paykit.WithResponseInfo(&info)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Status(), info.StatusCode)
	// Output: paid 200
}
