package riverinbox_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for sqlstore
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/paykit-go/paykit/internal/testenv"
	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/riverinbox"
	"github.com/paykit-go/paykit/webhook/sqlstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const dsnHint = "source .ci/postgres.sh to start PostgreSQL"

// testDB is one test's slice of the PostgreSQL server: a fresh schema holding River's tables, the
// dedupe table and the effects table, dropped when the test ends.
type testDB struct {
	dsn    string
	schema string
	admin  *pgxpool.Pool // the test's own connections, never killed
}

// newTestDB creates a schema for the test. Tests skip without PAYKIT_TEST_POSTGRES_DSN (CI
// fails instead).
func newTestDB(t *testing.T) *testDB {
	t.Helper()
	dsn := testenv.Getenv(t, "PAYKIT_TEST_POSTGRES_DSN", dsnHint)
	var b [5]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	db := &testDB{dsn: dsn, schema: "riverinbox_" + hex.EncodeToString(b[:])}
	db.admin = db.pool(t, "riverinbox-test-admin", 4)
	db.exec(t, `CREATE SCHEMA `+db.schema)
	db.exec(t, `CREATE TABLE `+db.schema+`.effects (key text NOT NULL, replica text NOT NULL, at timestamptz NOT NULL DEFAULT now())`)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := db.admin.Exec(ctx, `DROP SCHEMA `+db.schema+` CASCADE`)
		assert.NoError(t, err, "dropping schema %s", db.schema)
	})
	return db
}

// pool opens a pgx pool of at most maxConns connections whose sessions carry appName, so a
// test can find and kill them; it is closed when the test ends.
func (db *testDB) pool(t *testing.T, appName string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := openPool(ctx, db.dsn, appName, maxConns)
	require.NoError(t, err, "PostgreSQL at PAYKIT_TEST_POSTGRES_DSN")
	t.Cleanup(p.Close)
	return p
}

func openPool(ctx context.Context, dsn, appName string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = maxConns
	cfg.ConnConfig.RuntimeParams["application_name"] = appName
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// sqlDB opens a database/sql handle (for sqlstore) whose sessions carry appName.
func (db *testDB) sqlDB(t *testing.T, appName string) *sql.DB {
	t.Helper()
	sdb, err := openSQL(db.dsn, appName)
	require.NoError(t, err)
	t.Cleanup(func() { sdb.Close() })
	return sdb
}

func openSQL(dsn, appName string) (*sql.DB, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("application_name", appName)
	u.RawQuery = q.Encode()
	sdb, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, err
	}
	sdb.SetMaxOpenConns(4)
	return sdb, nil
}

func (db *testDB) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := db.admin.Exec(ctx, sql, args...)
	require.NoError(t, err, "%s", sql)
}

func (db *testDB) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var n int
	require.NoError(t, db.admin.QueryRow(ctx, query, args...).Scan(&n), "%s", query)
	return n
}

// effects returns how many effects were recorded for key.
func (db *testDB) effects(t *testing.T, key string) int {
	t.Helper()
	return db.count(t, `SELECT count(*) FROM `+db.schema+`.effects WHERE key = $1`, key)
}

// jobs returns how many River jobs hold a delivery with key.
func (db *testDB) jobs(t *testing.T, key string) int {
	t.Helper()
	return db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job WHERE args->>'key' = $1`, key)
}

// jobRow is the part of a River job the tests look at.
type jobRow struct {
	ID          int64
	State       string
	Attempt     int
	MaxAttempts int
	Errors      []rivertype.AttemptError
}

// job returns the newest job of key.
func (db *testDB) job(t *testing.T, key string) jobRow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		r    jobRow
		errs [][]byte
	)
	err := db.admin.QueryRow(ctx, `SELECT id, state::text, attempt, max_attempts, coalesce(errors, '{}')
		FROM `+db.schema+`.river_job WHERE args->>'key' = $1 ORDER BY id DESC LIMIT 1`, key).
		Scan(&r.ID, &r.State, &r.Attempt, &r.MaxAttempts, &errs)
	require.NoError(t, err, "job %q", key)
	for _, e := range errs {
		var ae rivertype.AttemptError
		require.NoError(t, json.Unmarshal(e, &ae))
		r.Errors = append(r.Errors, ae)
	}
	return r
}

// dedupe returns a Deduper over a sqlstore table in the test's schema, shared by every replica
// of the test; lease is short so that claims left by killed workers expire quickly.
func (db *testDB) dedupe(t *testing.T, sdb *sql.DB, lease time.Duration) *webhook.Deduper {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dd, err := openDeduper(ctx, sdb, db.schema, lease)
	require.NoError(t, err)
	return dd
}

func openDeduper(ctx context.Context, sdb *sql.DB, schema string, lease time.Duration) (*webhook.Deduper, error) {
	store, err := sqlstore.New(sdb, sqlstore.WithTable(schema+".webhook_events"))
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		return nil, err
	}
	return webhook.NewDeduper(store, webhook.WithLease(lease)), nil
}

// fastRetry is a River retry policy with a fixed short backoff, recording its calls, so tests
// see River's retries without waiting for its default attempt⁴-second backoff.
type fastRetry struct {
	delay time.Duration
	calls atomic.Int64
}

func (p *fastRetry) NextRetry(*rivertype.JobRow) time.Time {
	p.calls.Add(1)
	return time.Now().Add(p.delay)
}

// logBuffer collects log output, safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// replica is one Inbox as a test replica runs it.
type replica struct {
	*riverinbox.Inbox
	logs  *logBuffer
	retry *fastRetry
}

// newReplica creates an Inbox on pool in the test's schema with test-speed River settings
// (no startup stagger, 5 ms fetch cooldown, 50 ms retry backoff), migrates, and stops it when
// the test ends.
func (db *testDB) newReplica(t *testing.T, pool *pgxpool.Pool, opts ...riverinbox.Option) *replica {
	t.Helper()
	r := &replica{logs: &logBuffer{}, retry: &fastRetry{delay: 50 * time.Millisecond}}
	base := []riverinbox.Option{
		riverinbox.WithSchema(db.schema),
		riverinbox.WithLogger(slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		riverinbox.WithSnooze(100 * time.Millisecond),
		riverinbox.WithRiverConfig(func(c *river.Config) {
			c.TestOnly = true
			c.FetchCooldown = 5 * time.Millisecond
			c.FetchPollInterval = 50 * time.Millisecond
			c.RetryPolicy = r.retry
		}),
	}
	ib, err := riverinbox.New(pool, append(base, opts...)...)
	require.NoError(t, err)
	r.Inbox = ib
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, ib.Migrate(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ib.Stop(ctx)
	})
	return r
}

func (r *replica) start(t *testing.T) {
	t.Helper()
	require.NoError(t, r.Start(context.Background()))
}

// event is the test provider's payload.
type event struct {
	ID string `json:"id"`
}

func body(id string) []byte { return []byte(`{"id":"` + id + `"}`) }

// processFunc builds the process function the way a provider handler does with an inbox:
// re-parse the stored body, then run fn under the Deduper keyed by the delivery's Key.
func processFunc(dd *webhook.Deduper, fn func(ctx context.Context, e event, d *webhook.Delivery) error) func(context.Context, *webhook.Delivery) error {
	return func(ctx context.Context, d *webhook.Delivery) error {
		var e event
		if err := json.Unmarshal(d.Body, &e); err != nil {
			return fmt.Errorf("%w: %w", webhook.ErrInvalidPayload, err)
		}
		run := func(ctx context.Context) error { return fn(ctx, e, d) }
		if dd == nil || d.Key == "" {
			return run(ctx)
		}
		return dd.Do(ctx, d.Key, run)
	}
}

// recordEffect inserts the handler's effect for key, as replica, through pool.
func (db *testDB) recordEffect(ctx context.Context, pool *pgxpool.Pool, key, replica string) error {
	_, err := pool.Exec(ctx, `INSERT INTO `+db.schema+`.effects (key, replica) VALUES ($1, $2)`, key, replica)
	return err
}

func delivery(endpoint, id string) *webhook.Delivery {
	return &webhook.Delivery{
		Endpoint:   endpoint,
		Key:        "evt_" + id,
		Body:       body(id),
		Header:     map[string][]string{"X-Test-Signature": {"v1=secret-signature-" + id}, "Content-Type": {"application/json"}},
		ReceivedAt: time.Now(),
	}
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		require.False(t, time.Now().After(deadline), "timed out after %v waiting for %s", timeout, what)
		time.Sleep(20 * time.Millisecond)
	}
}

func enqueue(t *testing.T, ib interface {
	Enqueue(context.Context, *webhook.Delivery) error
}, d *webhook.Delivery) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, ib.Enqueue(ctx, d), "Enqueue(%s)", d.Key)
}

// noSecretsLogged fails when a log line shows a signature header value or a body.
func noSecretsLogged(t *testing.T, logs string) {
	t.Helper()
	for _, s := range []string{"secret-signature", `"id"`, "X-Test-Signature"} {
		assert.NotContains(t, logs, s, "logs contain %q:\n%s", s, logs)
	}
}
