package perf_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/paykit-go/paykit/internal/testenv"
	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/sqlstore"
)

// sqlWorkers is how many deliveries the PostgreSQL row runs at once: a webhook burst, and the
// pool size the README recommends for it.
const sqlWorkers = 32

// envProbe is a testing.TB through which testenv.Getenv reports a missing server as a row note
// instead of skipping the whole comparison. A failure (PAYKIT_TEST_REQUIRE_EXTERNAL=1) still
// fails the benchmark.
type envProbe struct {
	testing.TB
	missing string
}

func (p *envProbe) Helper()                     {}
func (p *envProbe) Skip(args ...any)            { p.missing = fmt.Sprint(args...) }
func (p *envProbe) SkipNow()                    { p.missing = "skipped" }
func (p *envProbe) Skipf(f string, args ...any) { p.missing = fmt.Sprintf(f, args...) }

// concurrent runs n operations over workers goroutines, each operation with its own index.
func concurrent(n, workers int, op func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
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
	return errors.Join(errs...)
}

// backends meters the CPU time of a local PostgreSQL server's backend processes serving this
// process's connections, from /proc/<pid>/schedstat (Linux, nanoseconds).
type backends struct {
	mu   sync.Mutex
	last map[uint32]time.Duration // latest reading per backend; kept after it exits
}

// add starts metering the backend with process id pid.
func (bs *backends) add(pid uint32) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if _, ok := bs.last[pid]; !ok {
		bs.last[pid] = 0
	}
}

// local reports whether pid is a PostgreSQL process on this machine whose CPU time is readable
// (the server may be remote, where the process id means nothing here).
func local(pid uint32) bool {
	comm, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/comm")
	if err != nil || !strings.HasPrefix(string(comm), "postgres") {
		return false
	}
	_, ok := schedCPU(pid)
	return ok
}

// schedCPU reads the CPU time process pid has used.
func schedCPU(pid uint32) (time.Duration, bool) {
	raw, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/schedstat")
	if err != nil {
		return 0, false
	}
	field, _, _ := strings.Cut(string(raw), " ")
	ns, err := strconv.ParseInt(field, 10, 64)
	return time.Duration(ns), err == nil
}

// cpu returns the CPU time all metered backends used so far: cumulative, since a backend
// that exited counts with its last reading.
func (bs *backends) cpu() time.Duration {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	var total time.Duration
	for pid, prev := range bs.last {
		if d, ok := schedCPU(pid); ok && d >= prev {
			bs.last[pid], prev = d, d
		}
		total += prev
	}
	return total
}

// sqlStoreComparison: Deduper.Do over webhook/sqlstore, on a database/sql pool (pgx driver)
// sized as the README recommends, against the floor a hand-written integration would send
// through pgxpool (as many connections): the claiming insert, then the completing update. Both
// write distinct events into the same table, 32 at a time.
//
// The database does most of the work, so the cost of a chunk is the CPU time of this process
// plus that of the PostgreSQL backends serving its connections: on a host whose cores are
// busy, events/s is the cores divided by that, and unlike elapsed time it does not swing with
// other load on a shared machine. When the server is not local (no readable backend
// processes), the row falls back to elapsed time.
func sqlStoreComparison(b *testing.B) comparison {
	const path = "sqlstore via Deduper.Do, 32 concurrent distinct events, events/s (%s), vs pgxpool claim+complete"
	c := comparison{path: fmt.Sprintf(path, "CPU incl. PostgreSQL"), target: 0.9, throughput: true, chunk: 500 * time.Millisecond}
	probe := &envProbe{TB: b}
	dsn := testenv.Getenv(probe, "PAYKIT_TEST_POSTGRES_DSN", "source .ci/postgres.sh to start PostgreSQL")
	if probe.missing != "" {
		c.note = probe.missing
		return c
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	bs := &backends{last: make(map[uint32]time.Duration)}
	meterConn := func(_ context.Context, conn *pgx.Conn) error {
		bs.add(conn.PgConn().PID())
		return nil
	}
	db := stdlib.OpenDB(*cfg.ConnConfig, stdlib.OptionAfterConnect(meterConn))
	db.SetMaxOpenConns(sqlWorkers)
	db.SetMaxIdleConns(sqlWorkers)
	db.SetConnMaxIdleTime(5 * time.Minute)
	b.Cleanup(func() { db.Close() })
	cfg.MaxConns = sqlWorkers
	cfg.AfterConnect = meterConn
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	pc, err := pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	isLocal := local(pc.Conn().PgConn().PID())
	pc.Release()
	if _, cpu := cpuNow(); isLocal && cpu {
		c.meter = func() time.Duration {
			d, _ := cpuNow()
			return d + bs.cpu()
		}
	} else {
		start := time.Now()
		c.meter = func() time.Duration { return time.Since(start) }
		c.path = fmt.Sprintf(path, "wall clock")
	}

	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		b.Fatal(err)
	}
	run := hex.EncodeToString(r[:])
	store, err := sqlstore.New(db, sqlstore.WithTable("paykit_perf_"+run))
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if _, err := db.Exec(`DROP TABLE IF EXISTS ` + store.Table()); err != nil {
			b.Errorf("dropping %s: %v", store.Table(), err)
		}
	})

	t := store.Table()
	// The floor's claim takes an absent id or one whose lease or retention ended, and tells only
	// claimed (one row) from not; its completion is fenced by the token like the store's.
	claim := `INSERT INTO ` + t + ` AS e (id, token, completed, expires_at) VALUES ($1, $2, false, $3)
ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, completed = false, expires_at = EXCLUDED.expires_at
WHERE e.expires_at <= $4`
	complete := `UPDATE ` + t + ` SET completed = true, token = NULL, expires_at = $3 WHERE id = $1 AND token = $2`

	var chunks atomic.Int64
	ids := func() string { return "evt_" + run + "_" + strconv.FormatInt(chunks.Add(1), 10) + "_" }
	d := webhook.NewDeduper(store)
	noop := func(context.Context) error { return nil }
	c.subject = func(n int) error {
		prefix := ids()
		return concurrent(n, sqlWorkers, func(i int) error { return d.Do(ctx, prefix+strconv.Itoa(i), noop) })
	}
	c.baseline = func(n int) error {
		prefix := ids()
		return concurrent(n, sqlWorkers, func(i int) error {
			id, token := prefix+strconv.Itoa(i), strconv.Itoa(i)
			now := time.Now().UTC().Truncate(time.Microsecond)
			tag, err := pool.Exec(ctx, claim, id, token, now.Add(webhook.DefaultLease), now)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("floor claim of %s: not claimed", id)
			}
			now = time.Now().UTC().Truncate(time.Microsecond)
			if tag, err = pool.Exec(ctx, complete, id, token, now.Add(webhook.DefaultRetention)); err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("floor completion of %s: claim lost", id)
			}
			return nil
		})
	}
	return c
}
