// Command recurring runs the JoPay recurring-billing pattern. Plans live in the merchant's JoPay
// dashboard (the Partner API has no plan endpoint) and JoPay creates one payment request per
// charge date; each charge's webhook looks like a one-off payment's, except that it echoes the
// plan's metadata (subscription_id, plan_id or subscription=true). The webhook handler tells
// plan charges from one-off payments with Event.Charge, and a daily poll of expired requests
// finds failed charges.
//
//	go run ./examples/recurring
//
// With no configuration the in-process fake (jopaytest) stands in for JoPay's billing cron.
// Set JOPAY_API_KEY to run the failed-charge poll against your JoPay account (JOPAY_MERCHANT_ID
// narrows it to one merchant); the host is the shared https://admin.jopay.app/api/v1 unless
// JOPAY_SLUG (your own https://{slug}.jopay.app/api/v1) or JOPAY_BASE_URL says otherwise. With
// JOPAY_WAIT (e.g. 10m) the program first listens that long for charge webhooks on
// JOPAY_WEBHOOK_ADDR (default 127.0.0.1:0), which then needs JOPAY_WEBHOOK_SECRET. Setting a
// variable without the ones it needs stops with the names of the missing ones.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "recurring:", err)
		os.Exit(1)
	}
}

type config struct {
	real                             bool
	host                             jopay.Option // JOPAY_SLUG, JOPAY_BASE_URL or the shared host
	apiKey, merchantID, secret, addr string
	wait                             time.Duration
}

// optionalVars are the JOPAY_* variables the example reads besides the required ones.
var optionalVars = []string{"JOPAY_MERCHANT_ID", "JOPAY_SLUG", "JOPAY_BASE_URL", "JOPAY_WAIT", "JOPAY_WEBHOOK_ADDR"}

// requiredVars are the credentials a real endpoint needs: the API key, and the webhook secret
// when JOPAY_WAIT asks the program to listen for webhooks.
func requiredVars() []string {
	if os.Getenv("JOPAY_WAIT") != "" {
		return []string{"JOPAY_API_KEY", "JOPAY_WEBHOOK_SECRET"}
	}
	return []string{"JOPAY_API_KEY"}
}

func configFromEnv() (config, error) {
	c := config{addr: "127.0.0.1:0"}
	required := requiredVars()
	optional := optionalVars
	if len(required) == 1 {
		optional = append(slices.Clip(optionalVars), "JOPAY_WEBHOOK_SECRET")
	}
	vars, err := envVars(required, optional)
	if err != nil || vars == nil {
		return c, err
	}
	c.real = true
	c.apiKey, c.merchantID, c.secret = vars["JOPAY_API_KEY"], vars["JOPAY_MERCHANT_ID"], vars["JOPAY_WEBHOOK_SECRET"]
	if c.host, err = jopayHost(vars); err != nil {
		return c, err
	}
	if a := vars["JOPAY_WEBHOOK_ADDR"]; a != "" {
		c.addr = a
	}
	if w := vars["JOPAY_WAIT"]; w != "" {
		if c.wait, err = time.ParseDuration(w); err != nil {
			return c, fmt.Errorf("JOPAY_WAIT: %w", err)
		}
	}
	return c, nil
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

// billing is the app's side: subscription charges and one-off payments, recorded from webhooks.
type billing struct {
	mu      sync.Mutex
	charges map[string][]string // subscription or plan id → request ids paid
	oneOffs map[string]string   // order id → tx hash
	failed  map[string][]string // subscription or plan id → expired request ids
	events  chan struct{}
	out     *printer
}

// onEvent records verified payments, telling plan charges from one-off payments by metadata.
func (b *billing) onEvent(_ context.Context, e *jopay.Event) error {
	if !e.IsPaid() {
		return nil // proof attached: wait for verification
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	defer func() { b.events <- struct{}{} }()
	if c := e.Charge(); c.Recurring {
		key := c.Key()
		if key == "" {
			key = "(unnamed plan)"
		}
		b.charges[key] = append(b.charges[key], e.RequestID)
		cycle := c.BillingCycle
		if cycle == "" {
			cycle = "cycle not tagged"
		}
		b.out.printf("   payment.proof_verified → SUBSCRIPTION charge %s (%s): charge #%d recorded, request %s, tx %s\n",
			key, cycle, len(b.charges[key]), short(e.RequestID), short(e.TxHash))
		return nil
	}
	b.oneOffs[e.OrderID()] = e.TxHash
	b.out.printf("   payment.proof_verified → ONE-OFF payment for order %s, request %s, tx %s\n", e.OrderID(), short(e.RequestID), short(e.TxHash))
	return nil
}

// charge is one payment request JoPay's billing cron (or a shop) creates.
type charge struct {
	label    string
	metadata map[string]string
	pay      bool
}

func run(ctx context.Context, w io.Writer) error {
	out := &printer{w: w}
	cfg, err := configFromEnv()
	if err != nil {
		return err
	}
	var fake *jopaytest.Server
	if !cfg.real {
		fake = jopaytest.NewServer()
		defer fake.Close()
		cfg.host, cfg.apiKey, cfg.merchantID, cfg.secret = jopay.WithBaseURL(fake.BaseURL), jopaytest.DefaultAPIKey, jopaytest.DefaultMerchantID, jopaytest.WebhookSecret
	}
	client, err := jopay.NewClient(cfg.apiKey, cfg.host)
	if err != nil {
		return err
	}
	if cfg.real {
		out.printf("JoPay recurring example against %s (%s key)\n", client.BaseURL(), client.Mode())
	} else {
		out.printf("JoPay recurring example against an in-process fake JoPay at %s\n", client.BaseURL())
		out.printf("(set JOPAY_API_KEY to use your JoPay account; with JOPAY_WAIT also JOPAY_WEBHOOK_SECRET)\n\n")
	}
	b := &billing{charges: map[string][]string{}, oneOffs: map[string]string{}, failed: map[string][]string{},
		events: make(chan struct{}, 16), out: out}
	start := time.Now()
	if fake != nil || cfg.wait > 0 {
		hook, err := jopay.NewWebhookHandler(cfg.secret, b.onEvent)
		if err != nil {
			return err
		}
		hookURL, stop, err := serve(ctx, cfg.addr, hook)
		if err != nil {
			return err
		}
		defer stop()
		if fake != nil {
			fake.SetWebhook(hookURL, cfg.secret)
			start = fake.Now()
			if err := simulateCharges(ctx, out, fake, client, cfg.merchantID, b); err != nil {
				return err
			}
		} else {
			out.step("Listening %s for charge webhooks on %s (JoPay must reach it: set it, through a tunnel, as the partner webhook URL)\n", cfg.wait, hookURL)
			select {
			case <-ctx.Done():
			case <-time.After(cfg.wait):
			}
		}
	}

	// The daily failed-charge poll: expired requests created since the last poll.
	since := start.Add(-24 * time.Hour)
	if fake != nil {
		since = start.Add(-time.Minute) // this run's requests (created_at has ms precision)
	}
	out.step("Daily poll for failed charges: GET /requests?status=expired&since=%s&limit=%d\n", since.UTC().Format(time.RFC3339), jopay.MaxListLimit)
	n := 0
	for r, err := range client.ListRequests(ctx, jopay.ListRequestsParams{MerchantID: cfg.merchantID, Status: jopay.StatusExpired, Since: since, Limit: jopay.MaxListLimit}) {
		if err != nil {
			return err
		}
		n++
		sub, recurring := r.SubscriptionID()
		if !recurring {
			out.printf("   expired one-off request %s (order %q): nothing to chase\n", short(r.ID), r.Metadata[jopay.MetadataOrderID])
			continue
		}
		b.mu.Lock()
		b.failed[sub] = append(b.failed[sub], r.ID)
		b.mu.Unlock()
		out.printf("   FAILED charge for %s (%s, %s): request %s expired unpaid → email the subscriber, retry next cycle\n",
			sub, r.Metadata[jopay.MetadataBillingCycle], dollars(r.Amount.FiatInt), short(r.ID))
	}
	if n == 0 {
		out.printf("   no expired requests\n")
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	out.step("Billing summary:\n")
	subs := make([]string, 0, len(b.charges)+len(b.failed))
	for k := range b.charges {
		subs = append(subs, k)
	}
	for k := range b.failed {
		if _, ok := b.charges[k]; !ok {
			subs = append(subs, k)
		}
	}
	slices.Sort(subs)
	for _, s := range subs {
		out.printf("   subscription %s: %d charge(s) paid, %d failed\n", s, len(b.charges[s]), len(b.failed[s]))
	}
	orders := make([]string, 0, len(b.oneOffs))
	for k := range b.oneOffs {
		orders = append(orders, k)
	}
	slices.Sort(orders)
	if len(orders) == 0 {
		out.printf("   one-off payments: none\n")
	} else {
		out.printf("   one-off payments: %d (%s)\n", len(orders), strings.Join(orders, ", "))
	}
	return nil
}

// simulateCharges plays the merchant's plans and JoPay's billing cron on the fake: charges are
// created with the plan's metadata, as JoPay's cron would, next to an ordinary shop order.
func simulateCharges(ctx context.Context, out *printer, fake *jopaytest.Server, client *jopay.Client, merchantID string, b *billing) error {
	coffee := map[string]string{jopay.MetadataSubscriptionID: "SUB-8821", jopay.MetadataBillingCycle: "monthly"}
	tea := map[string]string{jopay.MetadataPlanID: "PLAN-TEA-WEEKLY", jopay.MetadataBillingCycle: "weekly"}
	out.step("Plans set up by the merchant in the JoPay dashboard, with metadata every charge echoes:\n")
	out.printf("   coffee club {%s}; tea box {%s}\n", kv(coffee), kv(tea))
	out.printf("   (the fake creates the charges through the API in place of JoPay's billing cron)\n")
	charges := []charge{
		{"coffee club, March", coffee, true},
		{"shop order A-2001", map[string]string{jopay.MetadataOrderID: "A-2001"}, true},
		{"tea box, week 14", tea, true},
		{"coffee club, April", coffee, true},
		{"coffee club, May", coffee, false}, // the subscriber's wallet is empty this time
	}
	out.step("Charges and payments as they happen:\n")
	var unpaid []string
	for i, c := range charges {
		amount := int64(1900)
		if c.metadata[jopay.MetadataOrderID] != "" {
			amount = 4200
		}
		req, err := client.CreateRequest(ctx, jopay.CreateRequestParams{
			MerchantID: merchantID, FiatAmountInt: amount, Memo: c.label, Metadata: c.metadata,
			IdempotencyKey: idempotency.Key("charge", c.label),
		})
		if err != nil {
			return err
		}
		kind := "one-off"
		if req.Charge().Recurring {
			kind = "plan charge"
		}
		out.printf("   [%d] %s: request %s created (%s, %s)\n", i+1, c.label, short(req.ID), kind, dollars(amount))
		if !c.pay {
			unpaid = append(unpaid, req.ID)
			continue
		}
		if _, err := fake.Pay(ctx, req.ID); err != nil {
			return err
		}
		select {
		case <-b.events:
		case <-time.After(5 * time.Second):
			return fmt.Errorf("no webhook for %s", c.label)
		}
	}
	out.step("A day passes; the unpaid charge's pay link expires (%d request)\n", len(unpaid))
	fake.Advance(25 * time.Hour)
	out.step("(JoPay sends no webhook for an expired request; polling finds failed charges)\n")
	return nil
}

func serve(ctx context.Context, addr string, h http.Handler) (string, func(), error) {
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/jopay", h)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/webhooks/jopay", func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}, nil
}

// kv renders metadata as sorted key=value pairs.
func kv(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}

func dollars(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

func short(s string) string {
	if len(s) > 13 {
		return s[:10] + "…"
	}
	return s
}

// printer serializes output (webhook handlers print from server goroutines) and numbers the
// steps, so they count 1, 2, 3… whichever of them this run takes.
type printer struct {
	mu   sync.Mutex
	w    io.Writer
	last int
}

// step prints the next step number and the line.
func (p *printer) step(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last++
	fmt.Fprintf(p.w, "%d. "+format, append([]any{p.last}, args...)...)
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}
