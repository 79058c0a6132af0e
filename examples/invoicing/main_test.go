package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	for _, k := range []string{"JOPAY_BASE_URL", "JOPAY_API_KEY", "JOPAY_MERCHANT_ID", "JOPAY_WEBHOOK_SECRET"} {
		t.Setenv(k, "")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		`invalid customer_name: required when payment_mode is "invoice"`,
		`(*jopay.ValidationError, Field "customer_name"; JoPay itself would answer 400 customer_name_required)`,
		"JoPay answers 400 currency_mismatch, expected currency USD",
		"Invoice requests created (payment_mode invoice)",
		`INV-2026-0042: request `,
		`customer "Acme GmbH", valid for 7 days (JoPay's invoice default)`,
		`valid for 3 days (ExpiryMinutes override)`,
		"email to billing@acme.example",
		"invoice INV-2026-0042 PAID by Acme GmbH",
		"is expired; send a reminder",
		"Ledger: INV-2026-0042 paid, INV-2026-0043 overdue",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
}
