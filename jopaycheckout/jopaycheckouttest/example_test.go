package jopaycheckouttest_test

import (
	"context"
	"fmt"

	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jopaycheckout/jopaycheckouttest"
)

// A test creates a session against the fake and pays it with a lifecycle helper.
func Example() {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	client, err := fake.NewClient()
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	s, err := client.CreateSession(ctx, jopaycheckout.CreateSessionParams{
		LineItems:  []jopaycheckout.LineItem{{Name: "Premium Coffee Beans", Amount: 2500, Currency: "eur", Quantity: 1}},
		SuccessURL: "https://shop.example/success",
		CancelURL:  "https://shop.example/cancel",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.ID, s.Status, s.RawStatus)

	if _, err := fake.Pay(ctx, s.ID); err != nil { // delivers a webhook if SetWebhook was called
		panic(err)
	}
	s, err = client.GetSession(ctx, s.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.ID, s.Status, s.IsPaid())
	// Output:
	// cs_fake_000001 open pending
	// cs_fake_000001 completed true
}

// Injected failures exercise a caller's retry path.
func ExampleServer_FailNext() {
	fake := jopaycheckouttest.NewServer()
	defer fake.Close()
	client, _ := fake.NewClient(jopaycheckout.WithMaxRetries(0))

	fake.FailNext(1, 503, 0)
	_, err := client.GetSession(context.Background(), "cs_fake_000001")
	fmt.Println(err)
	// Output:
	// jopaycheckout: 503 service_unavailable: Service Unavailable
}
