package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paykit-go/paykit/pepay/pepaytest"
)

func clearEnv(t *testing.T) {
	for _, k := range []string{"PEPAY_BASE_URL", "PEPAY_API_KEY", "PEPAY_WEBHOOK_SECRET", "PEPAY_ENVIRONMENT", "PEPAY_WAIT"} {
		t.Setenv(k, "")
	}
}

func TestRunAgainstFake(t *testing.T) {
	clearEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"Using an in-process fake Pepay",
		"/webhooks/pepay registered",
		"2. WebSocket stream connected (/ws/merchant/events, format=event_v1)",
		"3. Invoice d8a0787b-df14-48ce-a383-f624ab9ff909 created for $25.00",
		"Hosted payment URL: http://127.0.0.1:",
		"Payor session: 25.000 USD due, status unpaid",
		"invoice underpaid, paid 10.000 of 25.000 USD",
		"Fake Pepay drops the WebSocket connection",
		"[stream] connection lost",
		"[stream] reconnected, resuming with since=evt_",
		"invoice paid, paid 25.000 of 25.000 USD",
		"=> order 1001 paid in full: released for shipping",
		"[poll] status paid",
		"5. Polling saw the terminal status: paid",
		"6. Reconciled: invoice paid, paid 25.000 of 25.000 USD (2 payments)",
		"Settlement: settled (stage final) on base",
		"7. 6 events, each processed once (",
		"0 duplicates",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "DUPLICATE") || strings.Count(got, "released for shipping") != 1 {
		t.Errorf("an event was processed twice:\n%s", got)
	}
	// Every event line names a distinct event; the counts add up to six.
	ids := regexp.MustCompile(`\[(stream|webhook)\] (evt_\d+-\d+) `).FindAllStringSubmatch(got, -1)
	seen := map[string]bool{}
	for _, m := range ids {
		if seen[m[2]] {
			t.Errorf("event %s processed twice", m[2])
		}
		seen[m[2]] = true
	}
	if len(seen) != 6 {
		t.Errorf("%d events processed, want 6:\n%s", len(seen), got)
	}
	// Every webhook delivery was answered 200 (handled, or already handled by the stream).
	replies := regexp.MustCompile(`(\d+)× 200 (ok|duplicate)`).FindAllStringSubmatch(got, -1)
	total := 0
	for _, m := range replies {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	if total != 6 {
		t.Errorf("webhook replies total %d, want 6:\n%s", total, got)
	}
	// The stream's resume point is an event the ledger had processed before the drop.
	m := regexp.MustCompile(`resuming with since=(evt_\d+-\d+)`).FindStringSubmatch(got)
	if m == nil || !seen[m[1]] {
		t.Errorf("resume point %v not a processed event", m)
	}
}

// With PEPAY_BASE_URL the example talks to that endpoint (here a separately started fake, with
// the payment made from outside, and no webhook registration: stream and polling still finish).
func TestRunAgainstConfiguredEndpoint(t *testing.T) {
	srv := pepaytest.NewServer()
	defer srv.Close()
	clearEnv(t)
	t.Setenv("PEPAY_BASE_URL", srv.BaseURL)
	t.Setenv("PEPAY_API_KEY", srv.APIKey)
	t.Setenv("PEPAY_WEBHOOK_SECRET", "whsec_configured")
	t.Setenv("PEPAY_WAIT", "10s")
	go func() {
		for srv.InvoiceCount() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		for _, e := range srv.EventLog() {
			_ = srv.Pay(e.InvoiceID)
			return
		}
	}()
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"expose it over HTTPS and add it in the Pepay dashboard", "4. Waiting up to 10s",
		"6. Reconciled: invoice paid", "Settlement: settled", "each processed once", "webhook replies: none"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, srv.APIKey) {
		t.Error("output shows the API key")
	}
}

func TestRunNeedsKeyForRealEndpoint(t *testing.T) {
	clearEnv(t)
	t.Setenv("PEPAY_BASE_URL", "https://api-beta.pepay.io")
	err := run(context.Background(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "PEPAY_API_KEY") {
		t.Errorf("err = %v", err)
	}
}
