// Package sqlstore is a webhook.Store on PostgreSQL through database/sql, so several replicas of
// a service share event dedupe state: a delivery claimed by one replica is in flight for the
// others, and a completed event is a duplicate everywhere.
//
// The caller brings the driver (for example github.com/jackc/pgx/v5/stdlib, or lib/pq) and the
// *sql.DB; the store only uses $n placeholders and standard PostgreSQL (9.5+ for ON CONFLICT).
//
//	db, _ := sql.Open("pgx", dsn)
//	store, err := sqlstore.New(db, sqlstore.WithTable("billing.webhook_events"))
//	if err != nil { ... }
//	if err := store.Migrate(ctx); err != nil { ... }
//	dedupe := webhook.NewDeduper(store)
//
// Every state change is one atomic statement keyed by the event id, so no transaction or lock
// is held while a handler runs, and a Deduper.Do costs two round trips: the claim (a single
// INSERT … ON CONFLICT that also tells a duplicate from an event in flight) before the handler,
// and the completion (or release) after it. Neither can be saved: the claim's answer decides
// whether the handler runs, and the completion can only be sent once it succeeded and must be
// stored before Do reports success. Each statement borrows a connection from the pool for its
// round trip only, so size the pool for the deliveries you handle at once, with as many idle
// connections as open ones:
//
//	db.SetMaxOpenConns(32)
//	db.SetMaxIdleConns(32) // the default, 2, closes and reopens 30 connections per burst of 32
//	db.SetConnMaxIdleTime(5 * time.Minute)
//
// With the pgx driver, statements are prepared once per connection and reused automatically.
//
// Times come from the Deduper's clock (keep replica clocks NTP-synchronised; skew shortens or
// lengthens leases by the same amount). Completed rows are kept for the retention window; call
// Purge periodically to delete expired rows.
//
// Any non-empty id works, whatever its length or bytes: rows are keyed by webhook.StoreKey(id),
// which is the id itself for text of up to 1024 bytes (so rows written by earlier versions keep
// matching) and a fixed-length SHA-256 digest for longer ids, ids with NUL bytes or invalid
// UTF-8. Leases and retentions of any length work too: expiry times saturate at the end of the
// year 9999, which then never passes, instead of overflowing the column.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paykit-go/paykit/webhook"
)

// DefaultTable is the table used when WithTable is not given.
const DefaultTable = "paykit_webhook_events"

// purgeBatch bounds the rows one Purge statement deletes, so purging a large backlog never
// holds locks on many rows at once.
const purgeBatch = 5000

// Store is a webhook.Store backed by a PostgreSQL table:
//
//	id         text PRIMARY KEY  -- webhook.StoreKey(event id)
//	token      text              -- claim owner; NULL once completed
//	completed  boolean NOT NULL
//	expires_at timestamptz NOT NULL -- lease end while claimed, retention end once completed
//
// It is safe for concurrent use by any number of goroutines and processes.
type Store struct {
	db    *sql.DB
	table string // validated, quoted identifier (possibly schema-qualified)
	index string // quoted name of the expires_at index
	lock  int64  // advisory lock key serialising Migrate
	now   func() time.Time

	claimSQL, completeSQL, releaseSQL, purgeSQL string
}

// Option configures New.
type Option func(*config) error

type config struct {
	table string
	now   func() time.Time
}

// validIdentifier reports whether s is a plain SQL identifier: letters, digits and
// underscores, not starting with a digit, 1 to 48 characters so that derived names (the index)
// stay within PostgreSQL's 63.
func validIdentifier(s string) bool {
	if len(s) == 0 || len(s) > 48 || ('0' <= s[0] && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// WithTable sets the table name (default DefaultTable), optionally schema-qualified
// ("schema.table"). Each part must be a plain identifier of letters, digits and underscores;
// anything else is refused, so the name can never inject SQL. Names are quoted as written, so
// they are case-sensitive.
func WithTable(name string) Option {
	return func(c *config) error {
		parts := strings.Split(name, ".")
		if len(parts) > 2 {
			return fmt.Errorf("sqlstore: invalid table name %q: at most one schema qualifier", name)
		}
		for _, p := range parts {
			if !validIdentifier(p) {
				return fmt.Errorf("sqlstore: invalid table name %q: want [schema.]name of letters, digits and underscores (max 48 each)", name)
			}
		}
		c.table = name
		return nil
	}
}

// WithClock sets the clock Purge uses to decide which rows expired (default time.Now).
// Claim and Complete use the time the Deduper passes them.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("sqlstore: nil clock")
		}
		c.now = now
		return nil
	}
}

// New returns a Store using db. It does not touch the database; call Migrate to create the table.
func New(db *sql.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	c := config{table: DefaultTable, now: time.Now}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&c); err != nil {
			return nil, err
		}
	}
	parts := strings.Split(c.table, ".")
	quoted := make([]string, len(parts))
	for i, p := range parts {
		quoted[i] = `"` + p + `"` // safe: validated to [A-Za-z0-9_]
	}
	s := &Store{
		db:    db,
		table: strings.Join(quoted, "."),
		index: `"` + parts[len(parts)-1] + `_expires_at_idx"`,
		lock:  advisoryKey(c.table),
		now:   c.now,
	}
	t := s.table
	// Claim: insert, or take over a row whose lease or retention ended. ON CONFLICT DO UPDATE
	// locks the row and always returns it, so one statement tells claimed (our token is in the
	// row) from duplicate and in flight (someone else's row, unchanged).
	s.claimSQL = `INSERT INTO ` + t + ` AS e (id, token, completed, expires_at) VALUES ($1, $2, false, $3)
ON CONFLICT (id) DO UPDATE SET
	token      = CASE WHEN e.expires_at <= $4 THEN EXCLUDED.token ELSE e.token END,
	completed  = CASE WHEN e.expires_at <= $4 THEN false ELSE e.completed END,
	expires_at = CASE WHEN e.expires_at <= $4 THEN EXCLUDED.expires_at ELSE e.expires_at END
RETURNING e.token IS NOT DISTINCT FROM $2, e.completed`
	s.completeSQL = `UPDATE ` + t + ` SET completed = true, token = NULL, expires_at = $3
WHERE id = $1 AND token = $2 AND NOT completed`
	s.releaseSQL = `DELETE FROM ` + t + ` WHERE id = $1 AND token = $2 AND NOT completed`
	s.purgeSQL = `DELETE FROM ` + t + ` WHERE id IN (SELECT id FROM ` + t + ` WHERE expires_at <= $1 LIMIT ` +
		fmt.Sprint(purgeBatch) + ` FOR UPDATE SKIP LOCKED)`
	return s, nil
}

// Table returns the quoted table name the store uses.
func (s *Store) Table() string { return s.table }

// Migrate creates the table and its index if they do not exist. It is idempotent and safe to
// run from several replicas at once (a transaction-scoped advisory lock serialises them).
func (s *Store) Migrate(ctx context.Context) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	stmts := []string{
		`SELECT pg_advisory_xact_lock($1)`,
		`CREATE TABLE IF NOT EXISTS ` + s.table + ` (
	id         text        PRIMARY KEY,
	token      text,
	completed  boolean     NOT NULL DEFAULT false,
	expires_at timestamptz NOT NULL
)`,
		`CREATE INDEX IF NOT EXISTS ` + s.index + ` ON ` + s.table + ` (expires_at)`,
	}
	if _, err = tx.ExecContext(ctx, stmts[0], s.lock); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	for _, q := range stmts[1:] {
		if _, err = tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// Claim implements webhook.Store.
func (s *Store) Claim(ctx context.Context, id, token string, now time.Time, lease time.Duration) (webhook.ClaimResult, error) {
	now = dbTime(now)
	var mine, completed bool
	err := s.db.QueryRowContext(ctx, s.claimSQL, webhook.StoreKey(id), token, expiry(now, lease), now).Scan(&mine, &completed)
	switch {
	case err != nil:
		return 0, fmt.Errorf("sqlstore: claim: %w", err)
	case mine:
		return webhook.Claimed, nil
	case completed:
		return webhook.Duplicate, nil
	default:
		return webhook.InFlight, nil
	}
}

// Complete implements webhook.Store.
func (s *Store) Complete(ctx context.Context, id, token string, now time.Time, retention time.Duration) error {
	return s.execOwned(ctx, "complete", s.completeSQL, webhook.StoreKey(id), token, expiry(dbTime(now), retention))
}

// Release implements webhook.Store.
func (s *Store) Release(ctx context.Context, id, token string) error {
	return s.execOwned(ctx, "release", s.releaseSQL, webhook.StoreKey(id), token)
}

// execOwned runs a statement that changes exactly the row token owns, or reports ErrClaimLost.
func (s *Store) execOwned(ctx context.Context, op, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if n == 0 {
		return webhook.ErrClaimLost
	}
	return nil
}

// Purge deletes rows whose lease or retention ended (per WithClock), in batches, and returns
// how many it deleted. Run it periodically (hourly is plenty); the table otherwise grows by one
// row per event. Deleting an expired claim is the same as letting the next delivery take it
// over. Purge stops early, returning the count so far, when ctx is done.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	now := dbTime(s.now())
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, s.purgeSQL, now)
		if err != nil {
			return total, fmt.Errorf("sqlstore: purge: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlstore: purge: %w", err)
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}

// minDBTime and maxDBTime bound the times the store sends: the years 1 to 9999, which every
// driver encodes and PostgreSQL's timestamptz holds.
func minDBTime() time.Time { return time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC) }
func maxDBTime() time.Time { return time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC) }

// clampDB rounds t down to PostgreSQL's microsecond precision in UTC, so that the times the
// database compares are exactly the ones the Deduper meant (no rounding up across a lease end),
// and clamps it to [minDBTime, hi].
func clampDB(t, hi time.Time) time.Time {
	switch t = t.UTC().Truncate(time.Microsecond); {
	case t.Before(minDBTime()):
		return minDBTime()
	case t.After(hi):
		return hi
	}
	return t
}

// dbTime is a current time as stored and compared: clamped to just before maxDBTime, so that
// an expiry saturated at maxDBTime never passes.
func dbTime(t time.Time) time.Time { return clampDB(t, maxDBTime().Add(-time.Microsecond)) }

// expiry returns now+d as stored: time.Time.Add saturates rather than overflows, and the sum is
// clamped to maxDBTime, so no lease or retention (up to math.MaxInt64, about 292 years) yields an
// out-of-range error or a time in the past.
func expiry(now time.Time, d time.Duration) time.Time { return clampDB(now.Add(d), maxDBTime()) }

// advisoryKey derives a stable advisory-lock key from the table name (FNV-1a, 64-bit).
func advisoryKey(table string) int64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(table); i++ {
		h ^= uint64(table[i])
		h *= 1099511628211
	}
	return int64(h)
}
