// Command reconciliation runs the JoPay nightly reconciliation pattern: page through verified
// payment requests with a moving since cursor, match each against the app's own ledger by
// metadata.order_id, flag payments with no matching order and amounts that drifted, and store
// the cursor so the next run starts where this one stopped — without repeating or skipping
// requests that share a created_at timestamp.
//
//	go run ./examples/reconciliation
//
// With no configuration it runs twice against the in-process fake (jopaytest), with new
// payments arriving in between, then once more with nothing new; pages of 4 show the cursor at
// work. Set JOPAY_API_KEY and JOPAY_MERCHANT_ID to reconcile your JoPay account (its verified
// requests of the last 24 hours, or from the cursor in JOPAY_RECON_CURSOR) against an empty demo
// ledger, in pages of jopay.MaxListLimit; the next cursor is printed for you to store. The host is
// the shared https://admin.jopay.app/api/v1 unless JOPAY_SLUG (your own
// https://{slug}.jopay.app/api/v1) or JOPAY_BASE_URL says otherwise. Setting only some of the
// variables stops with the names of the missing ones.
//
// Rate limits: JoPay allows 60 requests per minute per API key. A jopay.Client keeps to that
// by itself (see jopay.WithRateLimiter), which is what the run against your account relies on.
// Against the fake the job and a webhook worker share one key, so they share one explicit
// *rate.Limiter instead; every run prints what the last page's response said besides its body
// (paykit.WithResponseInfo): status, attempts, JoPay's request id and rate-limit headers.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "reconciliation:", err)
		os.Exit(1)
	}
}

type config struct {
	real               bool
	host               jopay.Option // JOPAY_SLUG, JOPAY_BASE_URL or the shared host
	apiKey, merchantID string
	cursor             string
}

// The JOPAY_* variables: the credentials are required for a real endpoint, the rest optional.
var (
	requiredVars = []string{"JOPAY_API_KEY", "JOPAY_MERCHANT_ID"}
	optionalVars = []string{"JOPAY_SLUG", "JOPAY_BASE_URL", "JOPAY_RECON_CURSOR"}
)

// demoPageSize is the page size against the fake: small, so a handful of rows spans pages and
// the cursor has work to do. Against JoPay the job asks for the largest page, jopay.MaxListLimit.
const demoPageSize = 4

func configFromEnv() (config, error) {
	vars, err := envVars(requiredVars, optionalVars)
	if err != nil || vars == nil {
		return config{}, err
	}
	c := config{real: true, apiKey: vars["JOPAY_API_KEY"], merchantID: vars["JOPAY_MERCHANT_ID"], cursor: vars["JOPAY_RECON_CURSOR"]}
	c.host, err = jopayHost(vars)
	return c, err
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

// jopayHost picks the API host: the partner's own (JOPAY_SLUG), any base URL (JOPAY_BASE_URL),
// or by default the shared host jopay.AdminBaseURL, which serves the same routes and data.
func jopayHost(vars map[string]string) (jopay.Option, error) {
	slug, base := vars["JOPAY_SLUG"], vars["JOPAY_BASE_URL"]
	switch {
	case slug != "" && base != "":
		return nil, errors.New("set JOPAY_SLUG or JOPAY_BASE_URL, not both")
	case slug != "":
		return jopay.WithSlug(slug), nil
	case base != "":
		return jopay.WithBaseURL(base), nil
	}
	return jopay.WithBaseURL(jopay.AdminBaseURL), nil
}

// ledger is the app's own record of orders and what they should have been paid.
type ledger struct {
	expected map[string]int64 // order id → cents
	settled  map[string]string
}

// state is where the job keeps its cursor between runs (a database row in production).
type state struct{ cursor string }

// result is one run's findings.
type result struct {
	seen, matched                  int
	unmatched, drifted, duplicates []string
	pages                          int
	cursorBefore, after            string
	lastPage                       paykit.ResponseInfo // what the last page's response said
}

// reconcile is one scheduled run: verified requests created after the stored cursor and before
// the job started, in pages of pageSize, matched against the ledger. The cursor is stored only
// when the whole run succeeded, so a failed run is simply repeated.
func reconcile(ctx context.Context, client *jopay.Client, l *ledger, st *state, merchantID string, pageSize int, now time.Time, out io.Writer) (*result, error) {
	from, err := jopay.ParseCursor(st.cursor)
	if err != nil {
		return nil, err
	}
	params := jopay.ListRequestsParams{MerchantID: merchantID, ProofStatus: jopay.ProofStatusVerified, Until: now, Limit: pageSize}
	if from.IsZero() {
		params.Since = now.Add(-24 * time.Hour) // first run: yesterday's payments
	}
	res := &result{cursorBefore: st.cursor}
	it := client.ListRequestsFrom(params, from, paykit.WithResponseInfo(&res.lastPage))
	for r, err := range it.All(ctx) {
		if err != nil {
			return nil, fmt.Errorf("after %d requests: %w", res.seen, err)
		}
		res.seen++
		orderID := r.Metadata[jopay.MetadataOrderID]
		want, ok := l.expected[orderID]
		switch prev, settled := l.settled[orderID]; {
		case settled && prev != r.ID:
			res.duplicates = append(res.duplicates, r.ID)
			fmt.Fprintf(out, "   DUPLICATE  request %s  order %s  %s: already settled by request %s — refund one\n", short(r.ID), orderID, money(r.Amount.FiatInt), short(prev))
		case orderID == "" || !ok:
			res.unmatched = append(res.unmatched, r.ID)
			fmt.Fprintf(out, "   UNMATCHED  request %s  %s %s  order %q: no such order in the ledger\n", short(r.ID), money(r.Amount.FiatInt), r.Amount.FiatCode, orderID)
		case want != r.Amount.FiatInt:
			res.drifted = append(res.drifted, orderID)
			fmt.Fprintf(out, "   DRIFT      request %s  order %s: ledger %s, JoPay %s (%+d cents)\n", short(r.ID), orderID, money(want), money(r.Amount.FiatInt), r.Amount.FiatInt-want)
		default:
			res.matched++
			l.settled[orderID] = r.ID
			fmt.Fprintf(out, "   ok         request %s  order %s  %s  created %s\n", short(r.ID), orderID, money(r.Amount.FiatInt), r.CreatedAt.Format("15:04:05.000"))
		}
	}
	res.pages = it.Pages()
	st.cursor = it.Cursor().String()
	res.after = st.cursor
	return res, nil
}

func run(ctx context.Context, w io.Writer) error {
	cfg, err := configFromEnv()
	if err != nil {
		return err
	}
	if cfg.real {
		return runReal(ctx, w, cfg)
	}
	fake := jopaytest.NewServer()
	defer fake.Close()
	fmt.Fprintf(w, "JoPay reconciliation example against an in-process fake JoPay at %s\n", fake.BaseURL)
	fmt.Fprintf(w, "(set JOPAY_API_KEY and JOPAY_MERCHANT_ID to reconcile your JoPay account)\n\n")
	// The nightly job and a webhook worker use one JoPay key, so they share one limiter: each
	// client's default limit (60 requests per minute) would count only its own requests. The
	// fake has no limit, so this demo admits 20 requests a second; against JoPay use
	// rate.NewLimiter(rate.Every(time.Second), 1), 60 per minute.
	limiter := rate.NewLimiter(rate.Every(50*time.Millisecond), 1)
	client, err := fake.NewClient(jopay.WithRateLimiter(limiter))
	if err != nil {
		return err
	}
	worker, err := fake.NewClient(jopay.WithRateLimiter(limiter))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "The job and the webhook worker share one *rate.Limiter (one key, one quota)\n")

	l := &ledger{settled: map[string]string{}, expected: map[string]int64{
		"A-3001": 4200, "A-3002": 1250, "A-3003": 999, "A-3004": 15000, "A-3005": 2099, "A-3006": 500, "A-3007": 7300, "A-3008": 2750,
	}}
	fmt.Fprintf(w, "Ledger: %d orders, A-3001…A-3008; pages of %d rows, so the cursor has work to do (against JoPay: %d)\n", len(l.expected), demoPageSize, jopay.MaxListLimit)

	// Yesterday's payments at JoPay, as they were created: some in the same millisecond.
	day := fake.Now().Add(-12 * time.Hour).Truncate(time.Second)
	at := func(min, ms int) time.Time {
		return day.Add(time.Duration(min)*time.Minute + time.Duration(ms)*time.Millisecond)
	}
	pay := func(order string, cents int64, when time.Time) jopaytest.PaymentRequestFixture {
		md := map[string]string{}
		if order != "" {
			md[jopay.MetadataOrderID] = order
		}
		return jopaytest.PaymentRequestFixture{FiatAmountInt: cents, CreatedAt: when, Status: jopay.StatusOpened, ProofStatus: jopay.ProofStatusVerified, Metadata: md}
	}
	ids := fake.AddPaymentRequests(
		pay("A-3001", 4200, at(0, 0)),
		pay("A-3002", 1250, at(5, 0)),
		pay("A-3003", 999, at(5, 0)), // same created_at as A-3002
		pay("A-3005", 1999, at(9, 0)),
		pay("A-9999", 1500, at(12, 0)), // paid, but we have no such order
		jopaytest.PaymentRequestFixture{CreatedAt: at(13, 0), Metadata: map[string]string{jopay.MetadataOrderID: "A-3006"}}, // never paid: not listed
		pay("A-3004", 15000, at(20, 0)),
		pay("A-3006", 500, at(20, 0)),
		pay("", 800, at(20, 0)), // a payment without an order id
	)
	st := &state{}
	for n, arrivals := range [][]jopaytest.PaymentRequestFixture{
		nil,
		// Between the runs: new payments, one created in the same millisecond as run 1's last row.
		{pay("A-3007", 7300, at(20, 0)), pay("A-3008", 2750, at(31, 500)), pay("A-3001", 4200, at(33, 0))},
		nil,
	} {
		if len(arrivals) > 0 {
			fake.AddPaymentRequests(arrivals...)
			fmt.Fprintf(w, "\n%d new verified payments arrive (one created in the same millisecond as run 1's last row)\n", len(arrivals))
		}
		fmt.Fprintf(w, "\nRun %d (nightly job), stored cursor: %q\n", n+1, st.cursor)
		res, err := reconcile(ctx, client, l, st, jopaytest.DefaultMerchantID, demoPageSize, fake.Now(), w)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "   → %d verified requests in %d page(s): %d matched, %d drift, %d unmatched, %d duplicate\n",
			res.seen, res.pages, res.matched, len(res.drifted), len(res.unmatched), len(res.duplicates))
		fmt.Fprintf(w, "   → next cursor stored: %q\n", res.after)
		fmt.Fprintf(w, "   → last page: %s\n", describe(res.lastPage))
		if n == 0 {
			// Meanwhile a payment.proof_verified webhook makes the worker look a request up,
			// on the same limiter as the job.
			var info paykit.ResponseInfo
			r, err := worker.GetRequest(ctx, ids[0], paykit.WithResponseInfo(&info))
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "\nWebhook worker: request %s is %s (proof %s); %s\n", short(r.ID), r.Status, r.ProofStatus, describe(info))
		}
	}
	var open []string
	for id := range l.expected {
		if _, ok := l.settled[id]; !ok {
			open = append(open, id)
		}
	}
	slices.Sort(open)
	fmt.Fprintf(w, "\nOrders not settled (no payment of the right amount): %s\n", strings.Join(open, ", "))
	return nil
}

// runReal reconciles a real account once against an empty demo ledger.
func runReal(ctx context.Context, w io.Writer, cfg config) error {
	client, err := jopay.NewClient(cfg.apiKey, cfg.host)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "JoPay reconciliation against %s (%s key), in pages of %d; the demo ledger is empty, so every payment shows as unmatched\n", client.BaseURL(), client.Mode(), jopay.MaxListLimit)
	st := &state{cursor: cfg.cursor}
	fmt.Fprintf(w, "The client keeps to JoPay's %d requests per minute by itself (jopay.WithRateLimiter)\n", jopay.RateLimitPerMinute)
	res, err := reconcile(ctx, client, &ledger{expected: map[string]int64{}, settled: map[string]string{}}, st, cfg.merchantID, jopay.MaxListLimit, time.Now(), w)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "→ %d verified requests in %d page(s)\n→ store the next cursor: JOPAY_RECON_CURSOR=%q\n", res.seen, res.pages, res.after)
	fmt.Fprintf(w, "→ last page: %s\n", describe(res.lastPage))
	return nil
}

// describe summarises a response's paykit.ResponseInfo: status, attempts, JoPay's request id
// and the rate-limit headers, when sent.
func describe(info paykit.ResponseInfo) string {
	id := info.RequestID
	if id == "" {
		id = "(none sent)"
	}
	remaining := "(no rate-limit headers)"
	if info.RateLimit.Remaining >= 0 {
		remaining = fmt.Sprintf("%d of %d", info.RateLimit.Remaining, info.RateLimit.Limit)
	}
	return fmt.Sprintf("HTTP %d after %d attempt(s) in %v, request id %s, rate limit remaining %s",
		info.StatusCode, info.Attempts, info.Duration.Round(time.Millisecond), id, remaining)
}

func money(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

func short(s string) string {
	if len(s) > 13 {
		return s[:10] + "…"
	}
	return s
}
