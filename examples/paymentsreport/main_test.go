package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	for _, k := range []string{"JOVEPAY_BASE_URL", "JOVEPAY_API_KEY", "JOVEPAY_EMAIL", "JOVEPAY_PASSWORD"} {
		t.Setenv(k, "")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
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
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
}

func TestRunNeedsCredentialsForRealAccount(t *testing.T) {
	t.Setenv("JOVEPAY_BASE_URL", "https://api-sandbox.jovepay.io/v1")
	t.Setenv("JOVEPAY_API_KEY", "k")
	t.Setenv("JOVEPAY_EMAIL", "")
	t.Setenv("JOVEPAY_PASSWORD", "")
	if err := run(context.Background(), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "JOVEPAY_EMAIL") {
		t.Fatalf("err = %v", err)
	}
}
