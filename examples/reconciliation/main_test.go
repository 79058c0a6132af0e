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
	runs := strings.Split(got, "\nRun ")
	require.Len(t, runs, 4, "want 3 runs:\n%s", got)
	for i, want := range [][]string{
		{"order A-3001  42.00", "order A-3002", "order A-3003", "DRIFT      request", "order A-3005: ledger 20.99, JoPay 19.99 (-100 cents)",
			`order "A-9999": no such order`, `order "": no such order`,
			"8 verified requests in 3 page(s): 5 matched, 1 drift, 2 unmatched, 0 duplicate"},
		{"order A-3007  73.00", "order A-3008  27.50", "DUPLICATE  request", "order A-3001  42.00: already settled",
			"3 verified requests in 2 page(s): 2 matched, 0 drift, 0 unmatched, 1 duplicate"},
		{"0 verified requests in 1 page(s)"},
	} {
		for _, w := range want {
			assert.Contains(t, runs[i+1], w, "run %d lacks", i+1)
		}
	}
	// Run 2 starts from run 1's stored cursor and sees only the new rows.
	rows := regexp.MustCompile(`\n   (ok|DUPLICATE|DRIFT|UNMATCHED) `)
	assert.NotContains(t, runs[2], "order A-3002", "run 2 repeated old rows")
	assert.Len(t, rows.FindAllString(runs[2], -1), 3, "run 2 rows:\n%s", runs[2])
	cursor := regexp.MustCompile(`next cursor stored: "(since=[^"]+)"`).FindAllStringSubmatch(got, -1)
	if assert.Len(t, cursor, 3, "cursors %v", cursor) {
		assert.Equal(t, cursor[1][1], cursor[2][1], "cursors %v", cursor)
		assert.NotEqual(t, cursor[0][1], cursor[1][1], "cursors %v", cursor)
	}
	assert.Contains(t, got, "Orders not settled (no payment of the right amount): A-3005", "missing summary")
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
		{map[string]string{"JOPAY_RECON_CURSOR": "since=2026-01-01T00:00:00Z"}, "missing JOPAY_API_KEY, JOPAY_MERCHANT_ID:"},
		{map[string]string{"JOPAY_BASE_URL": "https://acme.jopay.app/api/v1", "JOPAY_MERCHANT_ID": "m"}, "missing JOPAY_API_KEY:"},
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

// Against a configured endpoint (here a separately started fake) the job asks for JoPay's
// largest page, not the demo's page of 4, and resumes from JOPAY_RECON_CURSOR.
func TestRunAgainstConfiguredEndpoint(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	var rows []jopaytest.PaymentRequestFixture
	for i := range 6 {
		rows = append(rows, jopaytest.PaymentRequestFixture{CreatedAt: time.Now().Add(-time.Hour + time.Duration(i)*time.Minute),
			ProofStatus: jopay.ProofStatusVerified, Status: jopay.StatusOpened})
	}
	srv.AddPaymentRequests(rows...)
	clearEnv(t)
	t.Setenv("JOPAY_BASE_URL", srv.BaseURL)
	t.Setenv("JOPAY_API_KEY", jopaytest.DefaultAPIKey)
	t.Setenv("JOPAY_MERCHANT_ID", jopaytest.DefaultMerchantID)
	var out bytes.Buffer
	err := run(context.Background(), &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	got := out.String()
	for _, want := range []string{"in pages of 100;", "→ 6 verified requests in 1 page(s)", "store the next cursor: JOPAY_RECON_CURSOR="} {
		assert.Contains(t, got, want, "output lacks %q:\n%s", want, got)
	}
	listCalls := func() (limits []string) {
		for _, c := range srv.Calls() {
			if c.Path == "/api/v1/requests" {
				limits = append(limits, c.Query.Get("limit"))
			}
		}
		return limits
	}
	assert.Equal(t, []string{"100"}, listCalls(), "limits sent by list calls")

	// The next run starts from the printed cursor and finds nothing new.
	m := regexp.MustCompile(`JOPAY_RECON_CURSOR="([^"]+)"`).FindStringSubmatch(got)
	require.NotNil(t, m, "no cursor printed:\n%s", got)
	t.Setenv("JOPAY_RECON_CURSOR", m[1])
	srv.ResetCalls()
	out.Reset()
	err = run(context.Background(), &out)
	require.NoError(t, err, "second run output:\n%s", out.String())
	assert.Contains(t, out.String(), "→ 0 verified requests in 1 page(s)", "second run")
	assert.Equal(t, []string{"100"}, listCalls(), "limits sent by the second run's list calls")
}
