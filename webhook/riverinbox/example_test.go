package riverinbox_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for sqlstore

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/riverinbox"
	"github.com/paykit-go/paykit/webhook/sqlstore"
)

// Answer JoPay's webhooks at once and fulfil orders from River workers, on every replica.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	dsn := os.Getenv("DATABASE_URL")

	// River's jobs: a pgx pool with room for the workers, River itself and the web requests.
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	inbox, err := riverinbox.New(pool, riverinbox.WithWorkers(4), riverinbox.WithMaxAttempts(20))
	if err != nil {
		log.Fatal(err)
	}
	if err := inbox.Migrate(ctx); err != nil { // safe on every replica at startup
		log.Fatal(err)
	}

	// Effects once: a dedupe store every replica shares, here in the same database.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := sqlstore.New(db)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	fulfil := func(ctx context.Context, e *jopay.Event) error {
		if !e.IsPaid() {
			return nil
		}
		// Slow work is fine here: JoPay already got its 200. Return an error to be retried.
		return nil
	}
	hook, err := jopay.NewWebhookHandler(os.Getenv("JOPAY_WEBHOOK_SECRET"), fulfil,
		webhook.WithDeduper(webhook.NewDeduper(store)),
		webhook.WithInbox(inbox, "jopay"))
	if err != nil {
		log.Fatal(err)
	}

	if err := inbox.Start(ctx); err != nil { // the workers; replicas that only receive skip this
		log.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := inbox.Stop(sctx); err != nil { // running deliveries go back to the queue
			log.Print(err)
		}
	}()

	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/jopay", hook)
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
	}
}

// List the deliveries that failed on every attempt, and run one again once its cause is fixed.
func ExampleInbox_ListDiscarded() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	inbox, err := riverinbox.New(pool)
	if err != nil {
		log.Fatal(err)
	}
	cursor := ""
	for {
		page, next, err := inbox.ListDiscarded(ctx, riverinbox.ListParams{Endpoint: "jopay", Cursor: cursor})
		if err != nil {
			log.Fatal(err)
		}
		for _, d := range page {
			fmt.Printf("%d %s key=%s attempts=%d discarded=%s error=%q\n",
				d.ID, d.Delivery.Endpoint, d.Delivery.Key, d.Attempts, d.DiscardedAt.Format(time.RFC3339), d.LastError())
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if err := inbox.Retry(ctx, 42); err != nil { // a job id from the list
		log.Print(err)
	}
}
