package main

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clearEnv unsets every variable the example reads, so the developer's own do not leak in.
func clearEnv(t *testing.T) {
	for _, k := range slices.Concat(requiredVars, optionalVars) {
		t.Setenv(k, "")
	}
}

func TestRunAgainstFake(t *testing.T) {
	clearEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	got := out.String()
	// Every line in its place: each step's own lines first, then the events it caused, each
	// event on the path that was up at the time. Nothing here depends on which path is faster.
	want := []string{
		`Using an in-process fake Pepay at http://127\.0\.0\.1:\d+`,
		`\(set PEPAY_API_KEY and PEPAY_WEBHOOK_SECRET to use your Pepay account\)`,
		`1\. Webhook endpoint http://127\.0\.0\.1:\d+/webhooks/pepay registered \(signature \+ 5-minute timestamp check, dedupe by event id\)`,
		`2\. Invoice d8a0787b-df14-48ce-a383-f624ab9ff909 created for \$25\.00 \(Idempotency-Key [0-9a-f-]{36}\)`,
		`   Hosted payment URL: http://127\.0\.0\.1:\d+/pay/d8a0787b-df14-48ce-a383-f624ab9ff909`,
		`   Payor session: 25\.000 USD due, status unpaid`,
		`   \[webhook\] (evt_\d+-1) invoice\.created: invoice unpaid, paid 0\.000 of 25\.000 USD`,
		`3\. Fake payor sends \$10\.00 of \$25\.00 \(the stream is not running yet: webhooks carry the events\)`,
		`   \[webhook\] evt_\d+-2 invoice_payment\.created: payment underpaid, settlement pending`,
		`   \[webhook\] (evt_\d+-3) invoice\.updated: invoice underpaid, paid 10\.000 of 25\.000 USD`,
		`   \[poll\] status underpaid`,
		`4\. WebSocket stream connected \(/ws/merchant/events, format=event_v1\), resuming after (evt_\d+-3), the last event processed`,
		`   Fake Pepay drops the WebSocket connection`,
		`   \[stream\] connection lost \(the server closed it\); reconnecting in \d+ms`,
		`   \[stream\] reconnected, resuming after (evt_\d+-3)`,
		`5\. The webhook endpoint goes down for a deploy \(it answers 503, so Pepay will retry\); the fake payor sends the remaining \$15\.00`,
		`   \[stream\] evt_\d+-4 invoice_payment\.created: payment confirmed, settlement pending`,
		`   \[stream\] evt_\d+-5 invoice\.updated: invoice paid, paid 25\.000 of 25\.000 USD`,
		`   => order 1001 paid in full: released for shipping`,
		`   \[stream\] evt_\d+-6 invoice_payment\.updated: payment confirmed, settlement settled`,
		`   \[poll\] status paid`,
		`   The webhook endpoint is back: Pepay's retried deliveries of those 3 events are acknowledged \(200 "duplicate"\)`,
		`   without running the handler, since the stream processed them`,
		`6\. Polling saw the terminal status: paid`,
		`7\. Reconciled: invoice paid, paid 25\.000 of 25\.000 USD \(2 payments\)`,
		`   Settlement: settled \(stage final\) on base, merchant settlement \d+, tx 0x[0-9a-f]{64}`,
		`8\. 6 events, each processed once: 3 via stream, 3 via webhook \(0 processed twice\)`,
		`   Webhook deliveries: 3 processed, 3 acknowledged as already processed`,
		`9\. A second stream, aimed at 127\.0\.0\.1:\d+ where nothing listens, gives up after 3 failures in a row:`,
		`   \[stream\] attempt 1 failed \(connection refused\); retrying in \d+ms`,
		`   \[stream\] attempt 2 failed \(connection refused\); retrying in \d+ms`,
		`   Attempt 3 failed too \(connection refused\): Stream gave up and returned a \*pepay\.ReconnectError`,
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	assert.Len(t, lines, len(want), "output lines:\n%s", got)
	var resume []string // the event before the stream, and the two resume points it reported
	for i := range min(len(lines), len(want)) {
		m := regexp.MustCompile(`^` + want[i] + `$`).FindStringSubmatch(lines[i])
		if !assert.NotNil(t, m, "line %d = %q, want %q", i+1, lines[i], want[i]) {
			continue
		}
		if i >= 9 && len(m) > 1 {
			resume = append(resume, m[1])
		}
	}
	// The stream starts, and resumes after the drop, from the last event the webhook processed.
	if len(resume) == 3 {
		assert.Equal(t, resume[0], resume[1], "resume points %v, want the third event each time", resume)
		assert.Equal(t, resume[0], resume[2], "resume points %v, want the third event each time", resume)
	}
	// The reader's words, not the transport's.
	for _, raw := range []string{"pepay:", "frame header", "EOF", "dial tcp", "failed to ", pepaytest.DefaultAPIKey, "whsec_"} {
		assert.NotContains(t, got, raw, "output shows %q:\n%s", raw, got)
	}
}

// Any PEPAY_* variable selects a real endpoint; then the run stops before doing anything and
// names exactly the credentials that are missing, never a value.
func TestPartialConfigNamesTheMissing(t *testing.T) {
	for _, tc := range []struct {
		set     map[string]string
		missing string
	}{
		{map[string]string{"PEPAY_BASE_URL": "https://api-beta.pepay.io"}, "missing PEPAY_API_KEY, PEPAY_WEBHOOK_SECRET:"},
		{map[string]string{"PEPAY_WAIT": "1m"}, "missing PEPAY_API_KEY, PEPAY_WEBHOOK_SECRET:"},
		{map[string]string{"PEPAY_API_KEY": "pk_test_secretvalue", "PEPAY_ENVIRONMENT": "devnet"}, "missing PEPAY_WEBHOOK_SECRET:"},
		{map[string]string{"PEPAY_WEBHOOK_SECRET": "whsec_secretvalue"}, "missing PEPAY_API_KEY:"},
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

// Only the credentials are required: the base URL defaults to Pepay's REST host.
func TestBaseURLIsOptional(t *testing.T) {
	clearEnv(t)
	t.Setenv("PEPAY_API_KEY", "pk_test_k")
	t.Setenv("PEPAY_WEBHOOK_SECRET", "whsec_s")
	cfg, err := loadConfig()
	require.NoError(t, err)
	require.True(t, cfg.real, "real client")
	assert.Equal(t, pepay.DefaultBaseURL, cfg.baseURL, "default base URL")
	assert.Equal(t, pepay.EnvironmentDevnet, cfg.env, "default environment")
	assert.Equal(t, "127.0.0.1:0", cfg.addr, "default address")
	t.Setenv("PEPAY_BASE_URL", "https://pepay.example")
	cfg, _ = loadConfig()
	assert.Equal(t, "https://pepay.example", cfg.baseURL, "PEPAY_BASE_URL ignored")
}

// The real-endpoint path, offline: a separately started fake, with its webhooks sent to
// PEPAY_WEBHOOK_ADDR and the payment made from outside. Both paths are up at once here, so
// which one processes an event is a race; together they process each once. The steps number
// 1 to 7 without a gap.
func TestRunAgainstConfiguredEndpoint(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	clearEnv(t)
	t.Setenv("PEPAY_BASE_URL", srv.BaseURL)
	t.Setenv("PEPAY_API_KEY", srv.APIKey)
	t.Setenv("PEPAY_WEBHOOK_SECRET", "whsec_configured")
	t.Setenv("PEPAY_WEBHOOK_ADDR", addr)
	t.Setenv("PEPAY_WAIT", "10s")
	srv.SetWebhook("http://"+addr+"/webhooks/pepay", "whsec_configured")
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for srv.InvoiceCount() == 0 {
			if time.Now().After(deadline) {
				assert.Fail(t, "the example created no invoice within 30 s")
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		for _, e := range srv.EventLog() {
			_, _ = srv.Pay(context.Background(), e.InvoiceID)
			return
		}
	}()
	var out bytes.Buffer
	err = run(context.Background(), &out)
	require.NoError(t, err, "run output:\n%s", out.String())
	got := out.String()
	steps := regexp.MustCompile(`(?m)^(\d+)\. `).FindAllStringSubmatch(got, -1)
	for i, m := range steps {
		assert.Equal(t, strconv.Itoa(i+1), m[1], "step %d numbered %s:\n%s", i+1, m[1], got)
	}
	for _, want := range []string{"Pepay at " + srv.BaseURL + " (devnet)",
		"1. Webhook endpoint listening on http://" + addr + "/webhooks/pepay: expose it over HTTPS and add it in the Pepay dashboard",
		"2. WebSocket stream connected", "3. Invoice ", "4. Waiting up to 10s",
		"6. Reconciled: invoice paid", "Settlement: settled", "7. 4 events, each processed once: ", "(0 processed twice)"} {
		assert.Contains(t, got, want, "output lacks %q:\n%s", want, got)
	}
	// Each of the four deliveries was answered 200: processed, or already processed by the stream.
	m := regexp.MustCompile(`Webhook deliveries: (?:(\d+) processed)?(?:, )?(?:(\d+) acknowledged as already processed)?\n`).FindStringSubmatch(got)
	require.NotNil(t, m, "no webhook summary:\n%s", got)
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	assert.Equal(t, 4, a+b, "webhook answers %d + %d, want 4:\n%s", a, b, got)
	assert.NotContains(t, got, srv.APIKey, "output shows a credential")
	assert.NotContains(t, got, "whsec_configured", "output shows a credential")
}
