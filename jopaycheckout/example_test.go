package jopaycheckout_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jopaycheckout/jopaycheckouttest"
	"github.com/paykit-go/paykit/webhook"
)

func ExampleClient_CreateSession() {
	fake := jopaycheckouttest.NewServer() // in production: NewClient("sk_live_…")
	defer fake.Close()
	client, err := jopaycheckout.NewClient(jopaycheckouttest.DefaultAPIKey, jopaycheckout.WithBaseURL(fake.BaseURL))
	if err != nil {
		panic(err)
	}
	s, err := client.CreateSession(context.Background(), jopaycheckout.CreateSessionParams{
		LineItems:     []jopaycheckout.LineItem{{Name: "Premium Coffee Beans", Amount: 2500, Currency: "eur", Quantity: 2}},
		CustomerEmail: "customer@example.com",
		SuccessURL:    "https://shop.example/success",
		CancelURL:     "https://shop.example/cart",
		Metadata:      map[string]string{"order_id": "12345"},
	})
	if errors.Is(err, paykit.ErrUnknownOutcome) {
		// The session may exist, but nobody has its URL: it cannot be paid and expires in an
		// hour. Creating another one for the same order is safe.
		return
	}
	if err != nil {
		panic(err)
	}
	fmt.Println(s.ID, s.Status, s.AmountCents, s.Currency)
	fmt.Println(strings.TrimPrefix(s.URL, fake.URL))
	// Output:
	// cs_fake_000001 open 5000 eur
	// /checkout/cs_fake_000001
}

func ExampleSessionIDFromRedirect() {
	// In the success handler: id, err := jopaycheckout.SessionIDFromRedirect(r.URL)
	u, _ := url.Parse("https://shop.example/success?session_id=cs_a1b2c3d4e5f6")
	id, err := jopaycheckout.SessionIDFromRedirect(u)
	fmt.Println(id, err)

	u, _ = url.Parse("https://shop.example/success")
	_, err = jopaycheckout.SessionIDFromRedirect(u)
	fmt.Println(errors.Is(err, jopaycheckout.ErrMissingSessionID))
	// Output:
	// cs_a1b2c3d4e5f6 <nil>
	// true
}

func ExampleParseEvent() {
	payload := []byte(`{"event":"checkout.session.completed","data":{"id":"cs_a1b2c3d4e5f6","status":"completed","amount_cents":2500,"currency":"eur","metadata":{"order_id":"12345"}},"created_at":"2025-01-10T12:05:01Z"}`)
	e, err := jopaycheckout.ParseEvent(payload)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Type, e.IsPaid(), e.Data.ID, e.Data.Metadata["order_id"], e.CreatedAt.Format(time.RFC3339))
	// Output:
	// checkout.session.completed true cs_a1b2c3d4e5f6 12345 2025-01-10T12:05:01Z
}

func ExampleNewWebhookHandler() {
	const secret = "whsec_example"
	h, err := jopaycheckout.NewWebhookHandler(secret, func(ctx context.Context, e *jopaycheckout.Event) error {
		if e.IsPaid() {
			fmt.Println("fulfil order", e.Data.Metadata["order_id"])
		}
		return nil // an error answers 500, so JoPay redelivers
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h) // in production: mux.Handle("/webhooks/jopay-checkout", h)
	defer srv.Close()

	payload := `{"event":"checkout.session.completed","data":{"id":"cs_1","status":"completed","metadata":{"order_id":"12345"}}}`
	send := func(signature string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(payload))
		req.Header.Set(jopaycheckout.SignatureHeader, signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	send(webhook.SignTimestamp(secret, time.Now(), []byte(payload)))   // runs fn
	send(webhook.SignTimestamp(secret, time.Now(), []byte(payload)))   // duplicate: 200, fn not run
	send(webhook.SignTimestamp("forged", time.Now(), []byte(payload))) // bad signature
	// Output:
	// fulfil order 12345
	// 200
	// 200
	// 400
}

func ExampleKeyMode() {
	fmt.Println(jopaycheckout.KeyMode("sk_test_abc"), jopaycheckout.KeyMode("sk_live_abc"), jopaycheckout.KeyMode("other"))
	// Output: test live unknown
}
