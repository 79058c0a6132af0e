package riverinbox_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/riverinbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two replicas with two workers each process 1,000 deliveries, a tenth of which fail on their
// first attempt, exactly once each, while 100 of them are redelivered concurrently; the test
// reports the throughput.
func TestTwoReplicasProcessEachDeliveryOnce(t *testing.T) {
	const (
		deliveries = 1000
		redelivers = 100
		senders    = 8
	)
	if testing.Short() {
		t.Skip("1,000-delivery run skipped in -short mode")
	}
	db := newTestDB(t)
	var (
		runs     atomic.Int64
		failures atomic.Int64
		failed   sync.Map // key → struct{}: first attempt already failed
	)
	replicas := make([]*replica, 2)
	for i := range replicas {
		name := fmt.Sprintf("r%d", i)
		pool := db.pool(t, "riverinbox-test-"+name, 8)
		dd := db.dedupe(t, db.sqlDB(t, "riverinbox-test-dedupe-"+name), time.Minute)
		r := db.newReplica(t, pool, riverinbox.WithWorkers(2), riverinbox.WithMaxAttempts(5))
		err := r.Register("shop", processFunc(dd, func(ctx context.Context, e event, d *webhook.Delivery) error {
			runs.Add(1)
			var n int
			if _, err := fmt.Sscanf(e.ID, "%d", &n); err != nil {
				return err
			}
			if n%10 == 0 {
				if _, loaded := failed.LoadOrStore(d.Key, struct{}{}); !loaded {
					failures.Add(1)
					return fmt.Errorf("transient failure for %s", d.Key)
				}
			}
			return db.recordEffect(ctx, pool, d.Key, name)
		}))
		require.NoError(t, err)
		r.start(t)
		replicas[i] = r
	}

	start := time.Now()
	ids := make(chan int)
	var wg sync.WaitGroup
	var enqueueErrs atomic.Int64
	for s := range senders {
		wg.Go(func() {
			ib := replicas[s%2]
			for n := range ids {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if err := ib.Enqueue(ctx, delivery("shop", fmt.Sprint(n))); !assert.NoError(t, err, "Enqueue %d", n) {
					enqueueErrs.Add(1)
				}
				cancel()
			}
		})
	}
	for n := range deliveries {
		ids <- n
		if n%(deliveries/redelivers) == 5 { // the provider redelivers some at once
			ids <- n
		}
	}
	close(ids)
	wg.Wait()
	enqueued := time.Since(start)
	if enqueueErrs.Load() > 0 {
		t.FailNow()
	}
	waitFor(t, 60*time.Second, "1,000 effects", func() bool {
		return db.count(t, `SELECT count(*) FROM `+db.schema+`.effects`) >= deliveries
	})
	elapsed := time.Since(start)
	waitFor(t, 10*time.Second, "every job to complete", func() bool {
		return db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job WHERE state = 'completed'`) == deliveries
	})
	time.Sleep(200 * time.Millisecond) // let any duplicate run show up

	assert.Equal(t, deliveries, db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job`), "jobs stored for %d deliveries (+%d redeliveries)", deliveries, redelivers)
	assert.Equal(t, deliveries, db.count(t, `SELECT count(*) FROM `+db.schema+`.effects`), "effects")
	assert.Equal(t, deliveries, db.count(t, `SELECT count(DISTINCT key) FROM `+db.schema+`.effects`), "distinct effects")
	assert.Equal(t, int64(deliveries/10), failures.Load(), "first-attempt failures")
	assert.Equal(t, int64(deliveries+deliveries/10), runs.Load(), "handler runs, want each delivery once, failures twice")
	assert.Equal(t, deliveries/10, db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job WHERE attempt = 2 AND cardinality(errors) = 1`), "jobs completed on their second attempt")
	perReplica := map[string]int{}
	rows, err := db.admin.Query(context.Background(), `SELECT replica, count(*) FROM `+db.schema+`.effects GROUP BY replica`)
	require.NoError(t, err)
	for rows.Next() {
		var name string
		var n int
		require.NoError(t, rows.Scan(&name, &n))
		perReplica[name] = n
	}
	require.NoError(t, rows.Err())
	assert.Len(t, perReplica, 2, "effects per replica = %v, want both replicas working", perReplica)
	t.Logf("%d deliveries (+%d redeliveries, %d first-attempt failures) on 2 replicas × 2 workers: enqueued in %v (%.0f/s from %d senders), all processed in %v (%.0f deliveries/s); per replica %v",
		deliveries, redelivers, failures.Load(), enqueued.Round(time.Millisecond), float64(deliveries+redelivers)/enqueued.Seconds(), senders,
		elapsed.Round(time.Millisecond), float64(deliveries)/elapsed.Seconds(), perReplica)
}
