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
	for _, want := range []string{
		"(set JOPAY_API_KEY and JOPAY_MERCHANT_ID to use your JoPay account)",
		"1. Invoice INV-2026-0042 for Acme GmbH",
		`2. Without the customer name the client refuses before sending anything:`,
		`invalid customer_name: required when payment_mode is "invoice"`,
		`(*paykit.ValidationError, Field "customer_name"; JoPay itself would answer 400 customer_name_required)`,
		"3. Billing in EUR by mistake: JoPay answers 400 currency_mismatch, expected currency USD",
		"4. Invoice requests created (payment_mode invoice)",
		`INV-2026-0042: request `,
		`customer "Acme GmbH", valid for 7 days (JoPay's invoice default)`,
		`valid for 3 days (ExpiryMinutes override)`,
		"email to billing@acme.example",
		"5. Three days later Acme GmbH pays",
		"invoice INV-2026-0042 PAID by Acme GmbH",
		"6. Eight days in, INV-2026-0043 has not paid: request ",
		"is expired; send a reminder",
		"7. Ledger: INV-2026-0042 paid, INV-2026-0043 overdue",
	} {
		assert.Contains(t, got, want, "output lacks")
	}
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
		{map[string]string{"JOPAY_API_KEY": "jo_test_secretvalue"}, "missing JOPAY_MERCHANT_ID:"},
		{map[string]string{"JOPAY_SLUG": "acme"}, "missing JOPAY_API_KEY, JOPAY_MERCHANT_ID:"},
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

// Only the credentials are required: the host defaults to JoPay's shared host, and JOPAY_SLUG
// or JOPAY_BASE_URL override it.
func TestHostIsOptional(t *testing.T) {
	for _, tc := range []struct{ slug, base, want string }{
		{"", "", jopay.AdminBaseURL},
		{"acme", "", "https://acme.jopay.app/api/v1"},
		{"", "https://proxy.example/api/v1", "https://proxy.example/api/v1"},
	} {
		clearEnv(t)
		t.Setenv("JOPAY_API_KEY", "jo_test_k")
		t.Setenv("JOPAY_MERCHANT_ID", "m")
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

// The real-endpoint path, offline: a separately started fake stands in for JoPay.
func TestRunAgainstConfiguredEndpoint(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	clearEnv(t)
	t.Setenv("JOPAY_BASE_URL", srv.BaseURL)
	t.Setenv("JOPAY_API_KEY", jopaytest.DefaultAPIKey)
	t.Setenv("JOPAY_MERCHANT_ID", jopaytest.DefaultMerchantID)
	var out bytes.Buffer
	err := run(context.Background(), &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	got := out.String()
	want := `^JoPay invoicing example against ` + regexp.QuoteMeta(srv.BaseURL) + ` \(test key\)
1\. Invoice INV-2026-0042-\d+ for Acme GmbH <billing@acme\.example>: 1250\.00 USD
2\. Without the customer name the client refuses before sending anything:
(?:   .*\n)+3\. Invoice requests created \(payment_mode invoice\):
(?:   .*\n)+4\. Send the links\.`
	assert.Regexp(t, want, got, "output")
	assert.Len(t, srv.PaymentRequests(), 2, "requests created")
	assert.NotContains(t, got, jopaytest.DefaultAPIKey, "output shows the key")
}
