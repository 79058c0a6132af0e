package pepaytest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

func ExampleServer() {
	srv := pepaytest.NewServer()
	defer srv.Close()
	client, err := srv.NewClient() // aimed at srv, with its API key
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	created, err := client.CreateInvoice(ctx, pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("40"), OrderRef: "o-1"})
	if err != nil {
		log.Fatal(err)
	}
	_, _ = srv.PayAmount(ctx, created.InvoiceID, 15_000) // $15 of $40
	_, _ = srv.Pay(ctx, created.InvoiceID)               // the remaining $25

	inv, _ := client.GetInvoiceExpanded(ctx, created.InvoiceID, pepay.GetInvoiceParams{Expand: []pepay.ExpandField{pepay.ExpandPayments}})
	fmt.Println(inv.Status, inv.AmountPaid, len(inv.Payments), "payments")
	for _, e := range srv.EventLog() {
		fmt.Println(e.Type)
	}
	// Output:
	// paid 40.000 2 payments
	// invoice.created
	// invoice_payment.created
	// invoice.updated
	// invoice_payment.created
	// invoice.updated
	// invoice_payment.updated
}

func ExampleServer_LoseResponseNext() {
	srv := pepaytest.NewServer()
	defer srv.Close()
	client, _ := srv.NewClient()
	srv.LoseResponseNext(1) // the invoice is created, the answer is lost
	created, err := client.CreateInvoice(context.Background(), pepay.CreateInvoiceParams{AmountUSD: paykit.MustDecimal("5"), OrderRef: "o-2"})
	fmt.Println(err, created.InvoiceID != "", srv.InvoiceCount(), "invoice")
	// Output: <nil> true 1 invoice
}
