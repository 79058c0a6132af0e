package main

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

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
		"against the in-process fake (set JOVEPAY_API_KEY to use your JovePay account)",
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
		assert.Contains(t, got, want, "output lacks")
	}
	assert.Equal(t, 1, strings.Count(got, "FULFILLED"), "fulfilments, want exactly one:\n%s", got)
	if t.Failed() {
		t.Log(got)
	}
}

// Any JOVEPAY_* variable the example reads selects a real endpoint; without the key the run
// stops before doing anything and names it.
func TestPartialConfigNamesTheMissing(t *testing.T) {
	clearEnv(t)
	t.Setenv("JOVEPAY_BASE_URL", "https://api-sandbox.jovepay.io/v1")
	var out bytes.Buffer
	err := run(context.Background(), &out)
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "missing JOVEPAY_API_KEY:"), "err = %v", err)
	assert.Empty(t, out.String(), "printed before stopping: %s", out.String())
}

// Only the key is required: the base URL defaults to JovePay's production API.
func TestBaseURLIsOptional(t *testing.T) {
	clearEnv(t)
	t.Setenv("JOVEPAY_API_KEY", "k")
	cfg, err := configure()
	require.NoError(t, err)
	require.Nil(t, cfg.fake, "fake server configured")
	assert.Equal(t, jovepay.DefaultBaseURL, cfg.baseURL, "base URL")
	t.Setenv("JOVEPAY_BASE_URL", jovepay.SandboxBaseURL)
	cfg, _ = configure()
	assert.Equal(t, jovepay.SandboxBaseURL, cfg.baseURL, "JOVEPAY_BASE_URL ignored")
}

// The real-endpoint path, offline: a separately started fake stands in for JovePay. The
// payment is created without an ipn_callback_url and the example stops once it exists.
func TestRunAgainstConfiguredEndpoint(t *testing.T) {
	srv := jovepaytest.NewServer()
	defer srv.Close()
	clearEnv(t)
	t.Setenv("JOVEPAY_BASE_URL", srv.BaseURL)
	t.Setenv("JOVEPAY_API_KEY", srv.APIKey())
	var out bytes.Buffer
	err := run(context.Background(), &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	got := out.String()
	want := `^JovePay standard flow against ` + regexp.QuoteMeta(srv.BaseURL) + `
1\. GET /status: API is up
2\. .*
3\. .*
4\. .*
5\. POST /payment: order A-1001 → payment \d+, waiting
   deposit address: .*
6\. GET /payment/\d+: waiting\. JovePay cannot post IPNs to this machine .*
   so the example stops here; .*
$`
	assert.Regexp(t, want, got, "output")
	assert.Empty(t, srv.Deliveries(), "IPNs delivered without an ipn_callback_url")
	assert.NotContains(t, got, srv.APIKey(), "output shows the key")
}
