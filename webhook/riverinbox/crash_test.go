package riverinbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/riverinbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Environment of the helper process TestWorkerProcessKilledMidHandler starts (this test binary
// re-executed): the schema to work in. Not a PAYKIT_TEST_ variable: only the parent sets it.
const crashChildEnv = "RIVERINBOX_CRASH_CHILD_SCHEMA"

// crashChildDSNEnv carries the parent's database address to the helper process.
const crashChildDSNEnv = "RIVERINBOX_CRASH_CHILD_DSN"

func TestMain(m *testing.M) {
	if schema := os.Getenv(crashChildEnv); schema != "" {
		crashChild(schema)
		return
	}
	os.Exit(m.Run())
}

// blockingHandler returns a process function (under dd) whose first run records "started",
// signals started and blocks until its context is done, returning the context's error; later
// runs record the effect through db.
func blockingHandler(db *testDB, dd *webhook.Deduper, replicaName string, started chan<- string, runs *atomic.Int64) func(context.Context, *webhook.Delivery) error {
	pool := db.admin
	return processFunc(dd, func(ctx context.Context, e event, d *webhook.Delivery) error {
		if runs.Add(1) == 1 {
			started <- replicaName
			<-ctx.Done()
			return ctx.Err()
		}
		return db.recordEffect(ctx, pool, d.Key, replicaName)
	})
}

// A worker stopped mid-handler gives its delivery back: the other replica runs it at once, the
// Deduper's claim having been released, and the interrupted run does not count as an attempt.
func TestStopMidHandler(t *testing.T) {
	for _, how := range []string{"Stop with short deadline", "Start context cancelled"} {
		t.Run(how, func(t *testing.T) {
			db := newTestDB(t)
			dd := db.dedupe(t, db.sqlDB(t, "riverinbox-test-dedupe"), time.Minute)
			var runs atomic.Int64
			started := make(chan string, 1)
			replicas := map[string]*replica{}
			cancels := map[string]context.CancelFunc{}
			for _, name := range []string{"a", "b"} {
				r := db.newReplica(t, db.pool(t, "riverinbox-test-"+name, 6), riverinbox.WithWorkers(2), riverinbox.WithMaxAttempts(2))
				require.NoError(t, r.Register("shop", blockingHandler(db, dd, name, started, &runs)))
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				require.NoError(t, r.Start(ctx))
				replicas[name], cancels[name] = r, cancel
			}
			d := delivery("shop", "slow")
			enqueue(t, replicas["a"], d)
			var first string
			select {
			case first = <-started:
			case <-time.After(10 * time.Second):
				require.FailNow(t, "handler did not start")
			}
			if how == "Stop with short deadline" {
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				err := replicas[first].Stop(ctx)
				cancel()
				assert.ErrorIs(t, err, context.DeadlineExceeded, "Stop with a short deadline")
			} else {
				cancels[first]()
			}
			waitFor(t, 10*time.Second, "the other replica's effect", func() bool { return db.effects(t, d.Key) == 1 })
			waitFor(t, 10*time.Second, "completion", func() bool { return db.job(t, d.Key).State == "completed" })
			j := db.job(t, d.Key)
			assert.Equal(t, 1, j.Attempt, "job attempts (the interrupted run does not count)")
			assert.Empty(t, j.Errors, "job errors (the interrupted run does not count)")
			var second string
			require.NoError(t, db.admin.QueryRow(context.Background(), `SELECT replica FROM `+db.schema+`.effects`).Scan(&second))
			assert.NotEqual(t, first, second, "effect recorded by the stopped replica")
			time.Sleep(200 * time.Millisecond) // nothing else runs
			assert.Equal(t, 1, db.effects(t, d.Key), "effects")
			assert.Equal(t, int64(2), runs.Load(), "runs")
		})
	}
}

// terminate kills every backend of the test database whose application_name is one of names.
func (db *testDB) terminate(t *testing.T, names ...string) int {
	t.Helper()
	return db.count(t, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = ANY($1) AND pid <> pg_backend_pid()) AS k`, names)
}

// Killing a worker's database connections while its handler runs loses nothing: the pool
// reconnects, River records the outcome, the delivery completes and its effect is committed once.
func TestConnectionsKilledMidHandler(t *testing.T) {
	db := newTestDB(t)
	const app = "riverinbox-test-killed"
	pool := db.pool(t, app, 6)
	sdb := db.sqlDB(t, app+"-dedupe")
	dd := db.dedupe(t, sdb, time.Second)
	r := db.newReplica(t, pool, riverinbox.WithWorkers(2))
	var runs atomic.Int64
	started := make(chan struct{}, 1)
	proceed := make(chan struct{})
	err := r.Register("shop", processFunc(dd, func(ctx context.Context, e event, d *webhook.Delivery) error {
		if d.Key == "evt_victim" && runs.Add(1) == 1 {
			started <- struct{}{}
			<-proceed
		}
		// The effect is written through the worker's own pool, whose connections were killed.
		return db.recordEffect(ctx, pool, d.Key, "a")
	}))
	require.NoError(t, err)
	r.start(t)
	// Warm every connection of the replica so there is something to kill.
	for _, k := range []string{"1", "2", "3"} {
		enqueue(t, r, delivery("shop", "warm"+k))
	}
	d := delivery("shop", "victim")
	waitFor(t, 10*time.Second, "warm-up", func() bool {
		return db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job WHERE state = 'completed'`) == 3
	})
	enqueue(t, r, d)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		require.FailNow(t, "handler did not start")
	}
	killed := db.terminate(t, app, app+"-dedupe")
	require.NotZero(t, killed, "no connection of the replica found to kill")
	t.Logf("terminated %d connections mid-handler", killed)
	time.Sleep(100 * time.Millisecond)
	close(proceed)

	waitFor(t, 20*time.Second, "the delivery to complete", func() bool { return db.job(t, d.Key).State == "completed" })
	assert.Equal(t, 1, db.effects(t, d.Key), "effects after the connections were killed, want 1")
	// The dedupe store remembers the event: a redelivery after the job is purged would not
	// run the handler again.
	assert.Equal(t, 1, db.count(t, `SELECT count(*) FROM `+db.schema+`.webhook_events WHERE id = $1 AND completed`, d.Key), "dedupe row completed")
	noSecretsLogged(t, r.logs.String())
}

// crashChild is the helper process: it works the schema's queue with a handler that records
// that it started and then hangs until the parent kills the process (SIGKILL: no deferred
// cleanup, no Stop, no claim release). Leader election is off so the parent's replica leads.
func crashChild(schema string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	dsn := os.Getenv(crashChildDSNEnv) // the parent got it through testenv
	pool, err := openPool(ctx, dsn, "riverinbox-test-child", 4)
	if err != nil {
		fail(err)
	}
	sdb, err := openSQL(dsn, "riverinbox-test-child-dedupe")
	if err != nil {
		fail(err)
	}
	dd, err := openDeduper(ctx, sdb, schema, 2*time.Second)
	if err != nil {
		fail(err)
	}
	ib, err := riverinbox.New(pool, riverinbox.WithSchema(schema), riverinbox.WithJobTimeout(-1),
		riverinbox.WithLogger(slog.New(slog.DiscardHandler)),
		riverinbox.WithRiverConfig(func(c *river.Config) {
			c.TestOnly = true
			c.LeaderElectionDisabled = true
			c.FetchCooldown = 5 * time.Millisecond
			c.FetchPollInterval = 50 * time.Millisecond
		}))
	if err != nil {
		fail(err)
	}
	err = ib.Register("shop", processFunc(dd, func(ctx context.Context, e event, d *webhook.Delivery) error {
		if _, err := pool.Exec(ctx, `INSERT INTO `+schema+`.effects (key, replica) VALUES ($1, 'child-started')`, d.Key); err != nil {
			return err
		}
		select {} // hang until killed
	}))
	if err != nil {
		fail(err)
	}
	if err := ib.Start(ctx); err != nil {
		fail(err)
	}
	select {}
}

// A worker process killed mid-handler (SIGKILL) leaves its job running and its dedupe claim
// held; River's leader rescues the job once RescueStuckJobsAfter has passed, another replica
// runs it when the claim's lease ends, and the effect is committed once.
func TestWorkerProcessKilledMidHandler(t *testing.T) {
	db := newTestDB(t)
	sdb := db.sqlDB(t, "riverinbox-test-dedupe")
	dd := db.dedupe(t, sdb, 2*time.Second)
	// Migrate and enqueue from the surviving replica before the child starts.
	pool := db.pool(t, "riverinbox-test-b", 6)
	r := db.newReplica(t, pool, riverinbox.WithJobTimeout(time.Second), riverinbox.WithRiverConfig(func(c *river.Config) {
		c.RescueStuckJobsAfter = 2 * time.Second
	}))
	var runs atomic.Int64
	require.NoError(t, r.Register("shop", processFunc(dd, func(ctx context.Context, e event, d *webhook.Delivery) error {
		runs.Add(1)
		return db.recordEffect(ctx, pool, d.Key, "b")
	})))
	d := delivery("shop", "crash")
	enqueue(t, r, d)

	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+db.schema, crashChildDSNEnv+"="+db.dsn)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	var once sync.Once
	kill := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(kill)
	waitFor(t, 20*time.Second, "the child's handler to start", func() bool {
		return db.count(t, `SELECT count(*) FROM `+db.schema+`.effects WHERE replica = 'child-started'`) == 1
	})
	kill()
	killedAt := time.Now()
	if out.String() != "" {
		t.Logf("child output:\n%s", out.String())
	}
	j := db.job(t, d.Key)
	require.Equal(t, "running", j.State, "job state after the crash")
	require.Equal(t, 1, j.Attempt, "job attempt after the crash")

	// The surviving replica starts (it becomes leader: the child never ran for leadership).
	time.Sleep(2*time.Second - time.Since(killedAt) + 100*time.Millisecond)
	r.start(t)
	waitFor(t, 25*time.Second, "the rescued delivery's effect", func() bool {
		return db.count(t, `SELECT count(*) FROM `+db.schema+`.effects WHERE key = $1 AND replica = 'b'`, d.Key) == 1
	})
	waitFor(t, 10*time.Second, "completion", func() bool { return db.job(t, d.Key).State == "completed" })
	j = db.job(t, d.Key)
	assert.Equal(t, 2, j.Attempt, "job attempt after rescue")
	if assert.Len(t, j.Errors, 1, "job errors after rescue") {
		assert.Equal(t, "Stuck job rescued by JobRescuer", j.Errors[0].Error, "job error after rescue")
	}
	assert.Equal(t, int64(1), runs.Load(), "surviving replica handler runs")
	t.Logf("recovered %v after the kill", time.Since(killedAt).Round(10*time.Millisecond))
}

// lockedBuffer is a logBuffer under another name, for a child process's output.
type lockedBuffer = logBuffer
