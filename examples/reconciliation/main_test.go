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
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	runs := strings.Split(got, "\nRun ")
	if len(runs) != 4 {
		t.Fatalf("want 3 runs:\n%s", got)
	}
	for i, want := range [][]string{
		{"order A-3001  42.00", "order A-3002", "order A-3003", "DRIFT      request", "order A-3005: ledger 20.99, JoPay 19.99 (-100 cents)",
			`order "A-9999": no such order`, `order "": no such order`,
			"8 verified requests in 3 page(s): 5 matched, 1 drift, 2 unmatched, 0 duplicate"},
		{"order A-3007  73.00", "order A-3008  27.50", "DUPLICATE  request", "order A-3001  42.00: already settled",
			"3 verified requests in 2 page(s): 2 matched, 0 drift, 0 unmatched, 1 duplicate"},
		{"0 verified requests in 1 page(s)"},
	} {
		for _, w := range want {
			if !strings.Contains(runs[i+1], w) {
				t.Errorf("run %d lacks %q", i+1, w)
			}
		}
	}
	// Run 2 starts from run 1's stored cursor and sees only the new rows.
	rows := regexp.MustCompile(`\n   (ok|DUPLICATE|DRIFT|UNMATCHED) `)
	if strings.Contains(runs[2], "order A-3002") || len(rows.FindAllString(runs[2], -1)) != 3 {
		t.Errorf("run 2 repeated old rows:\n%s", runs[2])
	}
	cursor := regexp.MustCompile(`next cursor stored: "(since=[^"]+)"`).FindAllStringSubmatch(got, -1)
	if len(cursor) != 3 || cursor[1][1] != cursor[2][1] || cursor[0][1] == cursor[1][1] {
		t.Errorf("cursors %v", cursor)
	}
	if !strings.Contains(got, "Orders not settled (no payment of the right amount): A-3005") {
		t.Error("missing summary")
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
		{map[string]string{"JOPAY_RECON_CURSOR": "since=2026-01-01T00:00:00Z"}, "missing JOPAY_API_KEY, JOPAY_MERCHANT_ID:"},
		{map[string]string{"JOPAY_BASE_URL": "https://acme.jopay.app/api/v1", "JOPAY_MERCHANT_ID": "m"}, "missing JOPAY_API_KEY:"},
	} {
		clearEnv(t)
		for k, v := range tc.set {
			t.Setenv(k, v)
		}
		var out bytes.Buffer
		err := run(context.Background(), &out)
		if err == nil || !strings.HasPrefix(err.Error(), tc.missing) {
			t.Errorf("%v: err = %v, want it to start %q", tc.set, err, tc.missing)
			continue
		}
		if out.Len() > 0 || strings.Contains(err.Error(), "secretvalue") {
			t.Errorf("%v: printed %q or showed a value: %v", tc.set, out.String(), err)
		}
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
		if err != nil || !cfg.real {
			t.Fatalf("slug %q base %q: real %v, err %v", tc.slug, tc.base, cfg.real, err)
		}
		c, err := jopay.NewClient(cfg.apiKey, cfg.host)
		if err != nil {
			t.Fatal(err)
		}
		if c.BaseURL() != tc.want {
			t.Errorf("slug %q base %q: BaseURL %s, want %s", tc.slug, tc.base, c.BaseURL(), tc.want)
		}
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
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"in pages of 100;", "→ 6 verified requests in 1 page(s)", "store the next cursor: JOPAY_RECON_CURSOR="} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	listCalls := func() (limits []string) {
		for _, c := range srv.Calls() {
			if c.Path == "/api/v1/requests" {
				limits = append(limits, c.Query.Get("limit"))
			}
		}
		return limits
	}
	if l := listCalls(); len(l) != 1 || l[0] != "100" {
		t.Errorf("list calls sent %v, want one limit of 100", l)
	}

	// The next run starts from the printed cursor and finds nothing new.
	m := regexp.MustCompile(`JOPAY_RECON_CURSOR="([^"]+)"`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no cursor printed:\n%s", got)
	}
	t.Setenv("JOPAY_RECON_CURSOR", m[1])
	srv.ResetCalls()
	out.Reset()
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("second run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "→ 0 verified requests in 1 page(s)") {
		t.Errorf("second run:\n%s", out.String())
	}
	if l := listCalls(); len(l) != 1 || l[0] != "100" {
		t.Errorf("second run's list calls sent %v, want one limit of 100", l)
	}
}
