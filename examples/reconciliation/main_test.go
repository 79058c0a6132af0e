package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	for _, k := range []string{"JOPAY_BASE_URL", "JOPAY_API_KEY", "JOPAY_MERCHANT_ID", "JOPAY_WEBHOOK_SECRET"} {
		t.Setenv(k, "")
	}
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
