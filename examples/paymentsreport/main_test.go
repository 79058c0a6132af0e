package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	got := out.String()
	for _, want := range []string{
		"payments: 24 (pages of 10)",
		"by status: finished 13, partially_paid 4, waiting 3, expired 4",
		"received (finished, pay currency): 0.0055992 btc, 0.043992 eth, 2.34343750 ltc, 279.96 usdttrc20",
		"revenue (finished, price): 857.38 usd",
		"open (not final, price): 544.93 usd",
		"repeated deposits (review by hand): 1",
		"JWT logins: 1 for 3 list requests",
	} {
		assert.Contains(t, got, want, "output lacks")
	}
	if t.Failed() {
		t.Log(got)
	}
}

// Any JOVEPAY_* variable the example reads selects a real account; then the run stops before
// doing anything and names exactly the credentials that are missing, never a value.
func TestPartialConfigNamesTheMissing(t *testing.T) {
	for _, tc := range []struct {
		set     map[string]string
		missing string
	}{
		{map[string]string{"JOVEPAY_API_KEY": "secretvalue"}, "missing JOVEPAY_EMAIL, JOVEPAY_PASSWORD:"},
		{map[string]string{"JOVEPAY_BASE_URL": "https://api-sandbox.jovepay.io/v1"}, "missing JOVEPAY_API_KEY, JOVEPAY_EMAIL, JOVEPAY_PASSWORD:"},
		{map[string]string{"JOVEPAY_EMAIL": "me@example.org", "JOVEPAY_PASSWORD": "secretvalue"}, "missing JOVEPAY_API_KEY:"},
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

// Against a configured account (here a separately started fake) the report asks for JovePay's
// largest page, not the demo's page of 10.
func TestRunAgainstConfiguredEndpoint(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	require.NoError(t, err)
	ctx := context.Background()
	p, err := c.CreatePayment(ctx, jovepay.CreatePaymentParams{PriceAmount: paykit.MustDecimal("10"), PriceCurrency: "usd", PayCurrency: "btc", OrderID: "R-1"})
	require.NoError(t, err)
	_, err = srv.Pay(ctx, p.ID)
	require.NoError(t, err)
	email, password := srv.Credentials()
	clearEnv(t)
	t.Setenv("JOVEPAY_BASE_URL", srv.BaseURL)
	t.Setenv("JOVEPAY_API_KEY", srv.APIKey())
	t.Setenv("JOVEPAY_EMAIL", email)
	t.Setenv("JOVEPAY_PASSWORD", password)
	var out bytes.Buffer
	err = run(ctx, &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	got := out.String()
	for _, want := range []string{"report for the last 30 days at " + srv.BaseURL, "payments: 1 (pages of 500)", "revenue (finished, price): 10 usd"} {
		assert.Contains(t, got, want, "output lacks %q:\n%s", want, got)
	}
	var limits []string
	for _, r := range srv.Calls() {
		if r.Method == "GET" && r.Path == "/v1/payment/" {
			limits = append(limits, r.Query.Get("limit"))
		}
	}
	assert.Equal(t, []string{"500"}, limits, "limits asked for by list requests")
	assert.NotContains(t, got, password, "output shows a credential")
	assert.NotContains(t, got, srv.APIKey(), "output shows a credential")
}

// Only the credentials are required: the base URL defaults to JovePay's production API. (The
// context is cancelled, so the run stops at the first request without reaching the network.)
func TestBaseURLIsOptional(t *testing.T) {
	clearEnv(t)
	t.Setenv("JOVEPAY_API_KEY", "k")
	t.Setenv("JOVEPAY_EMAIL", "me@example.org")
	t.Setenv("JOVEPAY_PASSWORD", "p")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := run(ctx, &out)
	require.Error(t, err, "want the cancelled first request")
	require.False(t, strings.HasPrefix(err.Error(), "missing"), "err = %v, want the cancelled first request", err)
	want := "report for the last 30 days at " + jovepay.DefaultBaseURL + "\n"
	assert.Contains(t, out.String(), want, "output %q lacks %q", out.String(), want)
}
