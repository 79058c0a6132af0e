package sqlstore_test

import (
	"context"
	"database/sql"
	"log"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // or any PostgreSQL database/sql driver

	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/sqlstore"
)

// Share webhook dedupe state between replicas through PostgreSQL.
func Example() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store, err := sqlstore.New(db, sqlstore.WithTable("webhook_events"))
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil { // idempotent; safe from every replica at startup
		log.Fatal(err)
	}
	dedupe := webhook.NewDeduper(store, webhook.WithRetention(7*24*time.Hour))

	// Delete expired rows now and then.
	go func() {
		for range time.Tick(time.Hour) {
			if _, err := store.Purge(ctx); err != nil {
				log.Printf("purge webhook events: %v", err)
			}
		}
	}()

	err = dedupe.Do(ctx, "evt_123", func(ctx context.Context) error {
		// Fulfil the order. Runs once across all replicas unless it fails.
		return nil
	})
	log.Printf("status %d", webhook.StatusCode(err))
}
