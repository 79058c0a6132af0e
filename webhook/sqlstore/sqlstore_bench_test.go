package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paykit-go/paykit/internal/testenv"
	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/sqlstore"
)

// benchWorkers is how many deliveries run at once: a webhook burst.
const benchWorkers = 32

// benchRandom returns 12 random hex digits, to keep tables and ids unique per run.
func benchRandom(b *testing.B) string {
	b.Helper()
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		b.Fatal(err)
	}
	return hex.EncodeToString(r[:])
}

// benchDB opens the PostgreSQL of PAYKIT_TEST_POSTGRES_DSN, closed when b ends.
func benchDB(b *testing.B, dsn string) *sql.DB {
	b.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// benchParallel runs op b.N times over benchWorkers goroutines, each call with its own index.
func benchParallel(b *testing.B, op func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, benchWorkers)
	b.ResetTimer()
	for w := range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := op(i); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDedupeDistinct32 runs Deduper.Do for distinct events, 32 at a time, over the store
// with the pool the package documentation recommends ("readme-pool"), with database/sql's
// default of 2 idle connections ("default-idle"), and, as the floor, the two statements a
// hand-written integration sends through a pgxpool of as many connections: the insert that
// claims the id (taking over an expired row), then the update that completes it. Compare
// ns/op (wall clock per event); internal/perf runs the first and the last side by side.
func BenchmarkDedupeDistinct32(b *testing.B) {
	dsn := testenv.Getenv(b, "PAYKIT_TEST_POSTGRES_DSN", "source .ci/postgres.sh to start PostgreSQL")
	ctx := context.Background()
	setup := benchDB(b, dsn)
	table := "paykit_bench_" + benchRandom(b)
	store, err := sqlstore.New(setup, sqlstore.WithTable(table))
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if _, err := setup.Exec(`DROP TABLE IF EXISTS ` + store.Table()); err != nil {
			b.Errorf("dropping %s: %v", store.Table(), err)
		}
	})
	noop := func(context.Context) error { return nil }
	prefix := "evt_" + benchRandom(b) + "_"
	var runs atomic.Int64
	ids := func() string { return prefix + strconv.FormatInt(runs.Add(1), 10) + "_" }

	for _, pool := range []struct {
		name string
		idle int
	}{{"readme-pool", benchWorkers}, {"default-idle", 0}} {
		b.Run(pool.name, func(b *testing.B) {
			db := benchDB(b, dsn)
			db.SetMaxOpenConns(benchWorkers)
			if pool.idle > 0 {
				db.SetMaxIdleConns(pool.idle)
				db.SetConnMaxIdleTime(5 * time.Minute)
			}
			s, err := sqlstore.New(db, sqlstore.WithTable(table))
			if err != nil {
				b.Fatal(err)
			}
			d := webhook.NewDeduper(s)
			p := ids()
			benchParallel(b, func(i int) error { return d.Do(ctx, p+strconv.Itoa(i), noop) })
		})
	}

	b.Run("pgxpool-floor", func(b *testing.B) {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			b.Fatal(err)
		}
		cfg.MaxConns = benchWorkers
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		t := store.Table()
		claim := `INSERT INTO ` + t + ` AS e (id, token, completed, expires_at) VALUES ($1, $2, false, $3)
ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, completed = false, expires_at = EXCLUDED.expires_at
WHERE e.expires_at <= $4`
		complete := `UPDATE ` + t + ` SET completed = true, token = NULL, expires_at = $3 WHERE id = $1 AND token = $2`
		p := ids()
		benchParallel(b, func(i int) error {
			id, token := p+strconv.Itoa(i), strconv.Itoa(i)
			now := time.Now().UTC().Truncate(time.Microsecond)
			tag, err := pool.Exec(ctx, claim, id, token, now.Add(webhook.DefaultLease), now)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return errors.New("floor claim: not claimed")
			}
			now = time.Now().UTC().Truncate(time.Microsecond)
			if tag, err = pool.Exec(ctx, complete, id, token, now.Add(webhook.DefaultRetention)); err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return errors.New("floor complete: claim lost")
			}
			return nil
		})
	})
}
