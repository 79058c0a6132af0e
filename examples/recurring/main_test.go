package main

import (
	"bytes"
	"context"
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
	for _, k := range slices.Concat([]string{"JOPAY_API_KEY", "JOPAY_WEBHOOK_SECRET"}, optionalVars) {
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
	for _, want := range []string{
		"1. Plans set up by the merchant",
		"coffee club {billing_cycle=monthly subscription_id=SUB-8821}",
		"2. Charges and payments as they happen:",
		"coffee club, March: request ",
		"(plan charge, 19.00)",
		"shop order A-2001: request ",
		"(one-off, 42.00)",
		"SUBSCRIPTION charge SUB-8821 (monthly): charge #1 recorded",
		"SUBSCRIPTION charge SUB-8821 (monthly): charge #2 recorded",
		"SUBSCRIPTION charge PLAN-TEA-WEEKLY (weekly): charge #1 recorded",
		"ONE-OFF payment for order A-2001",
		"3. A day passes",
		"5. Daily poll for failed charges: GET /requests?status=expired&since=",
		"FAILED charge for SUB-8821 (monthly, 19.00)",
		"6. Billing summary:",
		"subscription PLAN-TEA-WEEKLY: 1 charge(s) paid, 0 failed",
		"subscription SUB-8821: 2 charge(s) paid, 1 failed",
		"one-off payments: 1 (A-2001)",
	} {
		assert.Contains(t, got, want, "output lacks")
	}
	assert.Equal(t, 1, strings.Count(got, "ONE-OFF"), "charges misclassified")
	assert.Equal(t, 3, strings.Count(got, "SUBSCRIPTION charge"), "charges misclassified")
	if t.Failed() {
		t.Log(got)
	}
}

// Any of the example's JOPAY_* variables selects a real endpoint; then the run stops before
// doing anything and names exactly the credentials that are missing, never a value.
func TestPartialConfigNamesTheMissing(t *testing.T) {
	for _, tc := range []struct {
		set     map[string]string
		missing string
	}{
		{map[string]string{"JOPAY_MERCHANT_ID": "m"}, "missing JOPAY_API_KEY:"},
		{map[string]string{"JOPAY_WEBHOOK_SECRET": "whsec_secretvalue"}, "missing JOPAY_API_KEY:"},
		// Listening for webhooks needs the secret that verifies them.
		{map[string]string{"JOPAY_API_KEY": "jo_test_secretvalue", "JOPAY_WAIT": "1m"}, "missing JOPAY_WEBHOOK_SECRET:"},
		{map[string]string{"JOPAY_WAIT": "1m"}, "missing JOPAY_API_KEY, JOPAY_WEBHOOK_SECRET:"},
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
		assert.NotContains(t, err.Error(), "secretvalue", "%v: a value in the error", tc.set)
	}
}

// Only the key is required: the host defaults to JoPay's shared host, and JOPAY_SLUG or
// JOPAY_BASE_URL override it.
func TestHostIsOptional(t *testing.T) {
	for _, tc := range []struct{ slug, base, want string }{
		{"", "", jopay.AdminBaseURL},
		{"acme", "", "https://acme.jopay.app/api/v1"},
		{"", "https://proxy.example/api/v1", "https://proxy.example/api/v1"},
	} {
		clearEnv(t)
		t.Setenv("JOPAY_API_KEY", "jo_test_k")
		t.Setenv("JOPAY_SLUG", tc.slug)
		t.Setenv("JOPAY_BASE_URL", tc.base)
		cfg, err := configFromEnv()
		require.NoError(t, err, "slug %q base %q", tc.slug, tc.base)
		require.True(t, cfg.real, "slug %q base %q: real client", tc.slug, tc.base)
		c, err := jopay.NewClient(cfg.apiKey, cfg.host)
		require.NoError(t, err)
		assert.Equal(t, tc.want, c.BaseURL(), "slug %q base %q: BaseURL", tc.slug, tc.base)
	}
}

// The real-endpoint path, offline: a separately started fake holds one expired plan charge.
// The steps are numbered from 1, and the poll asks for JoPay's largest page.
func TestRunAgainstConfiguredEndpoint(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	srv.AddPaymentRequests(jopaytest.PaymentRequestFixture{CreatedAt: time.Now().Add(-time.Hour), Status: jopay.StatusExpired, FiatAmountInt: 1900,
		Metadata: map[string]string{jopay.MetadataSubscriptionID: "SUB-1", jopay.MetadataBillingCycle: "monthly"}})
	clearEnv(t)
	t.Setenv("JOPAY_BASE_URL", srv.BaseURL)
	t.Setenv("JOPAY_API_KEY", jopaytest.DefaultAPIKey)
	var out bytes.Buffer
	err := run(context.Background(), &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	got := out.String()
	want := `^JoPay recurring example against ` + regexp.QuoteMeta(srv.BaseURL) + ` \(test key\)
1\. Daily poll for failed charges: GET /requests\?status=expired&since=\S+&limit=100
   FAILED charge for SUB-1 \(monthly, 19\.00\): request \S+ expired unpaid → .*
2\. Billing summary:
   subscription SUB-1: 0 charge\(s\) paid, 1 failed
   one-off payments: none
$`
	assert.Regexp(t, want, got, "output")
	var limits []string
	for _, c := range srv.Calls() {
		if c.Path == "/api/v1/requests" {
			limits = append(limits, c.Query.Get("limit"))
		}
	}
	assert.Equal(t, []string{"100"}, limits, "limits sent by list calls")
}

// With JOPAY_WAIT the program listens first; the numbering still starts at 1 and runs on.
func TestRunAgainstConfiguredEndpointListening(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	clearEnv(t)
	t.Setenv("JOPAY_BASE_URL", srv.BaseURL)
	t.Setenv("JOPAY_API_KEY", jopaytest.DefaultAPIKey)
	t.Setenv("JOPAY_WEBHOOK_SECRET", jopaytest.WebhookSecret)
	t.Setenv("JOPAY_WAIT", "50ms")
	var out bytes.Buffer
	err := run(context.Background(), &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	got := out.String()
	want := `^JoPay recurring example against \S+ \(test key\)
1\. Listening 50ms for charge webhooks on http://127\.0\.0\.1:\d+/webhooks/jopay .*
2\. Daily poll for failed charges: .*
   no expired requests
3\. Billing summary:
`
	assert.Regexp(t, want, got, "output")
	assert.NotContains(t, got, jopaytest.WebhookSecret, "output shows a credential")
	assert.NotContains(t, got, jopaytest.DefaultAPIKey, "output shows a credential")
}
