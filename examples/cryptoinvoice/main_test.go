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
		"1. POST /invoice: invoice 5000000001 for 49.99 usd, success_url https://shop.example/orders/INV-2001/thanks",
		"2. redirect the customer to the hosted page: http://127.0.0.1:…/payment/?iid=5000000001",
		"the page shows: JovePay invoice 5000000001: 49.99 USD — choose a currency",
		"3. POST /invoice-payment: the customer picks ltc → payment 5000000003, send 0.624875 ltc",
		"IPN INV-2001 (invoice 5000000001) confirming",
		"IPN INV-2001 (invoice 5000000001) finished: 0.624875 ltc received → ORDER INV-2001 FULFILLED",
		"5. the hosted page sends the customer back: 303 → https://shop.example/orders/INV-2001/thanks",
		"fulfilled: true",
	} {
		assert.Contains(t, got, want, "output lacks")
	}
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
	base, key, real, err := endpoint()
	require.NoError(t, err, "endpoint()")
	require.True(t, real, "endpoint(): real client")
	require.Equal(t, "k", key, "endpoint(): key")
	require.Equal(t, jovepay.DefaultBaseURL, base, "endpoint(): base URL")
	t.Setenv("JOVEPAY_BASE_URL", jovepay.SandboxBaseURL)
	base, _, _, _ = endpoint()
	assert.Equal(t, jovepay.SandboxBaseURL, base, "JOVEPAY_BASE_URL ignored")
}

// The real-endpoint path, offline: a separately started fake stands in for JovePay. The
// invoice and its payment are created without an ipn_callback_url, and the example stops.
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
	want := `^JovePay invoice flow against ` + regexp.QuoteMeta(srv.BaseURL) + `
1\. POST /invoice: invoice \d+ for 49\.99 usd, .*
2\. redirect the customer to the hosted page: ` + regexp.QuoteMeta(srv.URL) + `/payment/\?iid=\d+
3\. POST /invoice-payment: the customer picks ltc → payment \d+, .*
4\. JovePay cannot post IPNs to this machine .*
   open the invoice page above to pay, .*
$`
	assert.Regexp(t, want, got, "output")
	assert.NotContains(t, got, srv.APIKey(), "output shows the key")
}
