package main

import (
	"bytes"
	"context"
	"regexp"
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
	start := time.Now()
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	got := out.String()
	for _, want := range []string{
		"in-process fake JoPay at http://127.0.0.1:",
		`idempotency key sha256("checkout:A-1001") = 0d9003f1c82c5cf2…`,
		"JoPay holds 1 request(s) for order A-1001 after the retry",
		"the second create returns the same request: true",
		"request status now opened",
		"webhook payment.proof_attached for request",
		"order A-1001 awaiting on-chain confirmation, not paid yet",
		"order A-1001 marked PAID",
		"answered 200, deduped on request+event; handler runs before 2, after 2",
		"answered 400 invalid_signature and ignored",
		"Order A-1001 is paid (fulfilled 1 time(s))",
		"has proof verified",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if !regexp.MustCompile(`Webhook endpoint listening on http://127\.0\.0\.1:\d+/webhooks/jopay`).MatchString(got) {
		t.Error("no local webhook endpoint line")
	}
	if strings.Count(got, "marked PAID") != 1 {
		t.Error("order marked paid more than once")
	}
	if t.Failed() {
		t.Log(got)
	}
}

func TestConfigNeedsAllVariables(t *testing.T) {
	t.Setenv("JOPAY_BASE_URL", "https://acme.jopay.app/api/v1")
	t.Setenv("JOPAY_API_KEY", "jo_test_x")
	t.Setenv("JOPAY_MERCHANT_ID", "")
	t.Setenv("JOPAY_WEBHOOK_SECRET", "")
	err := run(context.Background(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "JOPAY_MERCHANT_ID, JOPAY_WEBHOOK_SECRET") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "jo_test_x") {
		t.Error("key in error")
	}
}
