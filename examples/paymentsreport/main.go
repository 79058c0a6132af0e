// Command paymentsreport logs in with the JovePay dashboard credentials (a JWT from POST /auth,
// cached and shared by every request) and builds a report over all payments with the
// ListPayments iterator, which fetches the 0-based pages lazily. Amounts are summed exactly
// with paykit.Decimal.
//
// With no configuration it starts the jovepaytest fake in-process and seeds it with payments in
// every status, listed in pages of 10 to show the paging. Set JOVEPAY_API_KEY, JOVEPAY_EMAIL and
// JOVEPAY_PASSWORD to report on your JovePay account (the last 30 days, in pages of
// jovepay.MaxListLimit); JOVEPAY_BASE_URL overrides the default https://api.jovepay.io/v1.
// Setting only some of the variables stops with the names of the missing ones.
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/jovepay/jovepaytest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "paymentsreport:", err)
		os.Exit(1)
	}
}

// The JOVEPAY_* variables: the API key and the dashboard login are required for a real
// account, the base URL is optional.
var (
	requiredVars = []string{"JOVEPAY_API_KEY", "JOVEPAY_EMAIL", "JOVEPAY_PASSWORD"}
	optionalVars = []string{"JOVEPAY_BASE_URL"}
)

// demoPageSize is the page size against the fake: small, so 24 payments take three pages.
const demoPageSize = 10

func run(ctx context.Context, out io.Writer) error {
	vars, err := envVars(requiredVars, optionalVars)
	if err != nil {
		return err
	}
	params := jovepay.ListPaymentsParams{Limit: demoPageSize, SortBy: jovepay.SortByCreatedAt, OrderBy: jovepay.OrderAsc}
	var (
		fake                       *jovepaytest.Server
		base, key, email, password string
	)
	if vars == nil {
		fake = jovepaytest.NewServer()
		defer fake.Close()
		base, key = fake.BaseURL, fake.APIKey()
		email, password = fake.Credentials()
		fmt.Fprintln(out, "JovePay payments report against the in-process fake (set JOVEPAY_API_KEY, JOVEPAY_EMAIL and JOVEPAY_PASSWORD for your account)")
		if err := seed(ctx, fake); err != nil {
			return err
		}
	} else {
		base, key = cmp.Or(vars["JOVEPAY_BASE_URL"], jovepay.DefaultBaseURL), vars["JOVEPAY_API_KEY"]
		email, password = vars["JOVEPAY_EMAIL"], vars["JOVEPAY_PASSWORD"]
		params.Limit, params.DateFrom = jovepay.MaxListLimit, time.Now().AddDate(0, 0, -30)
		fmt.Fprintf(out, "JovePay payments report for the last 30 days at %s\n", base)
	}
	client, err := jovepay.NewClient(key, jovepay.WithBaseURL(base), jovepay.WithCredentials(email, password))
	if err != nil {
		return err
	}

	var (
		count, repeated int
		byStatus        = map[jovepay.PaymentStatus]int{}
		received        = map[string]paykit.Decimal{} // finished, in the pay currency
		revenue         = map[string]paykit.Decimal{} // finished, in the price currency
		open            = map[string]paykit.Decimal{} // still payable, in the price currency
	)
	add := func(m map[string]paykit.Decimal, cur string, d paykit.Decimal) {
		m[strings.ToLower(cur)] = m[strings.ToLower(cur)].Add(d)
	}
	for p, err := range client.ListPayments(ctx, params) {
		if err != nil {
			return fmt.Errorf("listing payments: %w", err)
		}
		count++
		byStatus[p.Status]++
		if p.IsRepeatedDeposit() {
			repeated++
		}
		switch {
		case p.Status.IsPaid():
			add(received, p.PayCurrency, p.ActuallyPaid)
			add(revenue, p.PriceCurrency, p.PriceAmount)
		case !p.Status.IsTerminal():
			add(open, p.PriceCurrency, p.PriceAmount)
		}
	}

	fmt.Fprintf(out, "payments: %d (pages of %d)\n", count, params.Limit)
	fmt.Fprintf(out, "by status: %s\n", statusLine(byStatus))
	fmt.Fprintf(out, "received (finished, pay currency): %s\n", amounts(received))
	fmt.Fprintf(out, "revenue (finished, price): %s\n", amounts(revenue))
	fmt.Fprintf(out, "open (not final, price): %s\n", amounts(open))
	fmt.Fprintf(out, "repeated deposits (review by hand): %d\n", repeated)
	if fake != nil {
		fmt.Fprintf(out, "JWT logins: %d for %d list requests\n", fake.Logins(), fake.CountCalls("GET", "/v1/payment/"))
	}
	return nil
}

// envVars reads the example's variables. With none set it returns nil: run against the fake.
// With any set a real endpoint is meant, so every required one must be set; the error names
// those missing (never a value).
func envVars(required, optional []string) (map[string]string, error) {
	vars := map[string]string{}
	var missing []string
	for _, k := range slices.Concat(required, optional) {
		if v := os.Getenv(k); v != "" {
			vars[k] = v
		} else if slices.Contains(required, k) {
			missing = append(missing, k)
		}
	}
	switch {
	case len(vars) == 0:
		return nil, nil
	case len(missing) > 0:
		return nil, fmt.Errorf("missing %s: a real endpoint needs %s (optional: %s); unset them all to run against the in-process fake",
			strings.Join(missing, ", "), strings.Join(required, ", "), strings.Join(optional, ", "))
	}
	return vars, nil
}

func statusLine(m map[jovepay.PaymentStatus]int) string {
	var parts []string
	for _, s := range []jovepay.PaymentStatus{jovepay.StatusFinished, jovepay.StatusPartiallyPaid, jovepay.StatusWaiting,
		jovepay.StatusConfirming, jovepay.StatusConfirmed, jovepay.StatusSending, jovepay.StatusExpired,
		jovepay.StatusFailed, jovepay.StatusRefunded} {
		if m[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, m[s]))
		}
	}
	for s, n := range m {
		if !s.IsKnown() {
			parts = append(parts, fmt.Sprintf("%s %d", s, n)) // statuses JovePay added later
		}
	}
	return strings.Join(parts, ", ")
}

func amounts(m map[string]paykit.Decimal) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = m[k].String() + " " + k
	}
	return strings.Join(parts, ", ")
}

// seed fills the fake with 24 payments in every state a real account shows.
func seed(ctx context.Context, srv *jovepaytest.Server) error {
	c, err := srv.NewClient()
	if err != nil {
		return err
	}
	assets := []string{"btc", "eth", "usdttrc20", "ltc"}
	for i := 0; i < 23; i++ {
		price := paykit.NewDecimal(int64(1999+500*i), 2) // 19.99, 24.99, …
		p, err := c.CreatePayment(ctx, jovepay.CreatePaymentParams{
			PriceAmount: price, PriceCurrency: "usd", PayCurrency: assets[i%len(assets)], OrderID: fmt.Sprintf("R-%03d", i+1),
		})
		if err != nil {
			return err
		}
		switch i % 6 {
		case 0, 1, 2:
			_, err = srv.Pay(ctx, p.ID)
		case 3:
			_, err = srv.PayAmount(ctx, p.ID, p.PayAmount.Mul(paykit.MustDecimal("0.5")).Round(8))
		case 4:
			_, err = srv.Expire(ctx, p.ID)
		}
		if err != nil {
			return err
		}
		if i == 3 { // the partial payer tops up: a repeated deposit
			if _, err := srv.Redeposit(ctx, p.ID, p.PayAmount.Sub(p.PayAmount.Mul(paykit.MustDecimal("0.5")).Round(8))); err != nil {
				return err
			}
		}
	}
	return nil
}
