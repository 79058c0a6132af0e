package main

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jopaycheckout/jopaycheckouttest"
)

// clearEnv unsets every variable the example reads, so the developer's own do not leak in.
func clearEnv(t *testing.T) {
	for _, k := range slices.Concat(requiredVars, optionalVars) {
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
		`\(set JOPAY_CHECKOUT_API_KEY and JOPAY_CHECKOUT_WEBHOOK_SECRET to use your JoPay Checkout account\)`,
		`1\. shop listening on http://127\.0\.0\.1:\d+ `,
		`2\. order ORD-1001: 2 × Premium Coffee Beans at 25\.00 EUR \+ 1 × Ceramic Mug at 12\.00 EUR = 62\.00 EUR`,
		`3\. session cs_fake_000001 created: status open, expires \S+`,
		`redirect the buyer to http://127\.0\.0\.1:\d+/checkout/cs_fake_000001`,
		`4\. buyer opens the checkout page and pays`,
		`webhook: checkout\.session\.completed for cs_fake_000001, signature verified`,
		`fulfilment: order ORD-1001 paid \(62\.00 EUR\), shipping`,
		`success page: session_id=cs_fake_000001, GetSession says completed`,
		`buyer landed on /success\?order=ORD-1001&session_id=cs_fake_000001 \(200\): Thank you! Order ORD-1001 is paid\.`,
		`5\. JoPay delivers the same webhook again: answered 200 without fulfilling the order a second time`,
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

// Any JOPAY_CHECKOUT_* variable selects a real endpoint; then the run stops before doing
// anything and names exactly the credentials that are missing, never a value.
func TestPartialConfigNamesTheMissing(t *testing.T) {
	for _, tc := range []struct {
		set     map[string]string
		missing string
	}{
		{map[string]string{"JOPAY_CHECKOUT_API_KEY": "sk_live_do_not_print"}, "missing JOPAY_CHECKOUT_WEBHOOK_SECRET:"},
		{map[string]string{"JOPAY_CHECKOUT_BASE_URL": "https://jopay.me/api/checkout/v1"}, "missing JOPAY_CHECKOUT_API_KEY, JOPAY_CHECKOUT_WEBHOOK_SECRET:"},
		{map[string]string{"JOPAY_CHECKOUT_WEBHOOK_SECRET": "whsec_do_not_print", "JOPAY_CHECKOUT_WAIT": "1m"}, "missing JOPAY_CHECKOUT_API_KEY:"},
	} {
		clearEnv(t)
		for k, v := range tc.set {
			t.Setenv(k, v)
		}
		var out bytes.Buffer
		err := run(context.Background(), &out)
		if err == nil || !strings.HasPrefix(err.Error(), tc.missing) {
			t.Errorf("%v: err = %v, want it to start %q", tc.set, err, tc.missing)
			continue
		}
		if out.Len() > 0 || strings.Contains(err.Error(), "do_not_print") {
			t.Errorf("%v: printed %q or showed a value: %v", tc.set, out.String(), err)
		}
	}
}

// Only the credentials are required: the base URL defaults to JoPay Checkout's production API.
func TestBaseURLIsOptional(t *testing.T) {
	for _, base := range []string{"", "https://proxy.example/api/checkout/v1"} {
		clearEnv(t)
		t.Setenv("JOPAY_CHECKOUT_API_KEY", "sk_test_k")
		t.Setenv("JOPAY_CHECKOUT_WEBHOOK_SECRET", "whsec_s")
		t.Setenv("JOPAY_CHECKOUT_BASE_URL", base)
		cfg, err := configFromEnv()
		if err != nil || !cfg.real {
			t.Fatalf("base %q: real %v, err %v", base, cfg.real, err)
		}
		want := base
		if want == "" {
			want = jopaycheckout.DefaultBaseURL
		}
		if cfg.baseURL != want {
			t.Errorf("base %q: %s, want %s", base, cfg.baseURL, want)
		}
	}
}

// The real-endpoint path, offline: a separately started fake stands in for JoPay Checkout and
// completes the session once the example has created it; the webhook reaches the example's
// endpoint on JOPAY_CHECKOUT_WEBHOOK_ADDR. The steps number on without a gap.
func TestRunAgainstConfiguredEndpoint(t *testing.T) {
	srv := jopaycheckouttest.NewServer()
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	clearEnv(t)
	t.Setenv("JOPAY_CHECKOUT_BASE_URL", srv.BaseURL)
	t.Setenv("JOPAY_CHECKOUT_API_KEY", jopaycheckouttest.DefaultAPIKey)
	t.Setenv("JOPAY_CHECKOUT_WEBHOOK_SECRET", "whsec_configured")
	t.Setenv("JOPAY_CHECKOUT_WEBHOOK_ADDR", addr)
	t.Setenv("JOPAY_CHECKOUT_WAIT", "10s")
	srv.SetWebhook("http://"+addr+webhookPath, "whsec_configured")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if ss := srv.Sessions(); len(ss) > 0 {
				_, _ = srv.Pay(ctx, ss[0].ID)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	want := `^JoPay Checkout at ` + regexp.QuoteMeta(srv.BaseURL) + ` \(test key\)
1\. shop listening on http://` + regexp.QuoteMeta(addr) + ` .*
2\. order ORD-1001: .*
3\. session \S+ created: .*
   redirect the buyer to .*
4\. open that URL in a browser and pay; waiting up to 10s for the completion webhook on http://` + regexp.QuoteMeta(addr) + `/webhooks/jopay-checkout
(?:   .*\n)+5\. order ORD-1001 fulfilled 1 time\(s\)
$`
	if !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("output does not match %q:\n%s", want, got)
	}
	if strings.Contains(got, "whsec_configured") || strings.Contains(got, jopaycheckouttest.DefaultAPIKey) {
		t.Errorf("output shows a credential:\n%s", got)
	}
}
