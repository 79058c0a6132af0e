// Command hostedcheckout runs a JoPay Checkout integration end to end: an order becomes a
// checkout session, the buyer is redirected to the hosted page, pays, and lands on the shop's
// success page, and the signed checkout.session.completed webhook, verified and deduped,
// fulfils the order exactly once.
//
//	go run ./examples/hostedcheckout
//
// With no configuration it starts the in-process fake (jopaycheckouttest) and plays the buyer
// with an http.Client that follows the real redirects. Set JOPAY_CHECKOUT_API_KEY and
// JOPAY_CHECKOUT_WEBHOOK_SECRET to use your JoPay Checkout account (JOPAY_CHECKOUT_BASE_URL
// overrides the default https://jopay.me/api/checkout/v1); setting only some of the variables
// stops with the names of the missing ones. The program then prints the checkout URL for you to
// pay in a browser and waits (JOPAY_CHECKOUT_WAIT, default 15m) for the webhook on a local
// address (JOPAY_CHECKOUT_WEBHOOK_ADDR, default 127.0.0.1:0) that JoPay must be able to reach:
// configure Admin → Settings → Checkout Webhook through a tunnel to it.
package main

import (
	"cmp"
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

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jopaycheckout/jopaycheckouttest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hostedcheckout:", err)
		os.Exit(1)
	}
}

const webhookPath = "/webhooks/jopay-checkout"

// config says where the program talks to: the fake (real == false) or a real endpoint.
type config struct {
	real                                 bool
	baseURL, apiKey, webhookSecret, addr string
	wait                                 time.Duration
}

// The JOPAY_CHECKOUT_* variables: the credentials are required for a real endpoint, the rest
// optional.
var (
	requiredVars = []string{"JOPAY_CHECKOUT_API_KEY", "JOPAY_CHECKOUT_WEBHOOK_SECRET"}
	optionalVars = []string{"JOPAY_CHECKOUT_BASE_URL", "JOPAY_CHECKOUT_WAIT", "JOPAY_CHECKOUT_WEBHOOK_ADDR"}
)

func configFromEnv() (config, error) {
	c := config{addr: "127.0.0.1:0", wait: 15 * time.Minute}
	vars, err := envVars(requiredVars, optionalVars)
	if err != nil || vars == nil {
		return c, err
	}
	c.real = true
	c.apiKey, c.webhookSecret = vars["JOPAY_CHECKOUT_API_KEY"], vars["JOPAY_CHECKOUT_WEBHOOK_SECRET"]
	c.baseURL = cmp.Or(vars["JOPAY_CHECKOUT_BASE_URL"], jopaycheckout.DefaultBaseURL)
	c.addr = cmp.Or(vars["JOPAY_CHECKOUT_WEBHOOK_ADDR"], c.addr)
	if w := vars["JOPAY_CHECKOUT_WAIT"]; w != "" {
		if c.wait, err = time.ParseDuration(w); err != nil {
			return c, fmt.Errorf("JOPAY_CHECKOUT_WAIT: %w", err)
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

// run is the whole program; main_test.go calls it.
func run(ctx context.Context, out io.Writer) error {
	w := &lockedWriter{w: out} // handlers print from server goroutines
	cfg, err := configFromEnv()
	if err != nil {
		return err
	}
	var fake *jopaycheckouttest.Server
	if cfg.real {
		w.printf("JoPay Checkout at %s (%s key)\n", cfg.baseURL, jopaycheckout.KeyMode(cfg.apiKey))
	} else {
		fake = jopaycheckouttest.NewServer()
		defer fake.Close()
		cfg.baseURL, cfg.apiKey, cfg.webhookSecret = fake.BaseURL, jopaycheckouttest.DefaultAPIKey, "whsec_hostedcheckout_demo"
		w.printf("JoPay Checkout: in-process fake at %s\n", fake.URL)
		w.printf("(set JOPAY_CHECKOUT_API_KEY and JOPAY_CHECKOUT_WEBHOOK_SECRET to use your JoPay Checkout account)\n")
	}
	client, err := jopaycheckout.NewClient(cfg.apiKey, jopaycheckout.WithBaseURL(cfg.baseURL))
	if err != nil {
		return err
	}

	// The shop: an order book, a success page and a webhook endpoint on a real local server.
	order := &order{ID: "ORD-1001", Items: []jopaycheckout.LineItem{
		{Name: "Premium Coffee Beans", Amount: 2500, Currency: "eur", Quantity: 2},
		{Name: "Ceramic Mug", Amount: 1200, Currency: "eur", Quantity: 1},
	}}
	shop := &shop{client: client, order: order, out: w, fulfilled: make(chan struct{})}
	hook, err := jopaycheckout.NewWebhookHandler(cfg.webhookSecret, shop.onEvent)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(webhookPath, hook)
	mux.HandleFunc("/success", shop.successPage)
	mux.HandleFunc("/cancel", func(rw http.ResponseWriter, _ *http.Request) {
		io.WriteString(rw, "Checkout cancelled; your cart is kept.\n")
	})
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	shopURL := "http://" + ln.Addr().String()
	w.step("shop listening on %s (success page /success, webhook endpoint %s)\n", shopURL, webhookPath)
	if fake != nil {
		fake.SetWebhook(shopURL+webhookPath, cfg.webhookSecret)
	}

	// Order → checkout session.
	params := jopaycheckout.CreateSessionParams{
		LineItems:     order.Items,
		CustomerEmail: "ana@example.org",
		SuccessURL:    shopURL + "/success?order=" + order.ID,
		CancelURL:     shopURL + "/cancel",
		Metadata:      map[string]string{jopaycheckout.MetadataOrderID: order.ID},
	}
	total, _ := params.Total()
	order.TotalCents = total
	w.step("order %s: %s = %s\n", order.ID, describeItems(order.Items), money(total, "eur"))
	session, err := client.CreateSession(ctx, params)
	if errors.Is(err, paykit.ErrUnknownOutcome) {
		// A session may exist, but nobody has its URL, so nobody can pay it and it expires in an
		// hour: creating another one for this order is safe.
		w.printf("   create failed with an unknown outcome (%v); creating the session again\n", err)
		session, err = client.CreateSession(ctx, params)
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	w.step("session %s created: status %s, expires %s\n", session.ID, session.Status, session.ExpiresAt.Format(time.RFC3339))
	w.printf("   redirect the buyer to %s\n", session.URL)

	if cfg.real {
		w.step("open that URL in a browser and pay; waiting up to %s for the completion webhook on %s%s\n", cfg.wait, shopURL, webhookPath)
		w.printf("   (JoPay must reach it: set a tunnel to it as the Checkout Webhook in Admin → Settings)\n")
		wctx, cancel := context.WithTimeout(ctx, cfg.wait)
		defer cancel()
		select {
		case <-shop.fulfilled:
		case <-wctx.Done():
			return fmt.Errorf("no completion webhook: %w", wctx.Err())
		}
	} else {
		// The buyer follows the redirect chain like a browser: hosted page → success URL.
		w.step("buyer opens the checkout page and pays\n")
		buyer := &http.Client{Timeout: 10 * time.Second}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, session.URL, nil)
		if err != nil {
			return err
		}
		resp, err := buyer.Do(req)
		if err != nil {
			return fmt.Errorf("buyer: %w", err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		w.printf("   buyer landed on %s (%d): %s\n", resp.Request.URL.RequestURI(), resp.StatusCode, strings.TrimSpace(string(body)))

		// JoPay delivers at least once: a redelivery must not fulfil again.
		d, err := fake.Redeliver(ctx, session.ID, jopaycheckout.EventSessionCompleted)
		if err != nil {
			return err
		}
		w.step("JoPay delivers the same webhook again: answered %d without fulfilling the order a second time\n", d.Attempts[len(d.Attempts)-1].Status)
	}
	n, paid := order.state()
	if !paid {
		return errors.New("the order was not paid")
	}
	w.step("order %s fulfilled %d time(s)\n", order.ID, n)
	if n != 1 {
		return fmt.Errorf("order fulfilled %d times, want exactly once", n)
	}
	return nil
}

// order is the shop's record of what was bought and whether it shipped.
type order struct {
	ID         string
	Items      []jopaycheckout.LineItem
	TotalCents int64

	mu          sync.Mutex
	paid        bool
	fulfilments int
}

func (o *order) state() (int, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fulfilments, o.paid
}

// fulfil ships the order once, whatever the number of calls: the handler's dedupe stops
// redeliveries, and this check stops two different paid sessions for one order.
func (o *order) fulfil() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.paid {
		return false
	}
	o.paid = true
	o.fulfilments++
	return true
}

type shop struct {
	client    *jopaycheckout.Client
	order     *order
	out       *lockedWriter
	fulfilled chan struct{}
	once      sync.Once
}

// onEvent runs for each verified, deduplicated webhook.
func (s *shop) onEvent(ctx context.Context, e *jopaycheckout.Event) error {
	s.out.printf("   webhook: %s for %s, signature verified\n", e.Type, e.Data.ID)
	if !e.IsPaid() {
		return nil // expired or a failed attempt: nothing to ship
	}
	if e.OrderID() != s.order.ID {
		s.out.printf("   webhook: unknown order %q, ignored\n", e.OrderID())
		return nil
	}
	if e.Data.AmountCents != s.order.TotalCents || !strings.EqualFold(e.Data.Currency, "eur") {
		// Paid, but not what the order costs: flag it for a human instead of shipping.
		s.out.printf("   webhook: paid %s but the order costs %s; flagged\n", money(e.Data.AmountCents, e.Data.Currency), money(s.order.TotalCents, "eur"))
		return nil
	}
	if s.order.fulfil() {
		s.out.printf("   fulfilment: order %s paid (%s), shipping\n", s.order.ID, money(e.Data.AmountCents, e.Data.Currency))
		s.once.Do(func() { close(s.fulfilled) })
	}
	return nil
}

// successPage is where JoPay sends the buyer after payment. The session id in the URL is only a
// hint from the browser: the page asks JoPay for the session before saying "paid".
func (s *shop) successPage(rw http.ResponseWriter, r *http.Request) {
	id, err := jopaycheckout.SessionIDFromRedirect(r.URL)
	if err != nil {
		http.Error(rw, "missing or invalid session_id", http.StatusBadRequest)
		return
	}
	sess, err := s.client.GetSession(r.Context(), id)
	if err != nil {
		var apiErr *paykit.Error
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
			http.Error(rw, "unknown checkout session", http.StatusNotFound)
			return
		}
		http.Error(rw, "could not confirm the payment yet; refresh in a moment", http.StatusBadGateway)
		return
	}
	s.out.printf("   success page: session_id=%s, GetSession says %s\n", sess.ID, sess.Status)
	if sess.IsPaid() {
		fmt.Fprintf(rw, "Thank you! Order %s is paid.\n", sess.OrderID())
		return
	}
	fmt.Fprintf(rw, "Payment for order %s is %s.\n", sess.OrderID(), sess.Status)
}

func describeItems(items []jopaycheckout.LineItem) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = fmt.Sprintf("%d × %s at %s", it.Quantity, it.Name, money(it.Amount, it.Currency))
	}
	return strings.Join(parts, " + ")
}

// money formats minor units for display, e.g. 6200 eur → "62.00 EUR".
func money(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, strings.ToUpper(currency))
}

// lockedWriter serializes output from the main goroutine and the HTTP handlers, and numbers
// the steps, so they count 1, 2, 3… whichever of them this run takes.
type lockedWriter struct {
	mu   sync.Mutex
	w    io.Writer
	last int
}

// step prints the next step number and the line.
func (l *lockedWriter) step(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last++
	fmt.Fprintf(l.w, "%d. "+format, append([]any{l.last}, args...)...)
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}
