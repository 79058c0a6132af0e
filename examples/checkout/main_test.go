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

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
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
	start := time.Now()
	err := run(ctx, &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	assert.LessOrEqual(t, time.Since(start), 5*time.Second, "took")
	got := out.String()
	for _, want := range []string{
		"in-process fake JoPay at http://127.0.0.1:",
		"(set JOPAY_API_KEY, JOPAY_MERCHANT_ID and JOPAY_WEBHOOK_SECRET to use your JoPay account)",
		`idempotency key sha256("checkout:A-1001") = 0d9003f1c82c5cf2…`,
		"JoPay holds 1 request(s) for order A-1001 after the retry",
		"the second create returns the same request: true",
		"request status now opened",
		"webhook payment.proof_attached for request",
		"order A-1001 awaiting on-chain confirmation, not paid yet",
		"order A-1001 marked PAID",
		"7. JoPay delivers payment.proof_verified again, under a new delivery_id",
		"answered 200 without running the handler: this request's payment.proof_verified was already processed, so the order is not fulfilled twice",
		"answered 400 invalid_signature and ignored",
		"Order A-1001 is paid (fulfilled 1 time(s))",
		"has proof verified",
	} {
		assert.Contains(t, got, want, "output lacks")
	}
	assert.Regexp(t, `Webhook endpoint listening on http://127\.0\.0\.1:\d+/webhooks/jopay`, got, "no local webhook endpoint line")
	assert.Equal(t, 1, strings.Count(got, "marked PAID"), "order marked paid more than once")
	if t.Failed() {
		t.Log(got)
	}
}

// Any JOPAY_* variable selects a real endpoint; then the run stops before doing anything and
// names exactly the credentials that are missing, never a value.
func TestPartialConfigNamesTheMissing(t *testing.T) {
	for _, tc := range []struct {
		set     map[string]string
		missing string
	}{
		{map[string]string{"JOPAY_API_KEY": "jo_test_secretvalue"}, "missing JOPAY_MERCHANT_ID, JOPAY_WEBHOOK_SECRET:"},
		{map[string]string{"JOPAY_BASE_URL": "https://acme.jopay.app/api/v1"}, "missing JOPAY_API_KEY, JOPAY_MERCHANT_ID, JOPAY_WEBHOOK_SECRET:"},
		{map[string]string{"JOPAY_WAIT": "1m", "JOPAY_WEBHOOK_SECRET": "whsec_secretvalue"}, "missing JOPAY_API_KEY, JOPAY_MERCHANT_ID:"},
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
		assert.Empty(t, out.String(), "%v: printed before stopping: %s", tc.set, out.String())
		assert.NotContains(t, err.Error(), "secretvalue", "a value in the error: %v", err)
	}
}

// Only the credentials are required: the host defaults to JoPay's shared host, and JOPAY_SLUG
// or JOPAY_BASE_URL override it.
func TestHostIsOptional(t *testing.T) {
	for _, tc := range []struct {
		slug, base, want string
	}{
		{"", "", jopay.AdminBaseURL},
		{"acme", "", "https://acme.jopay.app/api/v1"},
		{"", "https://proxy.example/jopay/api/v1", "https://proxy.example/jopay/api/v1"},
	} {
		clearEnv(t)
		t.Setenv("JOPAY_API_KEY", "jo_test_k")
		t.Setenv("JOPAY_MERCHANT_ID", "m")
		t.Setenv("JOPAY_WEBHOOK_SECRET", "s")
		t.Setenv("JOPAY_SLUG", tc.slug)
		t.Setenv("JOPAY_BASE_URL", tc.base)
		cfg, err := configFromEnv()
		require.NoError(t, err, "slug %q base %q", tc.slug, tc.base)
		require.True(t, cfg.real, "slug %q base %q: real client", tc.slug, tc.base)
		c, err := jopay.NewClient(cfg.apiKey, cfg.host)
		require.NoError(t, err)
		assert.Equal(t, tc.want, c.BaseURL(), "slug %q base %q: BaseURL", tc.slug, tc.base)
	}
	t.Setenv("JOPAY_SLUG", "acme")
	_, err := configFromEnv()
	if assert.Error(t, err, "both set") {
		assert.Contains(t, err.Error(), "JOPAY_SLUG or JOPAY_BASE_URL, not both", "both set")
	}
}

// The real-endpoint path, offline: a separately started fake stands in for JoPay and pays the
// request once the example has created it; the webhook reaches the example's endpoint.
func TestRunAgainstConfiguredEndpoint(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	clearEnv(t)
	t.Setenv("JOPAY_BASE_URL", srv.BaseURL)
	t.Setenv("JOPAY_API_KEY", jopaytest.DefaultAPIKey)
	t.Setenv("JOPAY_MERCHANT_ID", jopaytest.DefaultMerchantID)
	t.Setenv("JOPAY_WEBHOOK_SECRET", jopaytest.WebhookSecret)
	t.Setenv("JOPAY_WEBHOOK_ADDR", addr)
	t.Setenv("JOPAY_WAIT", "10s")
	srv.SetWebhook("http://"+addr+webhookPath, jopaytest.WebhookSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if rs := srv.PaymentRequests(); len(rs) > 0 {
				_, _ = srv.Pay(ctx, rs[0].ID)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var out bytes.Buffer
	err = run(ctx, &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	got := out.String()
	for _, pat := range []string{
		`^JoPay checkout example against ` + regexp.QuoteMeta(srv.BaseURL) + ` \(test key\)\n1\. Order A-\d+`,
		`\n4\. Customer double-clicks "Pay": the second create returns the same request: true`,
		`\n5\. Pay at http://127\.0\.0\.1:\d+/pay/`,
		`marked PAID`,
		`\n6\. Order A-\d+ paid\.\n$`,
	} {
		assert.Regexp(t, pat, got, "output")
	}
	assert.NotContains(t, got, jopaytest.DefaultAPIKey, "output shows a credential")
	assert.NotContains(t, got, jopaytest.WebhookSecret, "output shows a credential")
}
