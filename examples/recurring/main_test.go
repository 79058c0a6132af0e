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
		"coffee club {billing_cycle=monthly subscription_id=SUB-8821}",
		"coffee club, March: request ",
		"(plan charge, 19.00)",
		"shop order A-2001: request ",
		"(one-off, 42.00)",
		"SUBSCRIPTION charge SUB-8821 (monthly): charge #1 recorded",
		"SUBSCRIPTION charge SUB-8821 (monthly): charge #2 recorded",
		"SUBSCRIPTION charge PLAN-TEA-WEEKLY (weekly): charge #1 recorded",
		"ONE-OFF payment for order A-2001",
		"GET /requests?status=expired&since=",
		"FAILED charge for SUB-8821 (monthly, 19.00)",
		"subscription PLAN-TEA-WEEKLY: 1 charge(s) paid, 0 failed",
		"subscription SUB-8821: 2 charge(s) paid, 1 failed",
		"one-off payments: 1 (A-2001)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Count(got, "ONE-OFF") != 1 || strings.Count(got, "SUBSCRIPTION charge") != 3 {
		t.Error("charges misclassified")
	}
	if t.Failed() {
		t.Log(got)
	}
}
