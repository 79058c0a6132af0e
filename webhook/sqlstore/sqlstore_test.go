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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openDB connects to the server named by PAYKIT_TEST_POSTGRES_DSN, skipping when it is unset
// (.ci/postgres.sh starts a server and sets it; CI fails instead of skipping).
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := testenv.Getenv(t, "PAYKIT_TEST_POSTGRES_DSN", "source .ci/postgres.sh to start PostgreSQL")
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	db.SetMaxOpenConns(16)
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, db.PingContext(ctx), "PostgreSQL at PAYKIT_TEST_POSTGRES_DSN unreachable")
	return db
}

// newTable returns a unique table name, dropped when the test ends.
func newTable(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	name := "paykit_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		_, err := db.Exec(`DROP TABLE IF EXISTS "` + name + `"`)
		assert.NoError(t, err, "dropping %s", name)
	})
	return name
}

func newStore(t *testing.T, db *sql.DB, table string, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(db, append([]sqlstore.Option{sqlstore.WithTable(table)}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(context.Background()))
	return s
}

func TestWithTableValidation(t *testing.T) {
	valid := []string{"events", "Webhook_Events_2", "_x", "billing.webhook_events", strings.Repeat("a", 48)}
	invalid := []string{"", "1events", "events;", `x"; DROP TABLE users; --`, "a.b.c", ".x", "x.",
		"web-hooks", "ev ents", "évents", strings.Repeat("a", 49), "a\x00b"}
	db := &sql.DB{} // New does not touch the database
	for _, name := range valid {
		_, err := sqlstore.New(db, sqlstore.WithTable(name))
		assert.NoError(t, err, "WithTable(%q)", name)
	}
	for _, name := range invalid {
		_, err := sqlstore.New(db, sqlstore.WithTable(name))
		assert.Error(t, err, "WithTable(%q) accepted", name)
	}
	_, err := sqlstore.New(nil)
	assert.Error(t, err, "New(nil) accepted")
	_, err = sqlstore.New(db, sqlstore.WithClock(nil))
	assert.Error(t, err, "WithClock(nil) accepted")
	s, err := sqlstore.New(db, sqlstore.WithTable("billing.Events"))
	if assert.NoError(t, err, "WithTable(billing.Events)") {
		assert.Equal(t, `"billing"."Events"`, s.Table(), "Table()")
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
		require.NoError(t, err)
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.Migrate(context.Background()) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "concurrent Migrate")
	}
	s := newStore(t, db1, table) // and once more, sequentially
	r, err := s.Claim(context.Background(), "evt", "tok", time.Now(), time.Minute)
	require.NoError(t, err, "Claim after migrations")
	require.Equal(t, webhook.Claimed, r, "Claim after migrations")
}

func TestSchemaQualifiedTable(t *testing.T) {
	db := openDB(t)
	schema := "paykit_schema_" + strings.TrimPrefix(newTable(t, db), "paykit_test_")
	_, err := db.Exec(`CREATE SCHEMA "` + schema + `"`)
	require.NoError(t, err)
	t.Cleanup(func() { db.Exec(`DROP SCHEMA "` + schema + `" CASCADE`) })
	s := newStore(t, db, schema+".Events")
	d := webhook.NewDeduper(s)
	require.NoError(t, d.Do(context.Background(), "evt", func(context.Context) error { return nil }))
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM "`+schema+`"."Events" WHERE completed`).Scan(&n))
	require.Equal(t, 1, n, "completed rows in %s.Events", schema)
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
		require.NoError(t, err)
	}
	// 8 workers acknowledge every event: one of them by running it, seven by ErrDuplicate.
	assert.Equal(t, int32(8*events), acked.Load(), "acknowledged")
	assert.Equal(t, int32(7*events), dups.Load(), "acknowledged as duplicates")
	for ev := 0; ev < events; ev++ {
		assert.Equal(t, int32(1), successes[ev].Load(), "event %d processed, want exactly once", ev)
		if ev%4 == 0 {
			assert.GreaterOrEqual(t, attempts[ev].Load(), int32(2), "event %d failed once but ran only once", ev)
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
	r, err := storeA.Claim(ctx, "evt", "replica-a", clk.Now(), time.Minute)
	require.NoError(t, err, "A Claim")
	require.Equal(t, webhook.Claimed, r, "A Claim")
	ran := 0
	fn := func(context.Context) error { ran++; return nil }
	clk.Advance(30 * time.Second)
	require.ErrorIs(t, b.Do(ctx, "evt", fn), webhook.ErrInFlight, "B during A's lease")
	clk.Advance(30 * time.Second)
	require.NoError(t, b.Do(ctx, "evt", fn), "B after A's lease")
	require.ErrorIs(t, storeA.Complete(ctx, "evt", "replica-a", clk.Now(), time.Hour), webhook.ErrClaimLost, "A completing late")
	require.ErrorIs(t, b.Do(ctx, "evt", fn), webhook.ErrDuplicate, "after takeover")
	require.Equal(t, 1, ran, "after takeover: want one run")
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
		require.NoError(t, d.Do(ctx, fmt.Sprint("old_", i), ok))
	}
	_, err := s.Claim(ctx, "crashed", "tok", clk.Now(), time.Minute)
	require.NoError(t, err)
	clk.Advance(30 * time.Minute)
	require.NoError(t, d.Do(ctx, "recent", ok))
	require.ErrorIs(t, d.Do(ctx, "old_0", ok), webhook.ErrDuplicate, "within retention")
	// Nothing but the crashed claim has expired yet.
	n, err := s.Purge(ctx)
	require.NoError(t, err, "Purge")
	require.Equal(t, int64(1), n, "Purge, want only the expired claim")
	clk.Advance(30 * time.Minute) // old_* reach the end of their retention
	n, err = s.Purge(ctx)
	require.NoError(t, err, "Purge")
	require.Equal(t, int64(10), n, "Purge")
	var left []string
	rows, err := db.Query(`SELECT id FROM "` + table + `" ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		left = append(left, id)
	}
	require.Equal(t, "recent", strings.Join(left, ","), "rows after purge = %v, want [recent]", left)
	// A purged id is new again.
	ran := false
	require.NoError(t, d.Do(ctx, "old_0", func(context.Context) error { ran = true; return nil }), "after purge")
	require.True(t, ran, "after purge: the handler did not run")
}

func TestPurgeInBatches(t *testing.T) {
	db := openDB(t)
	table := newTable(t, db)
	clk := &clock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newStore(t, db, table, sqlstore.WithClock(clk.Now))
	// 12,000 expired rows: more than two purge batches.
	_, err := db.Exec(`INSERT INTO "`+table+`" (id, completed, expires_at)
		SELECT 'bulk_' || g, true, $1 FROM generate_series(1, 12000) g`, clk.Now())
	require.NoError(t, err)
	n, err := s.Purge(context.Background())
	require.NoError(t, err, "Purge")
	require.Equal(t, int64(12000), n, "Purge")
}

func TestCancelledContext(t *testing.T) {
	db := openDB(t)
	s := newStore(t, db, newTable(t, db))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Claim(ctx, "evt", "tok", time.Now(), time.Minute)
	require.ErrorIs(t, err, context.Canceled, "Claim with cancelled ctx")
	_, err = s.Purge(ctx)
	require.ErrorIs(t, err, context.Canceled, "Purge with cancelled ctx")
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
		require.NoError(t, d.Do(ctx, id, fn), "Do(%.30q…)", id)
		require.ErrorIs(t, d.Do(ctx, id, fn), webhook.ErrDuplicate, "Do(%.30q…) again", id)
		require.Equal(t, 1, runs, "Do(%.30q…): want one run", id)
		var n int
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM "`+table+`" WHERE id = $1 AND completed`, webhook.StoreKey(id)).Scan(&n))
		require.Equal(t, 1, n, "rows keyed by StoreKey(%.30q…)", id)
	}
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM "`+table+`" WHERE id = 'evt_short'`).Scan(&n))
	require.Equal(t, 1, n, "short text id not stored verbatim: rows")
}

// Rows written by earlier versions, which stored every id verbatim, keep deduping valid short
// text ids.
func TestRowsOfEarlierVersionsStillMatch(t *testing.T) {
	db := openDB(t)
	table := newTable(t, db)
	s := newStore(t, db, table)
	legacy := []string{"evt_legacy", "ünïcødé 😀", strings.Repeat("k", 1024)}
	for _, id := range legacy {
		_, err := db.Exec(`INSERT INTO "`+table+`" (id, token, completed, expires_at) VALUES ($1, NULL, true, $2)`,
			id, time.Now().Add(time.Hour))
		require.NoError(t, err)
	}
	d := webhook.NewDeduper(s)
	for _, id := range legacy {
		require.ErrorIs(t, d.Do(context.Background(), id, func(context.Context) error { assert.Failf(t, "ran again", "%.20q", id); return nil }), webhook.ErrDuplicate, "Do(%.20q…) over an earlier version's row", id)
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
		r, err := s.Claim(ctx, id, "a", now, math.MaxInt64)
		require.NoError(t, err, "Claim in %d", now.Year())
		require.Equal(t, webhook.Claimed, r, "Claim in %d", now.Year())
		r, err = s.Claim(ctx, id, "b", now, time.Minute)
		require.NoError(t, err, "second Claim in %d", now.Year())
		require.Equal(t, webhook.InFlight, r, "second Claim in %d", now.Year())
		require.NoError(t, s.Complete(ctx, id, "a", now, math.MaxInt64), "Complete in %d", now.Year())
	}
	// The year-9999 id's retention (clamped to the end of 9999) is still running mid-9999.
	r, err := s.Claim(ctx, "evt_9999", "c", time.Date(9999, 7, 1, 0, 0, 0, 0, time.UTC), time.Minute)
	require.NoError(t, err, "Claim after completion")
	require.Equal(t, webhook.Duplicate, r, "Claim after completion")
}
