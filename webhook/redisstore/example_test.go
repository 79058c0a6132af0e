package redisstore_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/redisstore"
)

// Share webhook dedupe state between replicas through Redis. Any redis.UniversalClient works:
// redis.NewClient for one node, redis.NewFailoverClient for Sentinel, redis.NewClusterClient.
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR")})
	defer rdb.Close()

	store, err := redisstore.New(rdb, redisstore.WithPrefix("billing:webhooks:"))
	if err != nil {
		log.Fatal(err)
	}
	// Keys expire on their own (retention as the key TTL): nothing to purge.
	dedupe := webhook.NewDeduper(store, webhook.WithRetention(7*24*time.Hour))

	err = dedupe.Do(ctx, "evt_123", func(ctx context.Context) error {
		// Fulfil the order. Runs once across all replicas unless it fails.
		return nil
	})
	log.Printf("status %d", webhook.StatusCode(err))
}
