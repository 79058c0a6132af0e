package riverinbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/riverinbox"
)

func TestNewRejectsInvalidOptions(t *testing.T) {
	// New does not touch the database, so an unconnected pool is enough.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := riverinbox.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
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
		if _, err := riverinbox.New(pool, opt); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	ib, err := riverinbox.New(pool, riverinbox.WithQueue("billing_webhooks-2"), riverinbox.WithWorkers(3),
		riverinbox.WithMaxAttempts(5), riverinbox.WithJobTimeout(-1), riverinbox.WithSchema("_billing"), nil)
	if err != nil {
		t.Fatalf("valid options: %v", err)
	}
	if ib.River() == nil {
		t.Error("River() = nil")
	}
}

func TestRegister(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ib, err := riverinbox.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	noop := func(context.Context, *webhook.Delivery) error { return nil }
	if err := ib.Register("jopay", noop); err != nil {
		t.Fatal(err)
	}
	if err := ib.Register("jopay", noop); !errors.Is(err, riverinbox.ErrAlreadyRegistered) {
		t.Errorf("second Register = %v, want ErrAlreadyRegistered", err)
	}
	if err := ib.Register("", noop); err == nil {
		t.Error("Register with an empty endpoint succeeded")
	}
	if err := ib.Register("pepay", nil); err == nil {
		t.Error("Register with a nil function succeeded")
	}
	if err := ib.Register("pepay", noop); err != nil {
		t.Errorf("Register of another endpoint: %v", err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	r.start(t)
	want := delivery("shop", "1")
	start := time.Now()
	enqueue(t, r, want)
	waitFor(t, 10*time.Second, "the effect", func() bool { return db.effects(t, want.Key) == 1 })
	t.Logf("enqueue to effect: %v", time.Since(start))
	waitFor(t, 10*time.Second, "the job to complete", func() bool { return db.job(t, want.Key).State == "completed" })

	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 {
		t.Fatalf("processed %d times, want 1", len(seen))
	}
	got := seen[0]
	if got.Endpoint != want.Endpoint || got.Key != want.Key || string(got.Body) != string(want.Body) ||
		!reflect.DeepEqual(got.Header, want.Header) || !got.ReceivedAt.Equal(want.ReceivedAt) {
		t.Errorf("processed %+v, want %+v", got, want)
	}
	if j := db.job(t, want.Key); j.Attempt != 1 {
		t.Errorf("attempts = %d, want 1", j.Attempt)
	}
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
		if err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	if n := db.jobs(t, "evt_dup"); n != 1 {
		t.Fatalf("20 concurrent redeliveries stored %d jobs, want 1", n)
	}

	// The key is scoped by endpoint.
	enqueue(t, a, delivery("other", "dup"))
	if n := db.jobs(t, "evt_dup"); n != 2 {
		t.Errorf("same key on another endpoint: %d jobs, want 2", n)
	}

	// No key, no uniqueness.
	for range 3 {
		d := delivery("shop", "nokey")
		d.Key = ""
		enqueue(t, a, d)
	}
	if n := db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job WHERE args->>'key' = ''`); n != 3 {
		t.Errorf("deliveries without key: %d jobs, want 3", n)
	}

	// Completed and retained: a redelivery is still not stored.
	var runs atomic.Int64
	if err := a.Register("shop", func(context.Context, *webhook.Delivery) error { runs.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := a.Register("other", func(context.Context, *webhook.Delivery) error { return nil }); err != nil {
		t.Fatal(err)
	}
	a.start(t)
	waitFor(t, 10*time.Second, "the job to complete", func() bool {
		return db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job WHERE state = 'completed'`) == 5
	})
	enqueue(t, b, delivery("shop", "dup"))
	if n := db.jobs(t, "evt_dup"); n != 2 {
		t.Errorf("redelivery after completion: %d jobs for the key, want 2 (one per endpoint)", n)
	}
	if n := runs.Load(); n != 4 { // evt_dup once, plus the three without key
		t.Errorf("shop ran %d times, want 4", n)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if err := unmigrated.Enqueue(context.Background(), delivery("shop", "1")); err == nil {
		t.Error("Enqueue without River's tables succeeded")
	}

	r := db.newReplica(t, pool)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Enqueue(ctx, delivery("shop", "2")); !errors.Is(err, context.Canceled) {
		t.Errorf("Enqueue with a cancelled context = %v, want context.Canceled", err)
	}
	if err := r.Enqueue(context.Background(), nil); err == nil {
		t.Error("Enqueue(nil) succeeded")
	}
	if err := r.Enqueue(context.Background(), &webhook.Delivery{Key: "k", Body: body("3")}); err == nil {
		t.Error("Enqueue without endpoint succeeded")
	}
	if n := db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job`); n != 0 {
		t.Errorf("%d jobs stored by failed Enqueues", n)
	}

	// A zero ReceivedAt is stored as the time of Enqueue.
	before := time.Now()
	d := delivery("shop", "4")
	d.ReceivedAt = time.Time{}
	enqueue(t, r, d)
	var at time.Time
	if err := db.admin.QueryRow(context.Background(),
		`SELECT (args->>'received_at')::timestamptz FROM `+db.schema+`.river_job WHERE args->>'key' = 'evt_4'`).Scan(&at); err != nil {
		t.Fatal(err)
	}
	if at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("received_at = %v, want about %v", at, before)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	r.start(t)
	d := delivery("shop", "fails")
	enqueue(t, r, d)
	waitFor(t, 15*time.Second, "the discard", func() bool { return db.job(t, d.Key).State == "discarded" })

	if n := attempts.Load(); n != 3 {
		t.Errorf("handler ran %d times, want 3 (MaxAttempts)", n)
	}
	if n := r.retry.calls.Load(); n != 2 {
		t.Errorf("retry policy consulted %d times, want 2", n)
	}
	mu.Lock()
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 200*time.Millisecond {
			t.Errorf("attempt %d ran %v after the previous one, want the 200 ms backoff", i+1, gap)
		}
	}
	mu.Unlock()
	if n := db.effects(t, d.Key); n != 0 {
		t.Errorf("%d effects from failed attempts", n)
	}

	list, next, err := r.ListDiscarded(context.Background(), riverinbox.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || next != "" {
		t.Fatalf("ListDiscarded = %d deliveries, cursor %q; want 1, \"\"", len(list), next)
	}
	got := list[0]
	if got.Delivery.Key != d.Key || got.Delivery.Endpoint != "shop" || string(got.Delivery.Body) != string(d.Body) ||
		got.Delivery.Header.Get("X-Test-Signature") != d.Header.Get("X-Test-Signature") {
		t.Errorf("discarded delivery = %+v, want %+v", got.Delivery, d)
	}
	if got.Attempts != 3 || got.MaxAttempts != 3 || len(got.Errors) != 3 || got.DiscardedAt.IsZero() || got.CreatedAt.IsZero() {
		t.Errorf("discarded = attempts %d/%d, %d errors, discarded at %v", got.Attempts, got.MaxAttempts, len(got.Errors), got.DiscardedAt)
	}
	if got.LastError() != "fulfilment service down (attempt 3)" {
		t.Errorf("LastError = %q", got.LastError())
	}
	for i, e := range got.Errors {
		if e.Attempt != i+1 || e.At.IsZero() {
			t.Errorf("error %d = %+v", i, e)
		}
	}
	logs := r.logs.String()
	if !strings.Contains(logs, "riverinbox: delivery discarded after its last attempt") || !strings.Contains(logs, "key=evt_fails") {
		t.Errorf("no discard log line:\n%s", logs)
	}
	noSecretsLogged(t, logs)

	// The fulfilment service is back: the operator retries the delivery.
	failing.Store(false)
	if err := r.Retry(context.Background(), got.ID); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	waitFor(t, 10*time.Second, "the retried delivery's effect", func() bool { return db.effects(t, d.Key) == 1 })
	waitFor(t, 10*time.Second, "the retried job to complete", func() bool { return db.job(t, d.Key).State == "completed" })
	if j := db.job(t, d.Key); j.Attempt != 4 {
		t.Errorf("attempts after Retry = %d, want 4", j.Attempt)
	}
	if list, _, err := r.ListDiscarded(context.Background(), riverinbox.ListParams{}); err != nil || len(list) != 0 {
		t.Errorf("ListDiscarded after Retry = %d, %v; want none", len(list), err)
	}
	if err := r.Retry(context.Background(), got.ID); !errors.Is(err, riverinbox.ErrNotDiscarded) {
		t.Errorf("Retry of a completed delivery = %v, want ErrNotDiscarded", err)
	}
	if err := r.Retry(context.Background(), got.ID+1000); !errors.Is(err, riverinbox.ErrNotFound) {
		t.Errorf("Retry of an unknown id = %v, want ErrNotFound", err)
	}
	// Another inbox (queue) in the same schema does not see or retry this one's deliveries.
	other := db.newReplica(t, pool, riverinbox.WithQueue("other"))
	if err := other.Retry(context.Background(), got.ID); !errors.Is(err, riverinbox.ErrNotFound) {
		t.Errorf("Retry through another queue = %v, want ErrNotFound", err)
	}
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
		if err := r.Register(ep, fail); err != nil {
			t.Fatal(err)
		}
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
		if err != nil {
			t.Fatal(err)
		}
		if len(list) > 2 {
			t.Fatalf("page of %d, limit 2", len(list))
		}
		for _, d := range list {
			keys = append(keys, d.Delivery.Key)
		}
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		cursor = next
	}
	if want := []string{"evt_0", "evt_1", "evt_2", "evt_3", "evt_4"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("paged keys = %v, want %v", keys, want)
	}
	list, _, err := r.ListDiscarded(context.Background(), riverinbox.ListParams{Endpoint: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Delivery.Endpoint != "b" || list[1].Delivery.Endpoint != "b" {
		t.Errorf("endpoint b: %+v", list)
	}
	if _, _, err := r.ListDiscarded(context.Background(), riverinbox.ListParams{Cursor: "not a cursor"}); err == nil {
		t.Error("invalid cursor accepted")
	}
	if _, _, err := r.ListDiscarded(context.Background(), riverinbox.ListParams{Limit: riverinbox.MaxListLimit + 1}); err == nil {
		t.Error("limit above MaxListLimit accepted")
	}

	// The provider redelivers evt_0 after its discard: stored again, it now succeeds, and
	// retrying the old copy would run it twice.
	failing.Store(false)
	old := list0(t, r, "evt_0")
	enqueue(t, r, delivery("a", "0"))
	waitFor(t, 10*time.Second, "the redelivery to complete", func() bool { return db.job(t, "evt_0").State == "completed" })
	if err := r.Retry(context.Background(), old); !errors.Is(err, riverinbox.ErrSuperseded) {
		t.Errorf("Retry of a superseded delivery = %v, want ErrSuperseded", err)
	}
}

func list0(t *testing.T, r *replica, key string) int64 {
	t.Helper()
	list, _, err := r.ListDiscarded(context.Background(), riverinbox.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list {
		if d.Delivery.Key == key {
			return d.ID
		}
	}
	t.Fatalf("%s not discarded", key)
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
	if j := db.job(t, d.Key); j.State == "discarded" || len(j.Errors) != 0 {
		t.Fatalf("unregistered delivery: state %s, %d errors", j.State, len(j.Errors))
	}
	done := make(chan struct{})
	if err := r.Register("late", func(context.Context, *webhook.Delivery) error { close(done); return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery did not run after Register")
	}
	waitFor(t, 10*time.Second, "completion", func() bool { return db.job(t, d.Key).State == "completed" })
	if j := db.job(t, d.Key); j.Attempt != 1 {
		t.Errorf("attempts = %d, want 1 (snoozes do not count)", j.Attempt)
	}
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
	if err := r.Register("shop", processFunc(dd, func(context.Context, event, *webhook.Delivery) error {
		runs.Add(1)
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	// evt_done was processed before (for example by a handler without inbox).
	if err := dd.Do(context.Background(), "evt_done", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
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
	if j := db.job(t, "evt_busy"); j.State == "discarded" || j.State == "completed" {
		t.Fatalf("in-flight delivery is %s (MaxAttempts 1)", j.State)
	}
	close(release) // the other worker completes evt_busy: our copy is then a duplicate
	waitFor(t, 10*time.Second, "the in-flight delivery to complete", func() bool { return db.job(t, "evt_busy").State == "completed" })
	if n := runs.Load(); n != 0 {
		t.Errorf("handler ran %d times for events already handled elsewhere", n)
	}
}

// Deliveries stored with a header map survive a round trip exactly, and nil headers stay nil.
func TestHeaderRoundTrip(t *testing.T) {
	db := newTestDB(t)
	pool := db.pool(t, "riverinbox-test", 8)
	r := db.newReplica(t, pool, riverinbox.WithMaxAttempts(1))
	got := make(chan *webhook.Delivery, 2)
	if err := r.Register("shop", func(_ context.Context, d *webhook.Delivery) error { got <- d; return nil }); err != nil {
		t.Fatal(err)
	}
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
			if !reflect.DeepEqual(d.Header, want.Header) || string(d.Body) != string(want.Body) {
				t.Errorf("%s: got header %v body %q, want %v %q", d.Key, d.Header, d.Body, want.Header, want.Body)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("deliveries not processed")
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
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			errs <- ib.Migrate(ctx)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}
	r := db.newReplica(t, db.pool(t, "riverinbox-test", 4)) // migrates once more
	enqueue(t, r, delivery("shop", "1"))
}
