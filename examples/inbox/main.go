// Command inbox shows the durable webhook inbox (webhook/riverinbox) rescuing a slow fulfilment
// step from JoPay's 8-second webhook deadline. Without the inbox, JoPay's webhook handler runs
// the fulfilment inside the request: JoPay hangs up before it finishes, redelivers, hangs up
// again and gives up, and the paid order is never fulfilled. With the inbox, the same handler
// verifies and stores the delivery in PostgreSQL through River and answers 200 within
// milliseconds; a River worker then runs the fulfilment, exactly once, even when JoPay
// redelivers.
//
//	DATABASE_URL=postgres://user:password@localhost:5432/db go run ./examples/inbox
//
// It needs PostgreSQL, named by DATABASE_URL, or by PAYKIT_TEST_POSTGRES_DSN, which
// `source .ci/postgres.sh` sets after starting a private test server. Without either it says so
// and exits with status 1. It works in a schema of its own (paykit_inbox_example_<random>), which
// it drops at the end. JoPay is the in-process fake (jopaytest).
//
// Time is scaled down 10× to keep the run short: JoPay's 8 s deadline becomes 800 ms (an
// http.TimeoutHandler in front of the endpoint cuts each request off the way JoPay hangs up, and
// the fake redelivers the 503), and the fulfilment takes 1.5 s instead of 15 s.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the dedupe store

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/riverinbox"
	"github.com/paykit-go/paykit/webhook/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "inbox:", err)
		os.Exit(1)
	}
}

// The scaled-down clock of the demonstration.
const (
	budget     = 800 * time.Millisecond  // JoPay's 8 s answer deadline, scaled
	fulfilTime = 1500 * time.Millisecond // a 15 s fulfilment step, scaled
	attempts   = 3                       // deliveries JoPay makes before giving up
)

// errNoDatabase is returned when no PostgreSQL is configured.
var errNoDatabase = errors.New("this example needs PostgreSQL: set DATABASE_URL=postgres://user:password@host:5432/dbname " +
	"(or run `source .ci/postgres.sh`, which starts a local test server and sets PAYKIT_TEST_POSTGRES_DSN)")

// databaseURL returns DATABASE_URL, else PAYKIT_TEST_POSTGRES_DSN.
func databaseURL() (string, error) {
	for _, k := range []string{"DATABASE_URL", "PAYKIT_TEST_POSTGRES_DSN"} {
		if v := os.Getenv(k); v != "" {
			return v, nil
		}
	}
	return "", errNoDatabase
}

// shop fulfils paid orders. Fulfilment is slow (a warehouse API, say) and stops when its
// context ends.
type shop struct {
	out       *printer
	mu        sync.Mutex
	fulfilled map[string]int // order id → completed fulfilments
	done      chan string    // order ids, once fulfilled
}

// onEvent is the webhook handler function.
func (s *shop) onEvent(ctx context.Context, e *jopay.Event) error {
	if !e.IsPaid() {
		return nil // payment.proof_attached: nothing to do yet
	}
	start := time.Now()
	select {
	case <-time.After(fulfilTime):
	case <-ctx.Done():
		s.out.printf("   fulfilment of order %s interrupted after %v: %v\n", e.OrderID(), since(start), context.Cause(ctx))
		return ctx.Err()
	}
	s.mu.Lock()
	s.fulfilled[e.OrderID()]++
	n := s.fulfilled[e.OrderID()]
	s.mu.Unlock()
	s.out.printf("   order %s fulfilled after %v (fulfilment #%d)\n", e.OrderID(), since(start), n)
	s.done <- e.OrderID()
	return nil
}

func (s *shop) count(orderID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fulfilled[orderID]
}

// run is the whole program; main_test.go calls it.
func run(ctx context.Context, w io.Writer) error {
	out := &printer{w: w}
	dsn, err := databaseURL()
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// PostgreSQL: a pgx pool for River, database/sql for the dedupe store, one schema for both.
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer pool.Close()
	schema, dropSchema, err := createSchema(ctx, pool)
	if err != nil {
		return err
	}
	defer dropSchema()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.WithTable(schema+".webhook_events"))
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	dedupe := webhook.NewDeduper(store)

	inbox, err := riverinbox.New(pool, riverinbox.WithSchema(schema), riverinbox.WithWorkers(2), riverinbox.WithLogger(logger))
	if err != nil {
		return err
	}
	if err := inbox.Migrate(ctx); err != nil { // River's tables; safe on every replica at startup
		return err
	}
	out.printf("PostgreSQL: River's tables and the dedupe table in schema %s (dropped at the end)\n", schema)

	fake := jopaytest.NewServer(jopaytest.WithDeliveryAttempts(attempts, func(int) time.Duration { return 200 * time.Millisecond }))
	defer fake.Close()
	client, err := fake.NewClient()
	if err != nil {
		return err
	}
	s := &shop{out: out, fulfilled: map[string]int{}, done: make(chan string, 4)}
	out.printf("JoPay (in-process fake) waits %v for an answer (8 s, scaled 10×); fulfilment takes %v (15 s, scaled)\n\n", budget, fulfilTime)

	// 1. Without the inbox: the handler runs the fulfilment inside the request.
	direct, err := jopay.NewWebhookHandler(jopaytest.WebhookSecret, s.onEvent, webhook.WithDeduper(dedupe))
	if err != nil {
		return err
	}
	directURL, stopDirect, err := serve(ctx, direct, out)
	if err != nil {
		return err
	}
	defer stopDirect()
	fake.SetWebhook(directURL, jopaytest.WebhookSecret)
	out.printf("1. Without the inbox: order A-1 is paid; JoPay delivers payment.proof_verified to %s\n", directURL)
	req1, err := createPaid(ctx, client, fake, "A-1")
	if err != nil {
		return err
	}
	printOutcome(out, req1)
	out.printf("   order A-1 fulfilled %d time(s): JoPay gave up, the customer paid for nothing\n\n", s.count("A-1"))

	// 2. With the inbox: the same handler stores the delivery and answers at once.
	queued, err := jopay.NewWebhookHandler(jopaytest.WebhookSecret, s.onEvent,
		webhook.WithDeduper(dedupe), webhook.WithLogger(logger), webhook.WithInbox(inbox, "jopay"))
	if err != nil {
		return err
	}
	if err := inbox.Start(ctx); err != nil { // River workers: run them on any replica
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = inbox.Stop(sctx)
	}()
	queuedURL, stopQueued, err := serve(ctx, queued, out)
	if err != nil {
		return err
	}
	defer stopQueued()
	fake.SetWebhook(queuedURL, jopaytest.WebhookSecret)
	out.printf("2. With the inbox: order A-2 is paid; JoPay delivers payment.proof_verified to %s\n", queuedURL)
	req2, err := createPaid(ctx, client, fake, "A-2")
	if err != nil {
		return err
	}
	acked := time.Now()
	printOutcome(out, req2)
	out.printf("   the delivery is stored in PostgreSQL; a River worker runs the fulfilment\n")
	select {
	case <-s.done:
	case <-time.After(10 * fulfilTime):
		return errors.New("the worker did not fulfil order A-2")
	case <-ctx.Done():
		return ctx.Err()
	}
	out.printf("   JoPay had its answer in milliseconds; the worker finished %v later\n", since(acked).Round(100*time.Millisecond))

	// 3. JoPay delivers the same event again.
	out.printf("3. JoPay redelivers A-2's payment.proof_verified (a new delivery_id, signed afresh)\n")
	if _, err := fake.Redeliver(ctx, req2.RequestID, jopay.EventProofVerified); err != nil {
		return err
	}
	time.Sleep(fulfilTime + 500*time.Millisecond) // a second fulfilment would have finished by now
	out.printf("   order A-2 fulfilled %d time(s)\n", s.count("A-2"))

	// 4. Operators: deliveries that failed on every attempt.
	discarded, _, err := inbox.ListDiscarded(ctx, riverinbox.ListParams{})
	if err != nil {
		return err
	}
	out.printf("4. Discarded deliveries (failed on every attempt, retry with inbox.Retry(ctx, id)): %d\n", len(discarded))
	return nil
}

// createPaid creates a payment request for orderID, opens it and pays it, returning the
// payment.proof_verified delivery once JoPay is done with it.
func createPaid(ctx context.Context, client *jopay.Client, fake *jopaytest.Server, orderID string) (*jopaytest.Delivery, error) {
	req, err := client.CreateRequest(ctx, jopay.CreateRequestParams{
		MerchantID:    jopaytest.DefaultMerchantID,
		FiatAmountInt: 2750,
		Memo:          "Order #" + orderID,
		Metadata:      map[string]string{jopay.MetadataOrderID: orderID},
	})
	if err != nil {
		return nil, err
	}
	if err := fake.Open(req.ID); err != nil {
		return nil, err
	}
	return fake.Pay(ctx, req.ID)
}

// printOutcome says how JoPay's delivery ended.
func printOutcome(out *printer, d *jopaytest.Delivery) {
	if d.Delivered {
		out.printf("   JoPay: delivered after %d attempt(s)\n", len(d.Attempts))
	} else {
		out.printf("   JoPay: gives up after %d attempts\n", len(d.Attempts))
	}
}

// serve runs h on a loopback port behind JoPay's (scaled) deadline, printing each delivery's
// answer and how long it took.
func serve(ctx context.Context, h http.Handler, out *printer) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	// TimeoutHandler answers 503 at the deadline and cancels the handler's context, as JoPay
	// hanging up does.
	limited := http.TimeoutHandler(h, budget, "deadline exceeded")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/jopay", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}
		var head struct {
			Event string `json:"event"`
		}
		_ = json.Unmarshal(body, &head)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		limited.ServeHTTP(rec, r)
		note := ""
		if rec.status == http.StatusServiceUnavailable {
			note = ": cut off at the deadline, JoPay will redeliver"
		}
		out.printf("   %s delivery answered %d after %v%s\n", head.Event, rec.status, time.Since(start).Round(time.Millisecond), note)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/webhooks/jopay", func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}, nil
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// createSchema creates a fresh schema for this run and returns a function dropping it.
func createSchema(ctx context.Context, pool *pgxpool.Pool) (string, func(), error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	schema := "paykit_inbox_example_" + hex.EncodeToString(b[:])
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	return schema, func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = pool.Exec(dctx, "DROP SCHEMA "+schema+" CASCADE")
	}, nil
}

func since(t time.Time) time.Duration { return time.Since(t).Round(10 * time.Millisecond) }

// printer serializes output: handlers and workers print from their own goroutines.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}
