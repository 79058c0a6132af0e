// Command pepayinvoice runs Pepay's integration checklist end to end: create an invoice, hand
// out the hosted payment URL, track it three ways at once — signed webhooks on a real local
// HTTP endpoint, the realtime WebSocket stream, and status polling — with each event processed
// exactly once (one webhook.Deduper shared by the webhook handler and the stream), then
// reconcile the final status from the invoice itself and print the settlement.
//
// With no configuration it starts an in-process fake Pepay (pepaytest), plays the payor
// (an underpayment, then the rest) and cuts the WebSocket mid-way to show the stream resuming
// with since=<last event>. Set PEPAY_BASE_URL, PEPAY_API_KEY and PEPAY_WEBHOOK_SECRET to use a
// real endpoint instead (PEPAY_ENVIRONMENT=devnet|mainnet, PEPAY_WAIT=15m bounds the wait for
// payment); the webhook endpoint then has to be made reachable and configured in the dashboard.
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
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
	"github.com/paykit-go/paykit/webhook"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pepayinvoice:", err)
		os.Exit(1)
	}
}

// config is where the example talks to.
type config struct {
	baseURL, apiKey, secret string
	env                     pepay.Environment
	wait                    time.Duration
	fake                    *pepaytest.Server
}

func loadConfig() (config, error) {
	cfg := config{
		baseURL: os.Getenv("PEPAY_BASE_URL"), apiKey: os.Getenv("PEPAY_API_KEY"), secret: os.Getenv("PEPAY_WEBHOOK_SECRET"),
		env: pepay.EnvironmentDevnet, wait: 15 * time.Minute,
	}
	if e := os.Getenv("PEPAY_ENVIRONMENT"); e != "" {
		cfg.env = pepay.Environment(e)
	}
	if w := os.Getenv("PEPAY_WAIT"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil {
			return cfg, fmt.Errorf("PEPAY_WAIT: %w", err)
		}
		cfg.wait = d
	}
	if cfg.baseURL == "" {
		return cfg, nil
	}
	if cfg.apiKey == "" || cfg.secret == "" {
		return cfg, errors.New("PEPAY_BASE_URL is set: PEPAY_API_KEY and PEPAY_WEBHOOK_SECRET are required too")
	}
	return cfg, nil
}

// console serializes output from the webhook, stream and polling goroutines.
type console struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, format+"\n", args...)
}

func run(ctx context.Context, w io.Writer) error {
	out := &console{w: w}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.baseURL == "" {
		cfg.fake = pepaytest.NewServer()
		defer cfg.fake.Close()
		cfg.baseURL, cfg.apiKey, cfg.secret, cfg.wait = cfg.fake.BaseURL, cfg.fake.APIKey, "whsec_pepayinvoice_demo", 20*time.Second
		out.printf("Using an in-process fake Pepay at %s (set PEPAY_BASE_URL, PEPAY_API_KEY, PEPAY_WEBHOOK_SECRET for a real one)", cfg.baseURL)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.wait+30*time.Second)
	defer cancel()

	client, err := pepay.NewClient(cfg.apiKey, pepay.WithBaseURL(cfg.baseURL), pepay.WithEnvironment(cfg.env))
	if err != nil {
		return err
	}

	// One dedupe for both realtime channels, keyed by event id.
	dedupe := webhook.NewDeduper(webhook.NewMemoryStore())
	book := &ledger{out: out, orderID: "1001", processed: map[string]string{}}

	// Step 4a: the webhook endpoint, a real HTTP server on loopback.
	hook, err := pepay.NewWebhookHandler(cfg.secret, book.handler("webhook"), pepay.WithDeduper(dedupe))
	if err != nil {
		return err
	}
	var replies replyCounter
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/pepay", replies.wrap(hook))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	httpSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = httpSrv.Serve(ln) }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		_ = httpSrv.Shutdown(sctx)
	}()
	hookURL := "http://" + ln.Addr().String() + "/webhooks/pepay"
	if cfg.fake != nil {
		cfg.fake.SetWebhook(hookURL, cfg.secret)
		out.printf("1. Webhook endpoint %s registered (signature + 5-minute timestamp check, dedupe by event id)", hookURL)
	} else {
		out.printf("1. Webhook endpoint listening on %s: expose it over HTTPS and add it in the Pepay dashboard", hookURL)
	}

	// Step 4b: the merchant WebSocket, started before the invoice so it sees every event.
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	connected := make(chan struct{})
	reconnected := make(chan struct{}, 1)
	var connectOnce sync.Once
	streamDone := make(chan error, 1)
	go func() {
		streamDone <- client.Stream(streamCtx, pepay.StreamParams{
			Types:      []string{"invoice.*", "invoice_payment.*"},
			Deduper:    dedupe,
			MinBackoff: 50 * time.Millisecond,
			OnStatus: func(s pepay.StreamStatus) {
				switch s.State {
				case pepay.StreamConnected:
					first := false
					connectOnce.Do(func() { first = true; close(connected) })
					if !first {
						out.printf("   [stream] reconnected, resuming with since=%s", s.Since)
						select {
						case reconnected <- struct{}{}:
						default:
						}
					}
				case pepay.StreamDisconnected:
					out.printf("   [stream] connection lost (%v); reconnecting", s.Err)
				case pepay.StreamResyncing:
					out.printf("   [stream] resume point too old, backfilling from the events API")
				}
			},
		}, book.handler("stream"))
	}()
	select {
	case <-connected:
		out.printf("2. WebSocket stream connected (%s, format=%s)", pepay.StreamPath, pepay.StreamFormat)
	case err := <-streamDone:
		return fmt.Errorf("stream: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}

	// Step 2: create the invoice; the Idempotency-Key is derived from the order.
	created, err := client.CreateInvoice(ctx, pepay.CreateInvoiceParams{
		AmountUSD:   paykit.MustDecimal("25.00"),
		Description: "Order #1001",
		Metadata:    pepay.Metadata{"order_id": "1001"},
		ExpiresIn:   time.Hour,
		OrderRef:    "order-1001",
	})
	if err != nil {
		return fmt.Errorf("create invoice: %w", err)
	}
	book.setInvoice(created.InvoiceID)
	out.printf("3. Invoice %s created for $25.00 (Idempotency-Key %s)", created.InvoiceID, created.IdempotencyKey)
	out.printf("   Hosted payment URL: %s", created.PaymentURL)

	// Step 3: embedded checkout uses the browser-safe session headers, never the API key.
	payor, err := pepay.NewPayorClient(created.PaymentSessionHeaders, pepay.WithBaseURL(cfg.baseURL))
	if err != nil {
		return err
	}
	if details, err := payor.SessionDetails(ctx); err == nil {
		out.printf("   Payor session: %s USD due, status %s", details.AmountRemainingUSD, details.InvoiceStatus)
	}

	// Step 4c: polling as the third, slowest channel.
	type waited struct {
		st  *pepay.InvoiceStatus
		err error
	}
	pollDone := make(chan waited, 1)
	go func() {
		poll := []pepay.WaitOption{pepay.OnStatusChange(func(s *pepay.InvoiceStatus) {
			out.printf("   [poll] status %s", s.Status())
		})}
		if cfg.fake != nil {
			poll = append(poll, pepay.WithPollInterval(20*time.Millisecond, 200*time.Millisecond))
		}
		st, err := client.WaitForInvoice(ctx, created.InvoiceID, poll...)
		pollDone <- waited{st, err}
	}()

	if cfg.fake != nil {
		if err := playPayor(ctx, out, cfg.fake, book, created.InvoiceID, reconnected); err != nil {
			return err
		}
	} else {
		out.printf("4. Waiting up to %s for the payor to pay at the URL above...", cfg.wait)
	}

	var final waited
	select {
	case final = <-pollDone:
	case <-ctx.Done():
		return ctx.Err()
	}
	if final.err != nil {
		return fmt.Errorf("wait for invoice: %w", final.err)
	}
	out.printf("5. Polling saw the terminal status: %s", final.st.Status())

	// Let the realtime channels finish: with the fake we know every event; against Pepay we
	// give webhooks a moment.
	if cfg.fake != nil {
		if err := cfg.fake.WaitWebhooks(ctx); err != nil {
			return err
		}
		if err := book.waitFor(ctx, invoiceEvents(cfg.fake, created.InvoiceID)); err != nil {
			return err
		}
	} else {
		_ = sleep(ctx, 2*time.Second)
	}
	stopStream()
	if err := <-streamDone; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("stream: %w", err)
	}

	// Step 5: reconcile on the invoice itself, the source of truth.
	inv, err := client.GetInvoice(ctx, created.InvoiceID, pepay.Expand(pepay.ExpandLatestPayment, pepay.ExpandPayments))
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	if book.status() != "" && book.status() != inv.Status {
		return fmt.Errorf("reconcile: events said %s, the invoice says %s", book.status(), inv.Status)
	}
	out.printf("6. Reconciled: invoice %s, paid %s of %s USD (%d payments)", inv.Status, inv.AmountPaidDecimal, inv.AmountDecimal, len(inv.Payments))
	if p := inv.LatestPayment; p != nil && p.Settlement != nil {
		s := p.Settlement
		out.printf("   Settlement: %s (stage %s) on %s, merchant settlement %s, tx %s", s.SummaryStatus, s.Stage, s.Network, s.MerchantSettlementID, s.SettlementTxHash)
	}
	total, byChannel := book.summary()
	out.printf("7. %d events, each processed once (%s); webhook replies: %s", total, byChannel, replies.String())
	return nil
}

// replyCounter tallies the webhook endpoint's answers ("ok", "duplicate", …), to show the
// deliveries the stream had already handled being acknowledged without running the handler.
type replyCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *replyCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &peekWriter{ResponseWriter: w}
		h.ServeHTTP(pw, r)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.counts == nil {
			c.counts = map[string]int{}
		}
		c.counts[fmt.Sprintf("%d %s", pw.status, strings.TrimSpace(pw.body.String()))]++
	})
}

func (c *replyCounter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for k, n := range c.counts {
		parts = append(parts, fmt.Sprintf("%d× %s", n, k))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// peekWriter keeps the status and the first bytes of the body.
type peekWriter struct {
	http.ResponseWriter
	status int
	body   strings.Builder
}

func (w *peekWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *peekWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len() < 64 {
		w.body.Write(b[:min(len(b), 64-w.body.Len())])
	}
	return w.ResponseWriter.Write(b)
}

// playPayor drives the fake: an underpayment, a dropped WebSocket, then the rest.
func playPayor(ctx context.Context, out *console, srv *pepaytest.Server, book *ledger, id string, reconnected <-chan struct{}) error {
	out.printf("4. Fake payor sends $10.00 of $25.00")
	if err := srv.Underpay(id, 10_000); err != nil {
		return err
	}
	if err := book.waitFor(ctx, invoiceEvents(srv, id)); err != nil {
		return err
	}
	out.printf("   Fake Pepay drops the WebSocket connection")
	srv.DropStreams()
	select {
	case <-reconnected:
	case <-ctx.Done():
		return ctx.Err()
	}
	out.printf("   Fake payor sends the remaining $15.00")
	return srv.Pay(id)
}

func invoiceEvents(srv *pepaytest.Server, id string) []string {
	var ids []string
	for _, e := range srv.EventLog() {
		if e.InvoiceID == id {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// ledger is the business side: it applies each event once and remembers which channel
// delivered it. The shared Deduper guarantees the "once"; the ledger checks it.
type ledger struct {
	out       *console
	orderID   string
	mu        sync.Mutex
	invoiceID string
	processed map[string]string // event id → channel
	last      pepay.Status
	shipped   bool
	dupes     int
}

// setInvoice records the order's invoice id (the invoice.created event may arrive first and
// record it from the invoice's metadata).
func (l *ledger) setInvoice(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.invoiceID = id
}

func (l *ledger) handler(channel string) func(context.Context, *pepay.Event) error {
	return func(_ context.Context, e *pepay.Event) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if prev, ok := l.processed[e.ID]; ok {
			l.dupes++ // cannot happen with the shared Deduper; counted to prove it
			l.out.printf("   DUPLICATE %s via %s (first via %s)", e.ID, channel, prev)
			return nil
		}
		l.processed[e.ID] = channel
		if inv := e.Invoice(); inv != nil && inv.Metadata.Get("order_id") == l.orderID {
			l.invoiceID = inv.ID // the order's invoice, recognised by its metadata
		}
		if e.InvoiceID() != l.invoiceID {
			l.out.printf("   [%s] %s %s: not this order's invoice, ignored", channel, e.ID, e.Type)
			return nil
		}
		switch {
		case e.Invoice() != nil:
			inv := e.Invoice()
			l.last = inv.Status
			l.out.printf("   [%s] %s %s: invoice %s, paid %s of %s USD", channel, e.ID, e.Type, inv.Status, inv.AmountPaidDecimal, inv.AmountDecimal)
			if inv.Status == pepay.StatusPaid && !l.shipped {
				l.shipped = true
				l.out.printf("   => order %s paid in full: released for shipping", l.orderID)
			}
		case e.InvoicePayment() != nil:
			p := e.InvoicePayment()
			l.out.printf("   [%s] %s %s: payment %s, settlement %s", channel, e.ID, e.Type, p.Status, p.SettlementStatus)
		default:
			l.out.printf("   [%s] %s %s", channel, e.ID, e.Type)
		}
		return nil
	}
}

func (l *ledger) status() pepay.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// waitFor blocks until every id was processed.
func (l *ledger) waitFor(ctx context.Context, ids []string) error {
	for {
		l.mu.Lock()
		missing := 0
		for _, id := range ids {
			if _, ok := l.processed[id]; !ok {
				missing++
			}
		}
		l.mu.Unlock()
		if missing == 0 {
			return nil
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for %d events: %w", missing, err)
		}
	}
}

func (l *ledger) summary() (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	counts := map[string]int{}
	for _, ch := range l.processed {
		counts[ch]++
	}
	var parts []string
	for ch, n := range counts {
		parts = append(parts, fmt.Sprintf("%d via %s", n, ch))
	}
	sort.Strings(parts)
	parts = append(parts, fmt.Sprintf("%d duplicates", l.dupes))
	return len(l.processed), strings.Join(parts, ", ")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
