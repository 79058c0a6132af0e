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
		"1. GET /status: API is up",
		"4. GET /estimate: 49.99 usd ≈ 0.0009998 btc, above the minimum ✓",
		"5. POST /payment: order A-1001 → payment 5000000001, waiting",
		"send exactly 0.0009998 btc",
		"IPN A-1001 confirming",
		"IPN A-1001 finished       paid 0.0009998/0.0009998 btc: amount and asset match → ORDER A-1001 FULFILLED",
		"re-sends the last IPN: answered 200, recognised as a duplicate: true",
		"IPN A-1002 partially_paid paid 0.0004/0.0009998 btc: NOT fulfilled (actually_paid 0.0004, expected >= 0.0009998)",
		"repeated deposit of payment 5000000003: NOT fulfilled automatically, held for review",
		"8. GET /payment/5000000001: finished",
		"fulfilled: A-1001; held for review: A-1002 (re-deposit 5000000005); IPNs delivered: 8",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := strings.Count(got, "FULFILLED"); n != 1 {
		t.Errorf("fulfilled %d times, want exactly once:\n%s", n, got)
	}
	if t.Failed() {
		t.Log(got)
	}
}

func TestRunNeedsKeyForRealEndpoint(t *testing.T) {
	t.Setenv("JOVEPAY_BASE_URL", "https://api-sandbox.jovepay.io/v1")
	t.Setenv("JOVEPAY_API_KEY", "")
	if err := run(context.Background(), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "JOVEPAY_API_KEY") {
		t.Fatalf("err = %v", err)
	}
}
