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
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
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
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := strings.Count(got, "FULFILLED"); n != 1 {
		t.Errorf("fulfilled %d times, want exactly once:\n%s", n, got)
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
	if err == nil || !strings.HasPrefix(err.Error(), "missing JOVEPAY_API_KEY:") {
		t.Fatalf("err = %v", err)
	}
	if out.Len() > 0 {
		t.Errorf("printed before stopping: %s", out.String())
	}
}

// Only the key is required: the base URL defaults to JovePay's production API.
func TestBaseURLIsOptional(t *testing.T) {
	clearEnv(t)
	t.Setenv("JOVEPAY_API_KEY", "k")
	cfg, err := configure()
	if err != nil || cfg.fake != nil {
		t.Fatalf("fake %v, err %v", cfg.fake != nil, err)
	}
	if cfg.baseURL != jovepay.DefaultBaseURL {
		t.Errorf("base URL %s, want %s", cfg.baseURL, jovepay.DefaultBaseURL)
	}
	t.Setenv("JOVEPAY_BASE_URL", jovepay.SandboxBaseURL)
	if cfg, _ := configure(); cfg.baseURL != jovepay.SandboxBaseURL {
		t.Errorf("JOVEPAY_BASE_URL ignored: %s", cfg.baseURL)
	}
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
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
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
	if !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("output does not match %q:\n%s", want, got)
	}
	if d := srv.Deliveries(); len(d) != 0 {
		t.Errorf("%d IPNs delivered, want none without an ipn_callback_url", len(d))
	}
	if strings.Contains(got, srv.APIKey()) {
		t.Errorf("output shows the key:\n%s", got)
	}
}
