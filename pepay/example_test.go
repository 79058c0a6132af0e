package pepay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/paykit-go/paykit/webhook"
)

func ExampleClient_CreateInvoice() {
	srv := pepaytest.NewServer() // in production: pepay.NewClient(os.Getenv("PEPAY_API_KEY"))
	defer srv.Close()
	client, err := pepay.NewClient(srv.APIKey, pepay.WithBaseURL(srv.BaseURL), pepay.WithEnvironment(pepay.EnvironmentDevnet))
	if err != nil {
		log.Fatal(err)
	}
	created, err := client.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{
		AmountUSD:   paykit.MustDecimal("25.00"),
		Description: "Order #1001",
		Metadata:    pepay.Metadata{"order_id": "1001"},
		ExpiresIn:   time.Hour,
		OrderRef:    "order-1001", // a retried or repeated create for this order returns the same invoice
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("invoice:", created.InvoiceID)
	fmt.Println("key derived from the order:", created.IdempotencyKey == pepay.InvoiceKeyForOrder("order-1001"))
	fmt.Println("hosted checkout:", strings.HasPrefix(created.PaymentURL, srv.URL+"/pay/"))
	// Output:
	// invoice: d8a0787b-df14-48ce-a383-f624ab9ff909
	// key derived from the order: true
	// hosted checkout: true
}

func ExampleCreateInvoiceParams_validation() {
	client, _ := pepay.NewClient("pk_example")
	_, err := client.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("0.001")})
	var ve *paykit.ValidationError
	fmt.Println(errors.As(err, &ve), err)
	// Output: true invalid amount_usd: must be between 0.01 and 1000000 USD
}

func ExampleClient_WaitForInvoice() {
	srv := pepaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	ctx := context.Background()
	created, _ := client.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("25")})

	var once sync.Once
	st, err := client.WaitForInvoice(ctx, created.InvoiceID,
		pepay.WithPollInterval(5*time.Millisecond, 50*time.Millisecond),
		pepay.OnStatusChange(func(s *pepay.InvoiceStatus) {
			fmt.Println("status:", s.Status())
			once.Do(func() { _, _ = srv.Pay(ctx, created.InvoiceID) }) // the payor pays
		}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("paid", st.Invoice.AmountPaid, "USD, settlement", st.LatestPayment.SettlementStatus)
	// Output:
	// status: unpaid
	// status: paid
	// paid 25.000 USD, settlement settled
}

func ExampleClient_Stream() {
	srv := pepaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	connected := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	handled := 0
	go func() {
		done <- client.Stream(ctx, pepay.StreamParams{
			Types:    []string{"invoice.*", "invoice_payment.*"},
			Deduper:  webhook.NewDeduper(webhook.NewMemoryStore()), // share it with NewWebhookHandler
			OnStatus: func(s pepay.StreamStatus) { once.Do(func() { close(connected) }) },
		}, func(ctx context.Context, e *pepay.Event) error {
			if inv := e.Invoice(); inv != nil {
				fmt.Println(e.Type, inv.Status)
			} else {
				fmt.Println(e.Type, e.InvoicePayment().Status)
			}
			if handled++; handled == 4 {
				cancel()
			}
			return nil
		})
	}()
	<-connected
	id, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10")})
	_, _ = srv.Pay(ctx, id)
	fmt.Println(<-done)
	// Output:
	// invoice.created unpaid
	// invoice_payment.created confirmed
	// invoice.updated paid
	// invoice_payment.updated confirmed
	// context canceled
}

func ExampleClient_EventsAfter() {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	id, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("10")})
	lastProcessed := srv.LastEventID() // persisted by your consumer before it went down
	_, _ = srv.Pay(ctx, id)            // happened while it was down

	for e, err := range client.EventsAfter(context.Background(), lastProcessed, pepay.ListEventsParams{}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Type) // oldest first
	}
	// Output:
	// invoice_payment.created
	// invoice.updated
	// invoice_payment.updated
}

func ExampleParseEvent() {
	payload := []byte(`{"id":"evt_1767225600120-7","object":"event","api_version":"2025-12-16","created":1767225600,"type":"invoice.updated","livemode":true,"pending_webhooks":1,"data":{"object":{"object":"invoice","id":"3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43","status":"paid","amount":25000,"amount_unit":"usd_millis","environment":"mainnet"},"previous_attributes":{"status":"unpaid"}}}`)
	e, err := pepay.ParseEvent(payload)
	if err != nil {
		log.Fatal(err)
	}
	inv := e.Invoice()
	fmt.Println(e.ID, e.Type, e.Created.Format(time.RFC3339))
	fmt.Println(inv.ID, inv.Status, inv.Amount, inv.Status.IsTerminal())
	// Output:
	// evt_1767225600120-7 invoice.updated 2026-01-01T00:00:00Z
	// 3f6c1e2a-8d4b-4c1f-9e7a-0b2d5c8e1f43 paid 25.000 true
}

func ExampleNewWebhookVerifier() {
	body := []byte(`{"id":"evt_1767225600120-7","object":"event","type":"invoice.updated","data":{}}`)
	signedAt := time.UnixMilli(1767225600123)
	// What Pepay sends during a secret rotation: signatures with the new and the old secret.
	headers := pepaytest.SignatureHeaders("whsec_new", "whsec_old", signedAt, body)
	fmt.Println(pepay.TimestampHeader+":", headers.Get(pepay.TimestampHeader))

	clock := webhook.WithClock(func() time.Time { return signedAt.Add(time.Minute) })
	v, _ := pepay.NewWebhookVerifier("whsec_new", clock)
	fmt.Println("current secret:", v.Verify(body, headers))
	old, _ := pepay.NewWebhookVerifier("whsec_old", clock)
	fmt.Println("previous secret:", old.Verify(body, headers))
	late, _ := pepay.NewWebhookVerifier("whsec_new", webhook.WithClock(func() time.Time { return signedAt.Add(6 * time.Minute) }))
	err := late.Verify(body, headers)
	fmt.Println("six minutes later:", err, webhook.StatusCode(err))
	// Output:
	// X-Pepay-Timestamp: 1767225600123
	// current secret: <nil>
	// previous secret: <nil>
	// six minutes later: webhook: timestamp outside tolerance 400
}

func ExampleNewWebhookHandler() {
	ctx := context.Background()
	srv := pepaytest.NewServer()
	defer srv.Close()
	dedupe := webhook.NewDeduper(webhook.NewMemoryStore()) // also StreamParams.Deduper
	var mu sync.Mutex
	var seen []string
	h, err := pepay.NewWebhookHandler("whsec_example", func(ctx context.Context, e *pepay.Event) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, string(e.Type))
		return nil // answer 2xx only once the event is safely recorded
	}, webhook.WithDeduper(dedupe))
	if err != nil {
		log.Fatal(err)
	}
	endpoint := httptest.NewServer(h) // your https://shop.example.com/webhooks/pepay
	defer endpoint.Close()
	srv.SetWebhook(endpoint.URL, "whsec_example")

	id, _ := srv.AddInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("5")})
	_, _ = srv.Expire(ctx, id)
	_ = srv.WaitWebhooks(context.Background())
	mu.Lock()
	fmt.Println(seen)
	mu.Unlock()
	// Output: [invoice.created invoice.updated]
}

func ExampleNewPayorClient() {
	srv := pepaytest.NewServer()
	defer srv.Close()
	merchant, _ := srv.NewClient()
	ctx := context.Background()
	created, _ := merchant.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("25")})

	// In the payor's browser or app: only the session headers, never the API key.
	payor, err := pepay.NewPayorClient(created.PaymentSessionHeaders, pepay.WithBaseURL(srv.BaseURL))
	if err != nil {
		log.Fatal(err)
	}
	details, _ := payor.SessionDetails(ctx)
	fmt.Println(details.InvoiceStatus, details.AmountUSD, "USD")
	tokens, _ := payor.AvailableTokens(ctx, pepay.AvailableTokensParams{Mode: pepay.TokenModeNetwork, Network: "base"})
	addr, _ := payor.CreatePaymentAddress(ctx, tokens[0].Network, tokens[0].ID)
	fmt.Println(tokens[0].TokenSymbol, "on", addr.Network, "quote valid for", addr.QuoteExpiresIn)
	// Output:
	// unpaid 25.000 USD
	// USDC on base quote valid for 5m0s
}

func ExampleUSDMillis() {
	var amount pepay.USDMillis = 25000 // "amount": 25000, "amount_unit": "usd_millis"
	fmt.Println(amount, amount.Decimal().StringFixed(2))
	// Output: 25.000 25.00
}

func ExampleClient_MainnetAccessStatus() {
	srv := pepaytest.NewServer()
	defer srv.Close()
	// The account routes take the dashboard's JWT (in production: a TokenSource that logs in).
	client, _ := srv.NewClient(pepay.WithDashboardToken(srv.DashboardToken))
	ctx := context.Background()
	show := func() {
		st, err := client.MainnetAccessStatus(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(st.CurrentEnvironment, st.CanGoLive(), st.NextStep())
	}
	show()
	srv.SetMainnetAccess(true) // Pepay approved the request
	show()
	if err := client.SwitchAccountEnvironment(ctx, pepay.EnvironmentMainnet); err != nil {
		log.Fatal(err)
	}
	show()
	// Output:
	// devnet false request_mainnet_access
	// devnet true switch_environment
	// mainnet true use_mainnet_key
}

func ExamplePayorClient_Stream() {
	srv := pepaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	created, _ := client.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("12")})

	// In the browser: only the payment session headers and the ws_connection token.
	payor, _ := pepay.NewPayorClient(created.PaymentSessionHeaders, pepay.WithBaseURL(srv.BaseURL))
	addr, err := payor.CreatePaymentAddress(ctx, "base", 1)
	if err != nil {
		log.Fatal(err)
	}
	connected := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	handled := 0
	go func() {
		done <- payor.Stream(ctx, addr.WSConnection, pepay.PayorStreamParams{
			OnStatus: func(s pepay.StreamStatus) { once.Do(func() { close(connected) }) },
		}, func(ctx context.Context, e *pepay.Event) error {
			fmt.Println(e.Type, e.ObjectType())
			if handled++; handled == 3 {
				cancel()
			}
			return nil
		})
	}()
	<-connected
	_, _ = srv.Pay(ctx, created.InvoiceID)
	fmt.Println(<-done)
	v, _ := payor.VerifyInvoice(context.Background(), created.InvoiceID)
	fmt.Println("verified:", *v.Verified, v.Status)
	// Output:
	// invoice_payment.created invoice_payment
	// invoice.updated invoice
	// invoice_payment.updated invoice_payment
	// context canceled
	// verified: true paid
}

func ExampleCommerceClient_Stream() {
	srv := pepaytest.NewServer()
	defer srv.Close()
	commerce, err := pepay.NewCommerceClient(srv.CommerceKey, pepay.WithBaseURL(srv.BaseURL))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	connected := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	handled := 0
	go func() {
		done <- commerce.Stream(ctx, pepay.CommerceStreamParams{
			Types:    []string{"commerce.order.*"},
			OnStatus: func(s pepay.StreamStatus) { once.Do(func() { close(connected) }) },
		}, func(ctx context.Context, e *pepay.Event) error {
			// The order object is undocumented: decode the fields you rely on yourself.
			var order struct {
				Status string `json:"status"`
			}
			_ = json.Unmarshal(e.Data.Object, &order)
			fmt.Println(e.Type, e.ObjectType(), order.Status)
			if handled++; handled == 2 {
				cancel()
			}
			return nil
		})
	}()
	<-connected
	id, _ := srv.AddCommerceOrder(ctx, pepaytest.CommerceOrder{CustomerID: "cus_1"})
	_, _ = srv.UpdateCommerceOrder(ctx, id, "completed")
	fmt.Println(<-done)
	// Output:
	// commerce.order.created commerce_order pending
	// commerce.order.updated commerce_order completed
	// context canceled
}
