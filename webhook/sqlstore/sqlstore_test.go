package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/paykit-go/paykit/internal/testenv"
	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/sqlstore"
	"github.com/paykit-go/paykit/webhook/storetest"
)

// openDB connects to the server named by PAYKIT_TEST_POSTGRES_DSN, skipping when it is unset
// (.ci/postgres.sh starts a server and sets it; CI fails instead of skipping).
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := testenv.Getenv(t, "PAYKIT_TEST_POSTGRES_DSN", "source .ci/postgres.sh to start PostgreSQL")
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(16)
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("PostgreSQL at PAYKIT_TEST_POSTGRES_DSN unreachable: %v", err)
	}
	return db
}

// newTable returns a unique table name, dropped when the test ends.
func newTable(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "paykit_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		if _, err := db.Exec(`DROP TABLE IF EXISTS "` + name + `"`); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	return name
}

func newStore(t *testing.T, db *sql.DB, table string, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(db, append([]sqlstore.Option{sqlstore.WithTable(table)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWithTableValidation(t *testing.T) {
	valid := []string{"events", "Webhook_Events_2", "_x", "billing.webhook_events", strings.Repeat("a", 48)}
	invalid := []string{"", "1events", "events;", `x"; DROP TABLE users; --`, "a.b.c", ".x", "x.",
		"web-hooks", "ev ents", "évents", strings.Repeat("a", 49), "a\x00b"}
	db := &sql.DB{} // New does not touch the database
	for _, name := range valid {
		if _, err := sqlstore.New(db, sqlstore.WithTable(name)); err != nil {
			t.Errorf("WithTable(%q): %v", name, err)
		}
	}
	for _, name := range invalid {
		if _, err := sqlstore.New(db, sqlstore.WithTable(name)); err == nil {
			t.Errorf("WithTable(%q) accepted", name)
		}
	}
	if _, err := sqlstore.New(nil); err == nil {
		t.Error("New(nil) accepted")
	}
	if _, err := sqlstore.New(db, sqlstore.WithClock(nil)); err == nil {
		t.Error("WithClock(nil) accepted")
	}
	s, err := sqlstore.New(db, sqlstore.WithTable("billing.Events"))
	if err != nil || s.Table() != `"billing"."Events"` {
		t.Errorf("Table() = %q, %v", s.Table(), err)
	}
}

func TestStoreContract(t *testing.T) {
	db := openDB(t)
	s := newStore(t, db, newTable(t, db))
	storetest.TestStore(t, func(*testing.T) webhook.Store { return s })
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	db1, db2 := openDB(t), openDB(t)
	table := newTable(t, db1)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		db := db1
		if i%2 == 1 {
			db = db2
		}
		s, err := sqlstore.New(db, sqlstore.WithTable(table))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.Migrate(context.Background()) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	s := newStore(t, db1, table) // and once more, sequentially
	if r, err := s.Claim(context.Background(), "evt", "tok", time.Now(), time.Minute); err != nil || r != webhook.Claimed {
		t.Fatalf("Claim after migrations = %v, %v", r, err)
	}
}

func TestSchemaQualifiedTable(t *testing.T) {
	db := openDB(t)
	schema := "paykit_schema_" + strings.TrimPrefix(newTable(t, db), "paykit_test_")
	if _, err := db.Exec(`CREATE SCHEMA "` + schema + `"`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec(`DROP SCHEMA "` + schema + `" CASCADE`) })
	s := newStore(t, db, schema+".Events")
	d := webhook.NewDeduper(s)
	if err := d.Do(context.Background(), "evt", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM "` + schema + `"."Events" WHERE completed`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("completed rows in %s.Events = %d, %v", schema, n, err)
	}
}

// Two replicas (two *sql.DB pools, two Dedupers) receive every delivery of every event, the
// way a provider retries until it gets a 2xx. Some handlers fail on their first attempt. Every
// event must be processed successfully exactly once, failed ones on a redelivery.
func TestTwoReplicasRace(t *testing.T) {
	replicaA, replicaB := openDB(t), openDB(t)
	table := newTable(t, replicaA)
	dedupers := []*webhook.Deduper{
		webhook.NewDeduper(newStore(t, replicaA, table)),
		webhook.NewDeduper(newStore(t, replicaB, table)),
	}
	const events = 40
	var (
		successes   [events]atomic.Int32
		attempts    [events]atomic.Int32
		acked, dups atomic.Int32 // Do results answered 200: nil and ErrDuplicate
	)
	handler := func(ev int) func(context.Context) error {
		return func(context.Context) error {
			n := attempts[ev].Add(1)
			if ev%4 == 0 && n == 1 { // every fourth event fails on its first run
				return errors.New("transient failure")
			}
			time.Sleep(time.Millisecond) // hold the claim a little so replicas collide
			successes[ev].Add(1)
			return nil
		}
	}

	ctx := context.Background()
	deadline := time.Now().Add(time.Minute) // bounds every redelivery loop below
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for _, d := range dedupers {
		for worker := 0; worker < 4; worker++ {
			wg.Add(1)
			go func(d *webhook.Deduper) {
				defer wg.Done()
				for ev := 0; ev < events; ev++ {
					id := fmt.Sprintf("evt_%03d", ev)
					for try := 1; ; try++ { // redeliver until acknowledged
						err := d.Do(ctx, id, handler(ev))
						status := webhook.StatusCode(err)
						if status == http.StatusOK {
							acked.Add(1)
							if errors.Is(err, webhook.ErrDuplicate) {
								dups.Add(1)
							}
							break
						}
						if status != http.StatusServiceUnavailable && status != http.StatusInternalServerError {
							errs <- fmt.Errorf("%s: unexpected result %v (status %d, delivery %d)", id, err, status, try)
							return
						}
						if time.Now().After(deadline) {
							errs <- fmt.Errorf("%s: not acknowledged by the deadline after %d deliveries; last result %v (status %d)", id, try, err, status)
							return
						}
						time.Sleep(time.Millisecond)
					}
				}
			}(d)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// 8 workers acknowledge every event: one of them by running it, seven by ErrDuplicate.
	if acked.Load() != 8*events || dups.Load() != 7*events {
		t.Errorf("acknowledged %d (duplicates %d), want %d (%d)", acked.Load(), dups.Load(), 8*events, 7*events)
	}
	for ev := 0; ev < events; ev++ {
		if got := successes[ev].Load(); got != 1 {
			t.Errorf("event %d processed %d times, want exactly 1", ev, got)
		}
		if ev%4 == 0 && attempts[ev].Load() < 2 {
			t.Errorf("event %d failed once but ran only %d times", ev, attempts[ev].Load())
		}
	}
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestLeaseTakeoverAcrossReplicas(t *testing.T) {
	replicaA, replicaB := openDB(t), openDB(t)
	table := newTable(t, replicaA)
	clk := &clock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	storeA := newStore(t, replicaA, table)
	b := webhook.NewDeduper(newStore(t, replicaB, table), webhook.WithLease(time.Minute), webhook.WithDedupeClock(clk.Now))
	ctx := context.Background()

	// Replica A claims the event and dies before finishing.
	if r, err := storeA.Claim(ctx, "evt", "replica-a", clk.Now(), time.Minute); err != nil || r != webhook.Claimed {
		t.Fatalf("A Claim = %v, %v", r, err)
	}
	ran := 0
	fn := func(context.Context) error { ran++; return nil }
	clk.Advance(30 * time.Second)
	if err := b.Do(ctx, "evt", fn); !errors.Is(err, webhook.ErrInFlight) {
		t.Fatalf("B during A's lease = %v, want ErrInFlight", err)
	}
	clk.Advance(30 * time.Second)
	if err := b.Do(ctx, "evt", fn); err != nil {
		t.Fatalf("B after A's lease = %v, want takeover", err)
	}
	if err := storeA.Complete(ctx, "evt", "replica-a", clk.Now(), time.Hour); !errors.Is(err, webhook.ErrClaimLost) {
		t.Fatalf("A completing late = %v, want ErrClaimLost", err)
	}
	if err := b.Do(ctx, "evt", fn); !errors.Is(err, webhook.ErrDuplicate) || ran != 1 {
		t.Fatalf("after takeover = %v (ran %d), want ErrDuplicate and one run", err, ran)
	}
}

func TestRetentionAndPurge(t *testing.T) {
	db := openDB(t)
	table := newTable(t, db)
	clk := &clock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newStore(t, db, table, sqlstore.WithClock(clk.Now))
	d := webhook.NewDeduper(s, webhook.WithRetention(time.Hour), webhook.WithLease(time.Minute), webhook.WithDedupeClock(clk.Now))
	ctx := context.Background()
	ok := func(context.Context) error { return nil }

	for i := 0; i < 10; i++ {
		if err := d.Do(ctx, fmt.Sprint("old_", i), ok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Claim(ctx, "crashed", "tok", clk.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Minute)
	if err := d.Do(ctx, "recent", ok); err != nil {
		t.Fatal(err)
	}
	if err := d.Do(ctx, "old_0", ok); !errors.Is(err, webhook.ErrDuplicate) {
		t.Fatalf("within retention = %v, want ErrDuplicate", err)
	}
	// Nothing but the crashed claim has expired yet.
	if n, err := s.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1 (the expired claim)", n, err)
	}
	clk.Advance(30 * time.Minute) // old_* reach the end of their retention
	if n, err := s.Purge(ctx); err != nil || n != 10 {
		t.Fatalf("Purge = %d, %v; want 10", n, err)
	}
	var left []string
	rows, err := db.Query(`SELECT id FROM "` + table + `" ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		left = append(left, id)
	}
	if strings.Join(left, ",") != "recent" {
		t.Fatalf("rows after purge = %v, want [recent]", left)
	}
	// A purged id is new again.
	ran := false
	if err := d.Do(ctx, "old_0", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("after purge: %v (ran %v)", err, ran)
	}
}

func TestPurgeInBatches(t *testing.T) {
	db := openDB(t)
	table := newTable(t, db)
	clk := &clock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newStore(t, db, table, sqlstore.WithClock(clk.Now))
	// 12,000 expired rows: more than two purge batches.
	if _, err := db.Exec(`INSERT INTO "`+table+`" (id, completed, expires_at)
		SELECT 'bulk_' || g, true, $1 FROM generate_series(1, 12000) g`, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Purge(context.Background()); err != nil || n != 12000 {
		t.Fatalf("Purge = %d, %v; want 12000", n, err)
	}
}

func TestCancelledContext(t *testing.T) {
	db := openDB(t)
	s := newStore(t, db, newTable(t, db))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Claim(ctx, "evt", "tok", time.Now(), time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("Claim with cancelled ctx = %v, want context.Canceled", err)
	}
	if _, err := s.Purge(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Purge with cancelled ctx = %v, want context.Canceled", err)
	}
}

// Event ids of any length and bytes are stored: long or binary ones under a fixed-length digest
// (before, PostgreSQL refused them and the endpoint answered 500 on every redelivery).
func TestAnyIDIsStoredUnderItsStoreKey(t *testing.T) {
	db := openDB(t)
	table := newTable(t, db)
	d := webhook.NewDeduper(newStore(t, db, table))
	ctx := context.Background()
	ids := []string{"evt_short", "nul\x00byte", "bad\xffutf8", strings.Repeat("x", 3000), strings.Repeat("\x00\xfe", 50000)}
	for _, id := range ids {
		runs := 0
		fn := func(context.Context) error { runs++; return nil }
		if err := d.Do(ctx, id, fn); err != nil {
			t.Fatalf("Do(%.30q…): %v", id, err)
		}
		if err := d.Do(ctx, id, fn); !errors.Is(err, webhook.ErrDuplicate) || runs != 1 {
			t.Fatalf("Do(%.30q…) again = %v (runs %d), want ErrDuplicate after one run", id, err, runs)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM "`+table+`" WHERE id = $1 AND completed`, webhook.StoreKey(id)).Scan(&n); err != nil || n != 1 {
			t.Fatalf("rows keyed by StoreKey(%.30q…) = %d, %v; want 1", id, n, err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM "` + table + `" WHERE id = 'evt_short'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("short text id not stored verbatim: %d rows, %v", n, err)
	}
}

// Rows written by earlier versions, which stored every id verbatim, keep deduping valid short
// text ids.
func TestRowsOfEarlierVersionsStillMatch(t *testing.T) {
	db := openDB(t)
	table := newTable(t, db)
	s := newStore(t, db, table)
	legacy := []string{"evt_legacy", "ünïcødé 😀", strings.Repeat("k", 1024)}
	for _, id := range legacy {
		if _, err := db.Exec(`INSERT INTO "`+table+`" (id, token, completed, expires_at) VALUES ($1, NULL, true, $2)`,
			id, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	d := webhook.NewDeduper(s)
	for _, id := range legacy {
		if err := d.Do(context.Background(), id, func(context.Context) error { t.Errorf("%.20q ran again", id); return nil }); !errors.Is(err, webhook.ErrDuplicate) {
			t.Fatalf("Do(%.20q…) over an earlier version's row = %v, want ErrDuplicate", id, err)
		}
	}
}

// Times beyond what the column or the drivers hold are clamped (to the year 9999), not sent as
// an out-of-range value that fails every delivery.
func TestTimesBeyondTheColumnRangeSaturate(t *testing.T) {
	db := openDB(t)
	s := newStore(t, db, newTable(t, db))
	ctx := context.Background()
	for _, now := range []time.Time{time.Date(9999, 6, 1, 0, 0, 0, 0, time.UTC), time.Unix(1<<62, 0)} {
		id := fmt.Sprint("evt_", now.Year())
		if r, err := s.Claim(ctx, id, "a", now, math.MaxInt64); err != nil || r != webhook.Claimed {
			t.Fatalf("Claim in %d = %v, %v; want claimed", now.Year(), r, err)
		}
		if r, err := s.Claim(ctx, id, "b", now, time.Minute); err != nil || r != webhook.InFlight {
			t.Fatalf("second Claim in %d = %v, %v; want in flight", now.Year(), r, err)
		}
		if err := s.Complete(ctx, id, "a", now, math.MaxInt64); err != nil {
			t.Fatalf("Complete in %d: %v", now.Year(), err)
		}
	}
	// The year-9999 id's retention (clamped to the end of 9999) is still running mid-9999.
	if r, err := s.Claim(ctx, "evt_9999", "c", time.Date(9999, 7, 1, 0, 0, 0, 0, time.UTC), time.Minute); err != nil || r != webhook.Duplicate {
		t.Fatalf("Claim after completion = %v, %v; want duplicate", r, err)
	}
}
