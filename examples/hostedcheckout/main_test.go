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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	err := run(ctx, &out)
	require.NoError(t, err, "run output:\n%s", out.String())
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
		require.NotNil(t, loc, "output lacks (in order) %q:\n%s", pat, got)
		rest = rest[loc[1]:]
	}
	assert.Equal(t, 1, strings.Count(got, "fulfilment:"), "fulfilments:\n%s", got)
	assert.Equal(t, 1, strings.Count(got, "webhook: checkout.session.completed"), "the duplicate reached the handler function:\n%s", got)
	assert.NotContains(t, got, "whsec_", "output shows a secret")
	assert.NotContains(t, got, "sk_test_", "output shows a secret")
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
		if !assert.Error(t, err, "%v", tc.set) {
			continue
		}
		assert.True(t, strings.HasPrefix(err.Error(), tc.missing), "%v: err = %v, want it to start %q", tc.set, err, tc.missing)
		assert.Empty(t, out.String(), "%v: printed before stopping", tc.set)
		assert.NotContains(t, err.Error(), "do_not_print", "%v: a value in the error", tc.set)
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
		require.NoError(t, err, "base %q", base)
		require.True(t, cfg.real, "base %q: real client", base)
		want := base
		if want == "" {
			want = jopaycheckout.DefaultBaseURL
		}
		assert.Equal(t, want, cfg.baseURL, "base %q", base)
	}
}

// The real-endpoint path, offline: a separately started fake stands in for JoPay Checkout and
// completes the session once the example has created it; the webhook reaches the example's
// endpoint on JOPAY_CHECKOUT_WEBHOOK_ADDR. The steps number on without a gap.
func TestRunAgainstConfiguredEndpoint(t *testing.T) {
	srv := jopaycheckouttest.NewServer()
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
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
	err = run(ctx, &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	got := out.String()
	want := `^JoPay Checkout at ` + regexp.QuoteMeta(srv.BaseURL) + ` \(test key\)
1\. shop listening on http://` + regexp.QuoteMeta(addr) + ` .*
2\. order ORD-1001: .*
3\. session \S+ created: .*
   redirect the buyer to .*
4\. open that URL in a browser and pay; waiting up to 10s for the completion webhook on http://` + regexp.QuoteMeta(addr) + `/webhooks/jopay-checkout
(?:   .*\n)+5\. order ORD-1001 fulfilled 1 time\(s\)
$`
	assert.Regexp(t, want, got, "output")
	assert.NotContains(t, got, "whsec_configured", "output shows a credential")
	assert.NotContains(t, got, jopaycheckouttest.DefaultAPIKey, "output shows a credential")
}
