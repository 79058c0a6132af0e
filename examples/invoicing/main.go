// Command invoicing runs the JoPay invoicing pattern: an invoice becomes an invoice-mode payment
// request (long expiry, customer name required, customer email for the receipt), the pay link
// is emailed, the customer pays days later and the signed payment.proof_verified webhook marks
// the invoice paid; an unpaid invoice expires.
//
//	go run ./examples/invoicing
//
// With no configuration it runs against the in-process fake (jopaytest) and fast-forwards its
// clock. Set JOPAY_API_KEY and JOPAY_MERCHANT_ID to create real invoice requests: the host is
// the shared https://admin.jopay.app/api/v1 unless JOPAY_SLUG (your own
// https://{slug}.jopay.app/api/v1) or JOPAY_BASE_URL says otherwise, and setting only some of
// the variables stops with the names of the missing ones. The program then prints the pay links
// to send and exits; the webhook arrives whenever a customer pays, at your webhook endpoint
// (examples/checkout shows one that waits).
package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/paykit-go/paykit"
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
		fmt.Fprintln(os.Stderr, "invoicing:", err)
		os.Exit(1)
	}
}

type config struct {
	real               bool
	host               jopay.Option // JOPAY_SLUG, JOPAY_BASE_URL or the shared host
	apiKey, merchantID string
}

// The JOPAY_* variables: the credentials are required for a real endpoint, the rest optional.
// No webhook secret: against a real endpoint the program exits once the links exist.
var (
	requiredVars = []string{"JOPAY_API_KEY", "JOPAY_MERCHANT_ID"}
	optionalVars = []string{"JOPAY_SLUG", "JOPAY_BASE_URL"}
)

func configFromEnv() (config, error) {
	vars, err := envVars(requiredVars, optionalVars)
	if err != nil || vars == nil {
		return config{}, err
	}
	c := config{real: true, apiKey: vars["JOPAY_API_KEY"], merchantID: vars["JOPAY_MERCHANT_ID"]}
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

// invoice is the billing system's record.
type invoice struct {
	ID, Number     string
	BillTo, Email  string
	TotalCents     int64
	ValidFor       time.Duration // 0: JoPay's invoice default (7 days)
	Status         string
	PaymentRequest string
}

// book holds invoices; the webhook marks them paid.
type book struct {
	mu       sync.Mutex
	invoices map[string]*invoice // by invoice id
	paid     chan string
	out      *printer
}

func (b *book) onEvent(_ context.Context, e *jopay.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	inv := b.invoices[e.Metadata["invoice_id"]]
	if inv == nil || !e.IsPaid() {
		return nil // proof attached only, or not an invoice of ours
	}
	if inv.Status != "paid" {
		inv.Status = "paid"
		b.out.printf("   webhook payment.proof_verified (signature verified): invoice %s PAID by %s, tx %s\n", inv.Number, inv.BillTo, short(e.TxHash))
		b.paid <- inv.ID
	}
	return nil
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
		cfg.host, cfg.apiKey, cfg.merchantID = jopay.WithBaseURL(fake.BaseURL), jopaytest.DefaultAPIKey, jopaytest.DefaultMerchantID
	}
	client, err := jopay.NewClient(cfg.apiKey, cfg.host)
	if err != nil {
		return err
	}
	if cfg.real {
		out.printf("JoPay invoicing example against %s (%s key)\n", client.BaseURL(), client.Mode())
	} else {
		out.printf("JoPay invoicing example against an in-process fake JoPay at %s\n", client.BaseURL())
		out.printf("(set JOPAY_API_KEY and JOPAY_MERCHANT_ID to use your JoPay account)\n\n")
	}
	acme := &invoice{ID: "inv_8f2a", Number: "INV-2026-0042", BillTo: "Acme GmbH", Email: "billing@acme.example", TotalCents: 125000, Status: "sent"}
	globex := &invoice{ID: "inv_8f2b", Number: "INV-2026-0043", BillTo: "Globex Corp", Email: "ap@globex.example", TotalCents: 48000, ValidFor: 3 * 24 * time.Hour, Status: "sent"}
	if cfg.real {
		suffix := fmt.Sprintf("-%d", time.Now().Unix()) // fresh invoice numbers per run
		acme.Number += suffix
		globex.Number += suffix
	}
	b := &book{invoices: map[string]*invoice{acme.ID: acme, globex.ID: globex}, paid: make(chan string, 2), out: out}

	// The webhook endpoint (against the fake; a real JoPay posts to your deployed endpoint).
	if fake != nil {
		hook, err := jopay.NewWebhookHandler(jopaytest.WebhookSecret, b.onEvent)
		if err != nil {
			return err
		}
		hookURL, stop, err := serve(ctx, hook)
		if err != nil {
			return err
		}
		defer stop()
		fake.SetWebhook(hookURL, jopaytest.WebhookSecret)
	}

	out.step("Invoice %s for %s <%s>: %s USD\n", acme.Number, acme.BillTo, acme.Email, dollars(acme.TotalCents))

	// The client-side check: invoice mode requires customer_name.
	noName := params(cfg.merchantID, acme)
	noName.CustomerName = ""
	_, err = client.CreateRequest(ctx, noName)
	var ve *paykit.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("expected a validation error, got %v", err)
	}
	out.step("Without the customer name the client refuses before sending anything:\n")
	out.printf("   %v\n   (*paykit.ValidationError, Field %q; JoPay itself would answer 400 %s)\n", err, ve.Field, jopay.CodeCustomerNameRequired)

	// A server-side rule: the currency is an assertion, not a conversion.
	if fake != nil {
		eur := params(cfg.merchantID, acme)
		eur.FiatCurrencyCode = "EUR"
		_, err = client.CreateRequest(ctx, eur)
		var apiErr *paykit.Error
		if !errors.As(err, &apiErr) {
			return fmt.Errorf("expected an API error, got %v", err)
		}
		out.step("Billing in EUR by mistake: JoPay answers %d %s, expected currency %s (*paykit.Error)\n",
			apiErr.Status, apiErr.Code, jopay.ExpectedFiatCode(err))
	}

	// Create both invoices' payment requests.
	for i, inv := range []*invoice{acme, globex} {
		req, err := client.CreateRequest(ctx, params(cfg.merchantID, inv))
		if err != nil {
			return err
		}
		inv.PaymentRequest = req.ID
		note := "JoPay's invoice default"
		if inv.ValidFor > 0 {
			note = "ExpiryMinutes override"
		}
		if i == 0 {
			out.step("Invoice requests created (payment_mode %s):\n", req.PaymentMode)
		}
		out.printf("   %s: request %s, customer %q, valid for %s (%s)\n", inv.Number, short(req.ID), req.CustomerName, days(req.ExpiresAt.Sub(req.CreatedAt)), note)
		out.printf("   email to %s: \"Invoice %s — pay %s USD at %s\"\n", inv.Email, inv.Number, dollars(inv.TotalCents), req.PayPageURL)
	}
	if fake == nil {
		out.step("Send the links. When a customer pays, JoPay posts payment.proof_verified to your partner webhook URL;\n")
		out.printf("   your handler correlates it by metadata.invoice_id (see examples/checkout for one).\n")
		return nil
	}

	// Three days later Acme pays.
	fake.Advance(3 * 24 * time.Hour)
	out.step("Three days later %s pays\n", acme.BillTo)
	if _, err := fake.Pay(ctx, acme.PaymentRequest); err != nil {
		return err
	}
	select {
	case <-b.paid:
	case <-time.After(5 * time.Second):
		return errors.New("the payment webhook did not arrive")
	}

	// Globex never pays; its shorter link expires.
	fake.Advance(5 * 24 * time.Hour)
	r, err := client.GetRequest(ctx, globex.PaymentRequest)
	if err != nil {
		return err
	}
	out.step("Eight days in, %s has not paid: request %s is %s; send a reminder with a new request\n", globex.Number, short(r.ID), r.Status)
	out.printf("   (a new key, e.g. idempotency.Key(\"invoice\", number, \"reminder-1\"): the old one would return the expired request)\n")
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.Status == jopay.StatusExpired && globex.Status != "paid" {
		globex.Status = "overdue (link expired, reminder due)"
	}
	out.step("Ledger: %s %s, %s %s\n", acme.Number, acme.Status, globex.Number, globex.Status)
	return nil
}

// params builds the invoice-mode create, keyed by the invoice number as in the guide.
func params(merchantID string, inv *invoice) jopay.CreateRequestParams {
	return jopay.CreateRequestParams{
		MerchantID:     merchantID,
		FiatAmountInt:  inv.TotalCents,
		PaymentMode:    jopay.PaymentModeInvoice,
		CustomerName:   inv.BillTo,
		CustomerEmail:  inv.Email,
		Memo:           "Invoice #" + inv.Number,
		ExpiryMinutes:  int(inv.ValidFor / time.Minute),
		IdempotencyKey: idempotency.Key("invoice", inv.Number),
		Metadata:       map[string]string{"invoice_id": inv.ID, "invoice_number": inv.Number},
	}
}

// serve runs h on a local HTTP server and returns its webhook URL and a stop function.
func serve(ctx context.Context, h http.Handler) (string, func(), error) {
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/jopay", h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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

func dollars(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

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
