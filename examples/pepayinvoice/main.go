// Command pepayinvoice runs Pepay's integration checklist end to end: create an invoice, hand
// out the hosted payment URL, track it three ways at once — signed webhooks on a real local
// HTTP endpoint, the realtime WebSocket stream, and status polling — with each event processed
// exactly once (one webhook.Deduper shared by the webhook handler and the stream), then
// reconcile the final status from the invoice itself and print the settlement.
//
// With no configuration it starts an in-process fake Pepay (pepaytest) and plays the payor: an
// underpayment, then the rest. Each realtime path gets its turn, so the output shows both doing
// their job: webhooks carry the first events while the stream is not yet running; the stream
// then starts from the last event processed, survives a dropped connection (every failed
// connection is reported through StreamParams.OnReconnect, and the stream gives up after
// MaxConsecutiveFailures failures in a row instead of retrying forever) and carries the final
// events while the webhook endpoint is down for a deploy; Pepay's retries of those deliveries
// are then acknowledged as already processed. Last, a second stream aimed at a loopback port
// where nothing listens shows an outage end to end: three refused attempts, then a
// *pepay.ReconnectError.
//
// Set PEPAY_API_KEY and PEPAY_WEBHOOK_SECRET to use your Pepay account instead (optional:
// PEPAY_BASE_URL, default https://api-beta.pepay.io/api/v1; PEPAY_ENVIRONMENT=devnet|mainnet;
// PEPAY_WAIT=15m bounds the wait for payment; PEPAY_WEBHOOK_ADDR, default 127.0.0.1:0, is the
// local webhook address, which has to be made reachable over HTTPS and added in the dashboard).
// Setting only some of the variables stops with the names of the missing ones.
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
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	real                          bool
	baseURL, apiKey, secret, addr string
	env                           pepay.Environment
	wait                          time.Duration
}

// The PEPAY_* variables: the credentials are required for a real endpoint, the rest optional.
var (
	requiredVars = []string{"PEPAY_API_KEY", "PEPAY_WEBHOOK_SECRET"}
	optionalVars = []string{"PEPAY_BASE_URL", "PEPAY_ENVIRONMENT", "PEPAY_WAIT", "PEPAY_WEBHOOK_ADDR"}
)

func loadConfig() (config, error) {
	cfg := config{addr: "127.0.0.1:0", env: pepay.EnvironmentDevnet, wait: 15 * time.Minute}
	vars, err := envVars(requiredVars, optionalVars)
	if err != nil || vars == nil {
		return cfg, err
	}
	cfg.real = true
	cfg.apiKey, cfg.secret = vars["PEPAY_API_KEY"], vars["PEPAY_WEBHOOK_SECRET"]
	cfg.baseURL = cmp.Or(vars["PEPAY_BASE_URL"], pepay.DefaultBaseURL)
	cfg.addr = cmp.Or(vars["PEPAY_WEBHOOK_ADDR"], cfg.addr)
	if e := vars["PEPAY_ENVIRONMENT"]; e != "" {
		cfg.env = pepay.Environment(e)
	}
	if w := vars["PEPAY_WAIT"]; w != "" {
		if cfg.wait, err = time.ParseDuration(w); err != nil {
			return cfg, fmt.Errorf("PEPAY_WAIT: %w", err)
		}
	}
	return cfg, nil
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

// console serializes output from the webhook, stream and polling goroutines and numbers the
// steps. While the main flow holds it (hold … release), their lines wait, so a step's own lines
// come before the events it caused.
type console struct {
	mu     sync.Mutex
	w      io.Writer
	last   int      // step number
	held   bool     // event lines are buffered
	buffer []string // held event lines, in arrival order
}

// printf prints a line of the main flow.
func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, format+"\n", args...)
}

// step prints the next step number and the line.
func (c *console) step(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last++
	fmt.Fprintf(c.w, "%d. "+format+"\n", append([]any{c.last}, args...)...)
}

// event prints a line from a webhook, stream or poll goroutine, or keeps it while held.
func (c *console) event(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		c.buffer = append(c.buffer, fmt.Sprintf(format, args...))
		return
	}
	fmt.Fprintf(c.w, format+"\n", args...)
}

// hold makes event lines wait until release.
func (c *console) hold() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = true
}

// release prints the held event lines and lets later ones through.
func (c *console) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.buffer {
		fmt.Fprintln(c.w, l)
	}
	c.buffer, c.held = nil, false
}

func run(ctx context.Context, w io.Writer) error {
	out := &console{w: w}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	var fake *pepaytest.Server
	if cfg.real {
		out.printf("Pepay at %s (%s)", cfg.baseURL, cfg.env)
	} else {
		// Pepay retries a failed delivery for hours; the fake retries every 20 ms, long enough
		// for the endpoint's deploy below.
		fake = pepaytest.NewServer(pepaytest.WithDeliveryAttempts(500, func(int) time.Duration { return 20 * time.Millisecond }))
		defer fake.Close()
		cfg.baseURL, cfg.apiKey, cfg.secret, cfg.wait = fake.BaseURL, fake.APIKey, "whsec_pepayinvoice_demo", 20*time.Second
		out.printf("Using an in-process fake Pepay at %s", cfg.baseURL)
		out.printf("(set PEPAY_API_KEY and PEPAY_WEBHOOK_SECRET to use your Pepay account)")
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

	// The webhook endpoint, a real HTTP server on loopback. The switch lets the fake run take it
	// down for a deploy; replies counts its answers.
	hook, err := pepay.NewWebhookHandler(cfg.secret, book.handler("webhook"), webhook.WithDeduper(dedupe))
	if err != nil {
		return err
	}
	var endpoint onOff
	var replies replyCounter
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/pepay", endpoint.wrap(replies.wrap(hook)))
	ln, err := net.Listen("tcp", cfg.addr)
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
	if fake != nil {
		fake.SetWebhook(hookURL, cfg.secret)
		out.step("Webhook endpoint %s registered (signature + 5-minute timestamp check, dedupe by event id)", hookURL)
	} else {
		out.step("Webhook endpoint listening on %s: expose it over HTTPS and add it in the Pepay dashboard", hookURL)
	}

	// The merchant WebSocket. Against Pepay it starts before the invoice so it sees every event;
	// the fake run starts it later (playPayor), once webhooks have carried the first events.
	ws := &stream{client: client, out: out, dedupe: dedupe, handler: book.handler("stream")}
	defer ws.stop()
	if fake == nil {
		if err := ws.start(ctx, ""); err != nil {
			return err
		}
		out.step("WebSocket stream connected (%s, format=%s)", pepay.StreamPath, pepay.StreamFormat)
	}

	// Create the invoice; the Idempotency-Key is derived from the order. The step's lines come
	// before the events it causes.
	out.hold()
	created, err := client.CreateInvoice(ctx, pepay.CreateInvoiceParams{
		AmountUSD:   paykit.MustDecimal("25.00"),
		Description: "Order #1001",
		Metadata:    pepay.Metadata{"order_id": "1001"},
		ExpiresIn:   time.Hour,
		OrderRef:    "order-1001",
	})
	if err != nil {
		out.release()
		return fmt.Errorf("create invoice: %w", err)
	}
	book.setInvoice(created.InvoiceID)
	out.step("Invoice %s created for $25.00 (Idempotency-Key %s)", created.InvoiceID, created.IdempotencyKey)
	out.printf("   Hosted payment URL: %s", created.PaymentURL)

	// Embedded checkout uses the browser-safe session headers, never the API key.
	payor, err := pepay.NewPayorClient(created.PaymentSessionHeaders, pepay.WithBaseURL(cfg.baseURL))
	if err != nil {
		out.release()
		return err
	}
	if details, err := payor.SessionDetails(ctx); err == nil {
		out.printf("   Payor session: %s USD due, status %s", details.AmountRemainingUSD, details.InvoiceStatus)
	}
	out.release()

	// Polling as the third, slowest channel. Against the fake the main flow prints what it saw
	// (poll.await), so the lines keep their place; against Pepay they print as they come.
	type waited struct {
		st  *pepay.InvoiceStatus
		err error
	}
	poll := &poller{seen: make(chan pepay.Status, 8)}
	pollDone := make(chan waited, 1)
	go func() {
		opts := []pepay.WaitOption{pepay.OnStatusChange(func(s *pepay.InvoiceStatus) {
			if fake == nil {
				out.event("   [poll] status %s", s.Status())
				return
			}
			select {
			case poll.seen <- s.Status():
			default:
			}
		})}
		if fake != nil {
			opts = append(opts, pepay.WithPollInterval(20*time.Millisecond, 50*time.Millisecond))
		}
		st, err := client.WaitForInvoice(ctx, created.InvoiceID, opts...)
		pollDone <- waited{st, err}
	}()

	if fake != nil {
		if err := playPayor(ctx, out, fake, book, ws, poll, &endpoint, &replies, created.InvoiceID); err != nil {
			return err
		}
	} else {
		out.step("Waiting up to %s for the payor to pay at the URL above...", cfg.wait)
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
	out.step("Polling saw the terminal status: %s", final.st.Status())

	// Let the realtime channels finish: with the fake we know every event; against Pepay we
	// give webhooks a moment.
	if fake != nil {
		if err := fake.WaitWebhooks(ctx); err != nil {
			return err
		}
		if err := book.waitFor(ctx, invoiceEvents(fake, created.InvoiceID)); err != nil {
			return err
		}
	} else {
		_ = sleep(ctx, 2*time.Second)
	}
	if err := ws.stop(); err != nil {
		return err
	}

	// Reconcile on the invoice itself, the source of truth.
	inv, err := client.GetInvoiceExpanded(ctx, created.InvoiceID, pepay.GetInvoiceParams{Expand: []pepay.ExpandField{pepay.ExpandLatestPayment, pepay.ExpandPayments}})
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	if book.status() != "" && book.status() != inv.Status {
		return fmt.Errorf("reconcile: events said %s, the invoice says %s", book.status(), inv.Status)
	}
	out.step("Reconciled: invoice %s, paid %s of %s USD (%d payments)", inv.Status, inv.AmountPaidDecimal, inv.AmountDecimal, len(inv.Payments))
	if p := inv.LatestPayment; p != nil && p.Settlement != nil {
		s := p.Settlement
		out.printf("   Settlement: %s (stage %s) on %s, merchant settlement %s, tx %s", s.SummaryStatus, s.Stage, s.Network, s.MerchantSettlementID, s.SettlementTxHash)
	}
	total, byChannel, dupes := book.summary()
	out.step("%d events, each processed once: %s (%d processed twice)", total, byChannel, dupes)
	out.printf("   Webhook deliveries: %s", replies.String())
	if fake != nil {
		return unreachableStream(ctx, out, cfg.apiKey)
	}
	return nil
}

// stream runs the merchant WebSocket on its own goroutine, reporting connections and failures
// in the reader's words.
type stream struct {
	client  *pepay.Client
	out     *console
	dedupe  *webhook.Deduper
	handler func(context.Context, *pepay.Event) error

	cancel      context.CancelFunc
	done        chan error
	reconnected chan string // the resume point of each reconnection
}

// start connects, resuming after since ("" starts live), and returns once the first connection
// is open.
func (s *stream) start(ctx context.Context, since string) error {
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan error, 1)
	s.reconnected = make(chan string, 4)
	connected := make(chan struct{})
	var first atomic.Bool
	go func() {
		s.done <- s.client.Stream(ctx, pepay.StreamParams{
			Types:      []string{"invoice.*", "invoice_payment.*"},
			Since:      since,
			Deduper:    s.dedupe,
			MinBackoff: 50 * time.Millisecond,
			// Ten failed connections in a row (none staying up for StableAfter, a minute) end
			// the stream with a *pepay.ReconnectError instead of retrying forever.
			MaxConsecutiveFailures: 10,
			OnReconnect: func(attempt int, err error, wait time.Duration) {
				s.out.event("   [stream] connection lost (%s); reconnecting in %s", why(err), wait.Round(time.Millisecond))
			},
			OnStatus: func(st pepay.StreamStatus) {
				switch st.State {
				case pepay.StreamConnected:
					if first.CompareAndSwap(false, true) {
						close(connected)
						return
					}
					s.out.event("   [stream] reconnected, resuming after %s", cmp.Or(st.Since, "the live edge"))
					select {
					case s.reconnected <- st.Since:
					default:
					}
				case pepay.StreamResyncing:
					s.out.event("   [stream] the resume point is too old to replay; catching up from the events API")
				}
			},
		}, s.handler)
	}()
	select {
	case <-connected:
		return nil
	case err := <-s.done:
		s.done <- err // for stop
		return fmt.Errorf("stream: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends the stream and returns why it ended, if not because it was stopped.
func (s *stream) stop() error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("stream: %w", err)
	}
	return nil
}

// poller hands the statuses polling saw to the main flow (fake runs).
type poller struct{ seen chan pepay.Status }

// await waits until polling has seen want.
func (p *poller) await(ctx context.Context, want pepay.Status) error {
	for {
		select {
		case s := <-p.seen:
			if s == want {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("polling never saw %s: %w", want, ctx.Err())
		}
	}
}

// why says in the reader's words why a stream connection failed or ended.
func why(err error) string {
	var se *pepay.StreamError
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &se) && se.HTTPStatus != 0:
		return fmt.Sprintf("Pepay refused the connection: %d %s", se.HTTPStatus, http.StatusText(se.HTTPStatus))
	case errors.As(err, &se):
		return "Pepay reported " + se.Code
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dns):
		return "host not found"
	case errors.Is(err, pepay.ErrStreamIdle):
		return "no message or pong for too long"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return "the server closed it"
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	}
	return err.Error()
}

// onOff is the webhook endpoint's power switch: while off it answers 503, as an endpoint in the
// middle of a deploy does, and Pepay retries the delivery later.
type onOff struct{ down atomic.Bool }

func (o *onOff) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.down.Load() {
			http.Error(w, "deploying, try again", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// unreachableStream shows what an outage looks like to a stream: a host that refuses every
// connection, each failure reported by OnReconnect with the wait before the next attempt, and
// MaxConsecutiveFailures ending the stream with a *pepay.ReconnectError that wraps the last one.
func unreachableStream(ctx context.Context, out *console, apiKey string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil { // nothing listens there any more
		return err
	}
	down, err := pepay.NewClient(apiKey, pepay.WithBaseURL("http://"+addr))
	if err != nil {
		return err
	}
	const maxFailures = 3
	out.step("A second stream, aimed at %s where nothing listens, gives up after %d failures in a row:", addr, maxFailures)
	err = down.Stream(ctx, pepay.StreamParams{
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, MaxConsecutiveFailures: maxFailures,
		OnReconnect: func(attempt int, err error, wait time.Duration) {
			out.event("   [stream] attempt %d failed (%s); retrying in %s", attempt, why(err), wait.Round(time.Millisecond))
		},
	}, func(context.Context, *pepay.Event) error { return nil })
	var gaveUp *pepay.ReconnectError
	if !errors.As(err, &gaveUp) {
		return fmt.Errorf("unreachable stream: %w", err)
	}
	out.printf("   Attempt %d failed too (%s): Stream gave up and returned a *pepay.ReconnectError", gaveUp.Attempts, why(gaveUp.Err))
	return nil
}

// replyCounter tallies the webhook endpoint's answers ("200 ok", "200 duplicate", …), to show
// the deliveries the stream had already handled being acknowledged without running the handler.
type replyCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

// The pepay webhook handler's answers: handled, and already handled (by either channel).
const (
	replyProcessed = "200 ok"
	replyDuplicate = "200 duplicate"
)

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

func (c *replyCounter) count(reply string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[reply]
}

// String says what the answers mean.
func (c *replyCounter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts, other []string
	if n := c.counts[replyProcessed]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d processed", n))
	}
	if n := c.counts[replyDuplicate]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d acknowledged as already processed", n))
	}
	for k, n := range c.counts {
		if k != replyProcessed && k != replyDuplicate {
			other = append(other, fmt.Sprintf("%d answered %s", n, k))
		}
	}
	sort.Strings(other)
	parts = append(parts, other...)
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

// playPayor drives the fake so that each realtime path does its job in turn, whatever the
// timing: webhooks carry the invoice's first events while the stream is not running; the stream
// then starts after the last event processed, loses its connection and resumes, and carries the
// payment while the webhook endpoint is down; Pepay's retries of those deliveries are then
// acknowledged as already processed.
func playPayor(ctx context.Context, out *console, srv *pepaytest.Server, book *ledger, ws *stream, poll *poller, endpoint *onOff, replies *replyCounter, id string) error {
	if err := book.waitFor(ctx, invoiceEvents(srv, id)); err != nil { // invoice.created
		return err
	}
	out.step("Fake payor sends $10.00 of $25.00 (the stream is not running yet: webhooks carry the events)")
	if _, err := srv.PayAmount(ctx, id, 10_000); err != nil { // returns once the webhooks were delivered
		return err
	}
	if err := book.waitFor(ctx, invoiceEvents(srv, id)); err != nil {
		return err
	}
	if err := poll.await(ctx, pepay.StatusUnderpaid); err != nil {
		return err
	}
	out.printf("   [poll] status underpaid")

	since := book.lastEvent()
	if err := ws.start(ctx, since); err != nil {
		return err
	}
	out.step("WebSocket stream connected (%s, format=%s), resuming after %s, the last event processed", pepay.StreamPath, pepay.StreamFormat, since)
	out.printf("   Fake Pepay drops the WebSocket connection")
	for srv.DropStreams() == 0 { // the client can see the connection open before the server lists it
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
	select {
	case <-ws.reconnected:
	case <-ctx.Done():
		return ctx.Err()
	}

	endpoint.down.Store(true)
	out.step("The webhook endpoint goes down for a deploy (it answers 503, so Pepay will retry); the fake payor sends the remaining $15.00")
	before := len(invoiceEvents(srv, id))
	paid := make(chan error, 1)
	go func() { // Pay returns once its webhooks were delivered: after the endpoint is back
		_, err := srv.Pay(ctx, id)
		paid <- err
	}()
	if err := book.waitForCount(ctx, before+3); err != nil { // Pay logs three events
		return err
	}
	if err := poll.await(ctx, pepay.StatusPaid); err != nil {
		return err
	}
	out.printf("   [poll] status paid")
	endpoint.down.Store(false)
	select {
	case err := <-paid:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	out.printf("   The webhook endpoint is back: Pepay's retried deliveries of those %d events are acknowledged (200 \"duplicate\")", replies.count(replyDuplicate))
	out.printf("   without running the handler, since the stream processed them")
	return nil
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
	lastID    string            // the latest event processed
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
			l.out.event("   DUPLICATE %s via %s (first via %s)", e.ID, channel, prev)
			return nil
		}
		l.processed[e.ID] = channel
		l.lastID = e.ID
		if inv := e.Invoice(); inv != nil && inv.Metadata.Get("order_id") == l.orderID {
			l.invoiceID = inv.ID // the order's invoice, recognised by its metadata
		}
		if e.InvoiceID() != l.invoiceID {
			l.out.event("   [%s] %s %s: not this order's invoice, ignored", channel, e.ID, e.Type)
			return nil
		}
		switch {
		case e.Invoice() != nil:
			inv := e.Invoice()
			l.last = inv.Status
			l.out.event("   [%s] %s %s: invoice %s, paid %s of %s USD", channel, e.ID, e.Type, inv.Status, inv.AmountPaidDecimal, inv.AmountDecimal)
			if inv.Status == pepay.StatusPaid && !l.shipped {
				l.shipped = true
				l.out.event("   => order %s paid in full: released for shipping", l.orderID)
			}
		case e.InvoicePayment() != nil:
			p := e.InvoicePayment()
			l.out.event("   [%s] %s %s: payment %s, settlement %s", channel, e.ID, e.Type, p.Status, p.SettlementStatus)
		default:
			l.out.event("   [%s] %s %s", channel, e.ID, e.Type)
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
	return l.wait(ctx, func() int {
		missing := 0
		for _, id := range ids {
			if _, ok := l.processed[id]; !ok {
				missing++
			}
		}
		return missing
	})
}

// waitForCount blocks until n events were processed.
func (l *ledger) waitForCount(ctx context.Context, n int) error {
	return l.wait(ctx, func() int { return max(n-len(l.processed), 0) })
}

// wait polls missing, which runs under l.mu, until it returns 0.
func (l *ledger) wait(ctx context.Context, missing func() int) error {
	for {
		l.mu.Lock()
		n := missing()
		l.mu.Unlock()
		if n == 0 {
			return nil
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for %d events: %w", n, err)
		}
	}
}

// lastEvent returns the id of the latest event processed: where a stream resumes.
func (l *ledger) lastEvent() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastID
}

// summary returns how many events were processed, how many by each channel, and how many
// reached the ledger twice (none: the Deduper stops them).
func (l *ledger) summary() (int, string, int) {
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
	return len(l.processed), strings.Join(parts, ", "), l.dupes
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
