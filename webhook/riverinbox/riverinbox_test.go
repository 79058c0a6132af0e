package riverinbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/riverinbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRejectsInvalidOptions(t *testing.T) {
	// New does not touch the database, so an unconnected pool is enough.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	require.NoError(t, err)
	defer pool.Close()
	_, err = riverinbox.New(nil)
	assert.Error(t, err, "New(nil) succeeded")
	for name, opt := range map[string]riverinbox.Option{
		"queue with capitals":  riverinbox.WithQueue("Webhooks"),
		"queue with space":     riverinbox.WithQueue("web hooks"),
		"empty queue":          riverinbox.WithQueue(""),
		"zero workers":         riverinbox.WithWorkers(0),
		"negative attempts":    riverinbox.WithMaxAttempts(-1),
		"zero timeout":         riverinbox.WithJobTimeout(0),
		"zero snooze":          riverinbox.WithSnooze(0),
		"schema with dot":      riverinbox.WithSchema("a.b"),
		"schema injection":     riverinbox.WithSchema(`x"; DROP TABLE y; --`),
		"schema too long":      riverinbox.WithSchema(strings.Repeat("s", 46)),
		"nil logger":           riverinbox.WithLogger(nil),
		"nil river config":     riverinbox.WithRiverConfig(nil),
		"invalid river config": riverinbox.WithRiverConfig(func(c *river.Config) { c.FetchCooldown = time.Nanosecond }),
	} {
		_, err := riverinbox.New(pool, opt)
		assert.Error(t, err, "%s: New succeeded", name)
	}
	ib, err := riverinbox.New(pool, riverinbox.WithQueue("billing_webhooks-2"), riverinbox.WithWorkers(3),
		riverinbox.WithMaxAttempts(5), riverinbox.WithJobTimeout(-1), riverinbox.WithSchema("_billing"), nil)
	require.NoError(t, err, "valid options")
	assert.NotNil(t, ib.River(), "River() = nil")
}

func TestRegister(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	require.NoError(t, err)
	defer pool.Close()
	ib, err := riverinbox.New(pool)
	require.NoError(t, err)
	noop := func(context.Context, *webhook.Delivery) error { return nil }
	require.NoError(t, ib.Register("jopay", noop))
	assert.ErrorIs(t, ib.Register("jopay", noop), riverinbox.ErrAlreadyRegistered, "second Register")
	assert.Error(t, ib.Register("", noop), "Register with an empty endpoint succeeded")
	assert.Error(t, ib.Register("pepay", nil), "Register with a nil function succeeded")
	assert.NoError(t, ib.Register("pepay", noop), "Register of another endpoint")
}

// An enqueued delivery is processed once, with the stored body, headers, key and receive time.
func TestEnqueueProcessesOnce(t *testing.T) {
	db := newTestDB(t)
	pool := db.pool(t, "riverinbox-test", 8)
	r := db.newReplica(t, pool, riverinbox.WithWorkers(2))
	dd := db.dedupe(t, db.sqlDB(t, "riverinbox-test-dedupe"), time.Minute)
	var (
		mu   sync.Mutex
		seen []*webhook.Delivery
	)
	err := r.Register("shop", processFunc(dd, func(ctx context.Context, e event, d *webhook.Delivery) error {
		mu.Lock()
		seen = append(seen, d)
		mu.Unlock()
		return db.recordEffect(ctx, pool, d.Key, "a")
	}))
	require.NoError(t, err)
	r.start(t)
	want := delivery("shop", "1")
	start := time.Now()
	enqueue(t, r, want)
	waitFor(t, 10*time.Second, "the effect", func() bool { return db.effects(t, want.Key) == 1 })
	t.Logf("enqueue to effect: %v", time.Since(start))
	waitFor(t, 10*time.Second, "the job to complete", func() bool { return db.job(t, want.Key).State == "completed" })

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 1, "deliveries processed")
	got := seen[0]
	assert.Equal(t, want.Endpoint, got.Endpoint, "processed Endpoint")
	assert.Equal(t, want.Key, got.Key, "processed Key")
	assert.Equal(t, string(want.Body), string(got.Body), "processed Body")
	assert.Equal(t, want.Header, got.Header, "processed Header")
	assert.True(t, got.ReceivedAt.Equal(want.ReceivedAt), "processed ReceivedAt = %v, want %v", got.ReceivedAt, want.ReceivedAt)
	assert.Equal(t, 1, db.job(t, want.Key).Attempt, "attempts")
	noSecretsLogged(t, r.logs.String())
}

// A redelivery with the same key is not stored again while the first is queued or completed;
// deliveries without a key are all stored.
func TestRedeliveryNotInsertedTwice(t *testing.T) {
	db := newTestDB(t)
	a := db.newReplica(t, db.pool(t, "riverinbox-test-a", 8))
	b := db.newReplica(t, db.pool(t, "riverinbox-test-b", 8))

	// Concurrent redeliveries through two replicas that only receive (not started).
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		ib := a
		if i%2 == 1 {
			ib = b
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			errs <- ib.Enqueue(ctx, delivery("shop", "dup"))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "Enqueue")
	}
	require.Equal(t, 1, db.jobs(t, "evt_dup"), "jobs stored by 20 concurrent redeliveries")

	// The key is scoped by endpoint.
	enqueue(t, a, delivery("other", "dup"))
	assert.Equal(t, 2, db.jobs(t, "evt_dup"), "same key on another endpoint: jobs")

	// No key, no uniqueness.
	for range 3 {
		d := delivery("shop", "nokey")
		d.Key = ""
		enqueue(t, a, d)
	}
	assert.Equal(t, 3, db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job WHERE args->>'key' = ''`), "deliveries without key: jobs")

	// Completed and retained: a redelivery is still not stored.
	var runs atomic.Int64
	require.NoError(t, a.Register("shop", func(context.Context, *webhook.Delivery) error { runs.Add(1); return nil }))
	require.NoError(t, a.Register("other", func(context.Context, *webhook.Delivery) error { return nil }))
	a.start(t)
	waitFor(t, 10*time.Second, "the job to complete", func() bool {
		return db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job WHERE state = 'completed'`) == 5
	})
	enqueue(t, b, delivery("shop", "dup"))
	assert.Equal(t, 2, db.jobs(t, "evt_dup"), "redelivery after completion: jobs for the key, want one per endpoint")
	assert.Equal(t, int64(4), runs.Load(), "shop runs") // evt_dup once, plus the three without key
}

// An insert that cannot commit is an error, so the handler answers 500 and the provider
// redelivers.
func TestEnqueueFailure(t *testing.T) {
	db := newTestDB(t)
	pool := db.pool(t, "riverinbox-test", 4)

	// River's tables are missing from this schema (never migrated).
	db.exec(t, `CREATE SCHEMA `+db.schema+`_empty`)
	t.Cleanup(func() { db.exec(t, `DROP SCHEMA `+db.schema+`_empty CASCADE`) })
	unmigrated, err := riverinbox.New(pool, riverinbox.WithSchema(db.schema+"_empty"))
	require.NoError(t, err)
	assert.Error(t, unmigrated.Enqueue(context.Background(), delivery("shop", "1")), "Enqueue without River's tables succeeded")

	r := db.newReplica(t, pool)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, r.Enqueue(ctx, delivery("shop", "2")), context.Canceled, "Enqueue with a cancelled context")
	assert.Error(t, r.Enqueue(context.Background(), nil), "Enqueue(nil) succeeded")
	assert.Error(t, r.Enqueue(context.Background(), &webhook.Delivery{Key: "k", Body: body("3")}), "Enqueue without endpoint succeeded")
	assert.Equal(t, 0, db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job`), "jobs stored by failed Enqueues")

	// A zero ReceivedAt is stored as the time of Enqueue.
	before := time.Now()
	d := delivery("shop", "4")
	d.ReceivedAt = time.Time{}
	enqueue(t, r, d)
	var at time.Time
	require.NoError(t, db.admin.QueryRow(context.Background(),
		`SELECT (args->>'received_at')::timestamptz FROM `+db.schema+`.river_job WHERE args->>'key' = 'evt_4'`).Scan(&at))
	assert.False(t, at.Before(before.Add(-time.Second)), "received_at = %v, want about %v", at, before)
	assert.False(t, at.After(time.Now().Add(time.Second)), "received_at = %v, want about %v", at, before)
}

// A failing handler is retried with River's backoff (here the test's retry policy), discarded
// after MaxAttempts with every error, listed by ListDiscarded, and run again by Retry.
func TestFailuresRetriedThenDiscardedListedAndRetried(t *testing.T) {
	db := newTestDB(t)
	pool := db.pool(t, "riverinbox-test", 8)
	r := db.newReplica(t, pool, riverinbox.WithMaxAttempts(3), riverinbox.WithWorkers(2))
	r.retry.delay = 200 * time.Millisecond
	dd := db.dedupe(t, db.sqlDB(t, "riverinbox-test-dedupe"), time.Minute)
	var (
		failing  atomic.Bool
		attempts atomic.Int64
		mu       sync.Mutex
		times    []time.Time
	)
	failing.Store(true)
	err := r.Register("shop", processFunc(dd, func(ctx context.Context, e event, d *webhook.Delivery) error {
		n := attempts.Add(1)
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		if failing.Load() {
			return fmt.Errorf("fulfilment service down (attempt %d)", n)
		}
		return db.recordEffect(ctx, pool, d.Key, "a")
	}))
	require.NoError(t, err)
	r.start(t)
	d := delivery("shop", "fails")
	enqueue(t, r, d)
	waitFor(t, 15*time.Second, "the discard", func() bool { return db.job(t, d.Key).State == "discarded" })

	assert.Equal(t, int64(3), attempts.Load(), "handler runs, want MaxAttempts")
	assert.Equal(t, int64(2), r.retry.calls.Load(), "retry policy calls")
	mu.Lock()
	for i := 1; i < len(times); i++ {
		gap := times[i].Sub(times[i-1])
		assert.GreaterOrEqual(t, gap, 200*time.Millisecond, "attempt %d ran %v after the previous one, want the 200 ms backoff", i+1, gap)
	}
	mu.Unlock()
	assert.Zero(t, db.effects(t, d.Key), "effects from failed attempts")

	list, next, err := r.ListDiscarded(context.Background(), riverinbox.ListParams{})
	require.NoError(t, err)
	require.Len(t, list, 1, "ListDiscarded")
	require.Empty(t, next, "ListDiscarded cursor")
	got := list[0]
	assert.Equal(t, d.Key, got.Delivery.Key, "discarded delivery Key")
	assert.Equal(t, "shop", got.Delivery.Endpoint, "discarded delivery Endpoint")
	assert.Equal(t, string(d.Body), string(got.Delivery.Body), "discarded delivery Body")
	assert.Equal(t, d.Header.Get("X-Test-Signature"), got.Delivery.Header.Get("X-Test-Signature"), "discarded delivery signature header")
	assert.Equal(t, 3, got.Attempts, "discarded Attempts")
	assert.Equal(t, 3, got.MaxAttempts, "discarded MaxAttempts")
	assert.Len(t, got.Errors, 3, "discarded Errors")
	assert.False(t, got.DiscardedAt.IsZero(), "discarded DiscardedAt is zero")
	assert.False(t, got.CreatedAt.IsZero(), "discarded CreatedAt is zero")
	assert.Equal(t, "fulfilment service down (attempt 3)", got.LastError(), "LastError")
	for i, e := range got.Errors {
		assert.Equal(t, i+1, e.Attempt, "error %d = %+v", i, e)
		assert.False(t, e.At.IsZero(), "error %d = %+v", i, e)
	}
	logs := r.logs.String()
	assert.Contains(t, logs, "riverinbox: delivery discarded after its last attempt", "no discard log line")
	assert.Contains(t, logs, "key=evt_fails", "no discard log line")
	noSecretsLogged(t, logs)

	// The fulfilment service is back: the operator retries the delivery.
	failing.Store(false)
	require.NoError(t, r.Retry(context.Background(), got.ID), "Retry")
	waitFor(t, 10*time.Second, "the retried delivery's effect", func() bool { return db.effects(t, d.Key) == 1 })
	waitFor(t, 10*time.Second, "the retried job to complete", func() bool { return db.job(t, d.Key).State == "completed" })
	assert.Equal(t, 4, db.job(t, d.Key).Attempt, "attempts after Retry")
	list, _, err = r.ListDiscarded(context.Background(), riverinbox.ListParams{})
	assert.NoError(t, err, "ListDiscarded after Retry")
	assert.Empty(t, list, "ListDiscarded after Retry")
	assert.ErrorIs(t, r.Retry(context.Background(), got.ID), riverinbox.ErrNotDiscarded, "Retry of a completed delivery")
	assert.ErrorIs(t, r.Retry(context.Background(), got.ID+1000), riverinbox.ErrNotFound, "Retry of an unknown id")
	// Another inbox (queue) in the same schema does not see or retry this one's deliveries.
	other := db.newReplica(t, pool, riverinbox.WithQueue("other"))
	assert.ErrorIs(t, other.Retry(context.Background(), got.ID), riverinbox.ErrNotFound, "Retry through another queue")
}

// ListDiscarded pages with its cursor and filters by endpoint; Retry refuses a delivery a newer
// copy superseded.
func TestListDiscardedPagesAndRetrySuperseded(t *testing.T) {
	db := newTestDB(t)
	pool := db.pool(t, "riverinbox-test", 8)
	r := db.newReplica(t, pool, riverinbox.WithMaxAttempts(1), riverinbox.WithWorkers(4))
	var failing atomic.Bool
	failing.Store(true)
	fail := func(context.Context, *webhook.Delivery) error {
		if failing.Load() {
			return errors.New("boom")
		}
		return nil
	}
	for _, ep := range []string{"a", "b"} {
		require.NoError(t, r.Register(ep, fail))
	}
	r.start(t)
	for i := range 5 {
		ep := "a"
		if i >= 3 {
			ep = "b"
		}
		enqueue(t, r, delivery(ep, fmt.Sprint(i)))
	}
	waitFor(t, 10*time.Second, "5 discards", func() bool {
		return db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job WHERE state = 'discarded'`) == 5
	})

	var keys []string
	cursor := ""
	for page := 0; ; page++ {
		list, next, err := r.ListDiscarded(context.Background(), riverinbox.ListParams{Limit: 2, Cursor: cursor})
		require.NoError(t, err)
		require.LessOrEqual(t, len(list), 2, "page of %d, limit 2", len(list))
		for _, d := range list {
			keys = append(keys, d.Delivery.Key)
		}
		if next == "" {
			break
		}
		require.LessOrEqual(t, page, 5, "pagination does not end")
		cursor = next
	}
	assert.Equal(t, []string{"evt_0", "evt_1", "evt_2", "evt_3", "evt_4"}, keys, "paged keys")
	list, _, err := r.ListDiscarded(context.Background(), riverinbox.ListParams{Endpoint: "b"})
	require.NoError(t, err)
	if assert.Len(t, list, 2, "endpoint b") {
		assert.Equal(t, "b", list[0].Delivery.Endpoint, "endpoint b")
		assert.Equal(t, "b", list[1].Delivery.Endpoint, "endpoint b")
	}
	_, _, err = r.ListDiscarded(context.Background(), riverinbox.ListParams{Cursor: "not a cursor"})
	assert.Error(t, err, "invalid cursor accepted")
	_, _, err = r.ListDiscarded(context.Background(), riverinbox.ListParams{Limit: riverinbox.MaxListLimit + 1})
	assert.Error(t, err, "limit above MaxListLimit accepted")

	// The provider redelivers evt_0 after its discard: stored again, it now succeeds, and
	// retrying the old copy would run it twice.
	failing.Store(false)
	old := list0(t, r, "evt_0")
	enqueue(t, r, delivery("a", "0"))
	waitFor(t, 10*time.Second, "the redelivery to complete", func() bool { return db.job(t, "evt_0").State == "completed" })
	assert.ErrorIs(t, r.Retry(context.Background(), old), riverinbox.ErrSuperseded, "Retry of a superseded delivery")
}

func list0(t *testing.T, r *replica, key string) int64 {
	t.Helper()
	list, _, err := r.ListDiscarded(context.Background(), riverinbox.ListParams{})
	require.NoError(t, err)
	for _, d := range list {
		if d.Delivery.Key == key {
			return d.ID
		}
	}
	require.FailNow(t, "not discarded", key)
	return 0
}

// A delivery for an endpoint no process function is registered for waits without using up
// attempts, and runs once a replica registers the endpoint.
func TestUnregisteredEndpointWaits(t *testing.T) {
	db := newTestDB(t)
	pool := db.pool(t, "riverinbox-test", 8)
	r := db.newReplica(t, pool, riverinbox.WithMaxAttempts(2))
	r.start(t)
	d := delivery("late", "1")
	enqueue(t, r, d)
	waitFor(t, 10*time.Second, "snoozes", func() bool { return strings.Count(r.logs.String(), "no process function registered") >= 3 })
	j := db.job(t, d.Key)
	require.NotEqual(t, "discarded", j.State, "unregistered delivery state")
	require.Empty(t, j.Errors, "unregistered delivery errors")
	done := make(chan struct{})
	require.NoError(t, r.Register("late", func(context.Context, *webhook.Delivery) error { close(done); return nil }))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the delivery did not run after Register")
	}
	waitFor(t, 10*time.Second, "completion", func() bool { return db.job(t, d.Key).State == "completed" })
	assert.Equal(t, 1, db.job(t, d.Key).Attempt, "attempts, want 1 (snoozes do not count)")
	noSecretsLogged(t, r.logs.String())
}

// webhook.ErrDuplicate completes the job; webhook.ErrInFlight puts it back without using up
// an attempt until the claim is free.
func TestDedupeOutcomes(t *testing.T) {
	db := newTestDB(t)
	pool := db.pool(t, "riverinbox-test", 8)
	r := db.newReplica(t, pool, riverinbox.WithMaxAttempts(1))
	store := webhook.NewMemoryStore()
	dd := webhook.NewDeduper(store)
	var runs atomic.Int64
	require.NoError(t, r.Register("shop", processFunc(dd, func(context.Context, event, *webhook.Delivery) error {
		runs.Add(1)
		return nil
	})))
	// evt_done was processed before (for example by a handler without inbox).
	require.NoError(t, dd.Do(context.Background(), "evt_done", func(context.Context) error { return nil }))
	// evt_busy is claimed by another worker until we release it.
	release := make(chan struct{})
	claimed := make(chan struct{})
	go dd.Do(context.Background(), "evt_busy", func(context.Context) error { close(claimed); <-release; return nil })
	<-claimed

	r.start(t)
	enqueue(t, r, delivery("shop", "done"))
	enqueue(t, r, delivery("shop", "busy"))
	waitFor(t, 10*time.Second, "the duplicate to complete", func() bool { return db.job(t, "evt_done").State == "completed" })
	waitFor(t, 10*time.Second, "in-flight snoozes", func() bool {
		var n int
		_ = db.admin.QueryRow(context.Background(), `SELECT coalesce((metadata->>'snoozes')::int, 0) FROM `+db.schema+`.river_job WHERE args->>'key' = 'evt_busy'`).Scan(&n)
		return n >= 2
	})
	state := db.job(t, "evt_busy").State
	require.NotEqual(t, "discarded", state, "in-flight delivery state (MaxAttempts 1)")
	require.NotEqual(t, "completed", state, "in-flight delivery state (MaxAttempts 1)")
	close(release) // the other worker completes evt_busy: our copy is then a duplicate
	waitFor(t, 10*time.Second, "the in-flight delivery to complete", func() bool { return db.job(t, "evt_busy").State == "completed" })
	assert.Zero(t, runs.Load(), "handler runs for events already handled elsewhere")
}

// Deliveries stored with a header map survive a round trip exactly, and nil headers stay nil.
func TestHeaderRoundTrip(t *testing.T) {
	db := newTestDB(t)
	pool := db.pool(t, "riverinbox-test", 8)
	r := db.newReplica(t, pool, riverinbox.WithMaxAttempts(1))
	got := make(chan *webhook.Delivery, 2)
	require.NoError(t, r.Register("shop", func(_ context.Context, d *webhook.Delivery) error { got <- d; return nil }))
	r.start(t)
	multi := delivery("shop", "multi")
	multi.Header = http.Header{"X-Many": {"a", "b"}, "X-Empty": {""}}
	multi.Body = []byte{0, 1, 2, 0xff, '"', '\\'} // any bytes
	enqueue(t, r, multi)
	bare := delivery("shop", "bare")
	bare.Header = nil
	bare.Body = nil
	enqueue(t, r, bare)
	for range 2 {
		select {
		case d := <-got:
			want := multi
			if d.Key == bare.Key {
				want = bare
			}
			assert.Equal(t, want.Header, d.Header, "%s: header", d.Key)
			assert.Equal(t, string(want.Body), string(d.Body), "%s: body", d.Key)
		case <-time.After(10 * time.Second):
			require.FailNow(t, "deliveries not processed")
		}
	}
}

// Migrate is idempotent and safe to run from many replicas at once.
func TestMigrateConcurrently(t *testing.T) {
	db := newTestDB(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		pool := db.pool(t, fmt.Sprintf("riverinbox-test-%d", i), 3)
		ib, err := riverinbox.New(pool, riverinbox.WithSchema(db.schema))
		require.NoError(t, err)
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			errs <- ib.Migrate(ctx)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err, "concurrent Migrate")
	}
	r := db.newReplica(t, db.pool(t, "riverinbox-test", 4)) // migrates once more
	enqueue(t, r, delivery("shop", "1"))
}
