package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	for _, k := range []string{"JOVEPAY_BASE_URL", "JOVEPAY_API_KEY", "JOVEPAY_IPN_SECRET"} {
		t.Setenv(k, "")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"1. POST /invoice: invoice 5000000001 for 49.99 usd, success_url https://shop.example/orders/INV-2001/thanks",
		"2. redirect the customer to the hosted page: http://127.0.0.1:…/payment/?iid=5000000001",
		"the page shows: JovePay invoice 5000000001: 49.99 USD — choose a currency",
		"3. POST /invoice-payment: the customer picks ltc → payment 5000000003, send 0.624875 ltc",
		"IPN INV-2001 (invoice 5000000001) confirming",
		"IPN INV-2001 (invoice 5000000001) finished: 0.624875 ltc received → ORDER INV-2001 FULFILLED",
		"5. the hosted page sends the customer back: 303 → https://shop.example/orders/INV-2001/thanks",
		"fulfilled: true",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
}
