// Command invoicing runs the JoPay invoicing pattern: an invoice becomes an invoice-mode payment
// request (long expiry, customer name required, customer email for the receipt), the pay link
// is emailed, the customer pays days later and the signed payment.proof_verified webhook marks
// the invoice paid; an unpaid invoice expires.
//
//	go run ./examples/invoicing
//
// With no configuration it runs against the in-process fake (jopaytest) and fast-forwards its
// clock. Set JOPAY_BASE_URL, JOPAY_API_KEY, JOPAY_MERCHANT_ID and JOPAY_WEBHOOK_SECRET to create
// a real invoice request: the program prints the pay link to send and exits; the webhook
// arrives whenever the customer pays (examples/checkout shows a waiting endpoint).
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
	real                                bool
	baseURL, apiKey, merchantID, secret string
}

func configFromEnv() (config, error) {
	c := config{baseURL: os.Getenv("JOPAY_BASE_URL"), apiKey: os.Getenv("JOPAY_API_KEY"),
		merchantID: os.Getenv("JOPAY_MERCHANT_ID"), secret: os.Getenv("JOPAY_WEBHOOK_SECRET")}
	if c.baseURL == "" && c.apiKey == "" && c.merchantID == "" && c.secret == "" {
		return c, nil
	}
	var missing []string
	for _, v := range [][2]string{{"JOPAY_BASE_URL", c.baseURL}, {"JOPAY_API_KEY", c.apiKey},
		{"JOPAY_MERCHANT_ID", c.merchantID}, {"JOPAY_WEBHOOK_SECRET", c.secret}} {
		if v[1] == "" {
			missing = append(missing, v[0])
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("to use a real endpoint set all four of JOPAY_BASE_URL, JOPAY_API_KEY, JOPAY_MERCHANT_ID, JOPAY_WEBHOOK_SECRET (missing %s)", strings.Join(missing, ", "))
	}
	c.real = true
	return c, nil
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
	if cfg.real {
		out.printf("JoPay invoicing example against %s (%s key)\n", cfg.baseURL, jopay.KeyMode(cfg.apiKey))
	} else {
		fake = jopaytest.NewServer()
		defer fake.Close()
		cfg.baseURL, cfg.apiKey, cfg.merchantID, cfg.secret = fake.BaseURL, jopaytest.TestAPIKey, jopaytest.DefaultMerchantID, jopaytest.WebhookSecret
		out.printf("JoPay invoicing example against an in-process fake JoPay at %s\n", fake.BaseURL)
		out.printf("(set JOPAY_BASE_URL, JOPAY_API_KEY, JOPAY_MERCHANT_ID and JOPAY_WEBHOOK_SECRET to use a real endpoint)\n\n")
	}
	client, err := jopay.NewClient(cfg.apiKey, jopay.WithBaseURL(cfg.baseURL))
	if err != nil {
		return err
	}
	acme := &invoice{ID: "inv_8f2a", Number: "INV-2026-0042", BillTo: "Acme GmbH", Email: "billing@acme.example", TotalCents: 125000, Status: "sent"}
	globex := &invoice{ID: "inv_8f2b", Number: "INV-2026-0043", BillTo: "Globex Corp", Email: "ap@globex.example", TotalCents: 48000, ValidFor: 3 * 24 * time.Hour, Status: "sent"}
	if cfg.real {
		suffix := fmt.Sprintf("-%d", time.Now().Unix()) // fresh invoice numbers per run
		acme.Number += suffix
		globex.Number += suffix
	}
	b := &book{invoices: map[string]*invoice{acme.ID: acme, globex.ID: globex}, paid: make(chan string, 2), out: out}

	// The webhook endpoint.
	hook, err := jopay.NewWebhookHandler(cfg.secret, b.onEvent)
	if err != nil {
		return err
	}
	hookURL, stop, err := serve(ctx, hook)
	if err != nil {
		return err
	}
	defer stop()
	if fake != nil {
		fake.SetWebhook(hookURL, cfg.secret)
	}

	out.printf("1. Invoice %s for %s <%s>: %s USD\n", acme.Number, acme.BillTo, acme.Email, dollars(acme.TotalCents))

	// 2. The client-side check: invoice mode requires customer_name.
	noName := params(cfg.merchantID, acme)
	noName.CustomerName = ""
	_, err = client.CreateRequest(ctx, noName)
	var ve *jopay.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("expected a validation error, got %v", err)
	}
	out.printf("2. Without the customer name the client refuses before sending anything:\n")
	out.printf("   %v\n   (*jopay.ValidationError, Field %q; JoPay itself would answer 400 %s)\n", err, ve.Field, jopay.CodeCustomerNameRequired)

	// 3. A server-side rule: the currency is an assertion, not a conversion.
	if fake != nil {
		eur := params(cfg.merchantID, acme)
		eur.FiatCurrencyCode = "EUR"
		_, err = client.CreateRequest(ctx, eur)
		var apiErr *jopay.Error
		if !errors.As(err, &apiErr) {
			return fmt.Errorf("expected an API error, got %v", err)
		}
		out.printf("3. Billing in EUR by mistake: JoPay answers %d %s, expected currency %s (*jopay.Error)\n",
			apiErr.Status, apiErr.Code, jopay.ExpectedFiatCode(err))
	}

	// 4. Create both invoices' payment requests.
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
			out.printf("4. Invoice requests created (payment_mode %s):\n", req.PaymentMode)
		}
		out.printf("   %s: request %s, customer %q, valid for %s (%s)\n", inv.Number, short(req.ID), req.CustomerName, days(req.ExpiresAt.Sub(req.CreatedAt)), note)
		out.printf("   email to %s: \"Invoice %s — pay %s USD at %s\"\n", inv.Email, inv.Number, dollars(inv.TotalCents), req.PayPageURL)
	}
	if fake == nil {
		out.printf("5. Send the links. When a customer pays, JoPay posts payment.proof_verified to your webhook URL;\n")
		out.printf("   correlate it by metadata.invoice_id (this run's handler is %s while it runs).\n", hookURL)
		return nil
	}

	// 5. Three days later Acme pays.
	fake.Advance(3 * 24 * time.Hour)
	out.printf("5. Three days later %s pays\n", acme.BillTo)
	if _, err := fake.Pay(ctx, acme.PaymentRequest); err != nil {
		return err
	}
	select {
	case <-b.paid:
	case <-time.After(5 * time.Second):
		return errors.New("the payment webhook did not arrive")
	}

	// 6. Globex never pays; its shorter link expires.
	fake.Advance(5 * 24 * time.Hour)
	r, err := client.GetRequest(ctx, globex.PaymentRequest)
	if err != nil {
		return err
	}
	out.printf("6. Eight days in, %s has not paid: request %s is %s; send a reminder with a new request\n", globex.Number, short(r.ID), r.Status)
	out.printf("   (a new key, e.g. idempotency.Key(\"invoice\", number, \"reminder-1\"): the old one would return the expired request)\n")
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.Status == jopay.StatusExpired && globex.Status != "paid" {
		globex.Status = "overdue (link expired, reminder due)"
	}
	out.printf("7. Ledger: %s %s, %s %s\n", acme.Number, acme.Status, globex.Number, globex.Status)
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

type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}
