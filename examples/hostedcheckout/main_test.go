package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

func clearEnv(t *testing.T) {
	for _, k := range []string{"JOPAY_CHECKOUT_BASE_URL", "JOPAY_CHECKOUT_API_KEY", "JOPAY_CHECKOUT_WEBHOOK_SECRET"} {
		t.Setenv(k, "")
	}
}

func TestRun(t *testing.T) {
	clearEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	// The steps, in this order.
	want := []string{
		`JoPay Checkout: in-process fake at http://127\.0\.0\.1:\d+`,
		`1\. shop listening on http://127\.0\.0\.1:\d+ `,
		`2\. order ORD-1001: 2 × Premium Coffee Beans at 25\.00 EUR \+ 1 × Ceramic Mug at 12\.00 EUR = 62\.00 EUR`,
		`3\. session cs_fake_000001 created: status open, expires \S+`,
		`redirect the buyer to http://127\.0\.0\.1:\d+/checkout/cs_fake_000001`,
		`4\. buyer opens the checkout page and pays`,
		`webhook: checkout\.session\.completed for cs_fake_000001, signature verified`,
		`fulfilment: order ORD-1001 paid \(62\.00 EUR\), shipping`,
		`success page: session_id=cs_fake_000001, GetSession says completed`,
		`buyer landed on /success\?order=ORD-1001&session_id=cs_fake_000001 \(200\): Thank you! Order ORD-1001 is paid\.`,
		`5\. JoPay redelivers the same webhook: answered 200, not fulfilled again`,
		`6\. order ORD-1001 fulfilled 1 time\(s\)`,
	}
	rest := got
	for _, pat := range want {
		loc := regexp.MustCompile(pat).FindStringIndex(rest)
		if loc == nil {
			t.Fatalf("output lacks (in order) %q:\n%s", pat, got)
		}
		rest = rest[loc[1]:]
	}
	if n := strings.Count(got, "fulfilment:"); n != 1 {
		t.Errorf("fulfilled %d times:\n%s", n, got)
	}
	if n := strings.Count(got, "webhook: checkout.session.completed"); n != 1 {
		t.Errorf("the duplicate reached the handler function:\n%s", got)
	}
	if strings.Contains(got, "whsec_") || strings.Contains(got, "sk_test_") {
		t.Errorf("output shows a secret:\n%s", got)
	}
}

func TestRunNeedsCompleteConfig(t *testing.T) {
	clearEnv(t)
	t.Setenv("JOPAY_CHECKOUT_API_KEY", "sk_live_do_not_print")
	var out bytes.Buffer
	err := run(context.Background(), &out)
	if err == nil {
		t.Fatal("run succeeded with a partial configuration")
	}
	msg := err.Error()
	if !strings.Contains(msg, "JOPAY_CHECKOUT_BASE_URL") || !strings.Contains(msg, "JOPAY_CHECKOUT_WEBHOOK_SECRET") {
		t.Errorf("error does not name the missing variables: %v", err)
	}
	if strings.Contains(msg+out.String(), "do_not_print") {
		t.Errorf("the key leaked: %v %s", err, out.String())
	}
}
