package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paykit-go/paykit/internal/testenv"
	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/redisstore"
	"github.com/paykit-go/paykit/webhook/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redisAddr returns PAYKIT_TEST_REDIS_ADDR, skipping the test when it is unset (.ci/redis.sh
// starts a server and sets it; CI fails instead of skipping).
func redisAddr(t testing.TB) string {
	t.Helper()
	return testenv.Getenv(t, "PAYKIT_TEST_REDIS_ADDR", "source .ci/redis.sh to start Redis")
}

// newClient connects to addr, closed when the test ends.
func newClient(t testing.TB, addr string) redis.UniversalClient {
	t.Helper()
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}})
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, rdb.Ping(ctx).Err(), "Redis at %s unreachable", addr)
	return rdb
}

// newPrefix returns a key prefix unique to the test; its keys are deleted when the test ends.
func newPrefix(t testing.TB, rdb redis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	prefix := "paykit-test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() { deleteKeys(t, rdb, prefix) })
	return prefix
}

func deleteKeys(t testing.TB, rdb redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			assert.NoError(t, rdb.Unlink(ctx, batch...).Err(), "deleting test keys")
			batch = batch[:0]
		}
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 1000 {
			flush()
		}
	}
	assert.NoError(t, iter.Err(), "scanning test keys")
	flush()
}

func newStore(t testing.TB, rdb redis.UniversalClient, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	return s
}

func TestNew(t *testing.T) {
	_, err := redisstore.New(nil)
	assert.Error(t, err, "New(nil) accepted")
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // New does not connect
	defer rdb.Close()
	s, err := redisstore.New(rdb)
	require.NoError(t, err)
	long := strings.Repeat("x", 2000)
	assert.Equal(t, redisstore.DefaultPrefix+"evt_1", s.Key("evt_1"), "Key")
	assert.Equal(t, redisstore.DefaultPrefix+webhook.StoreKey(long), s.Key(long), "Key(long)")
	s, err = redisstore.New(rdb, redisstore.WithPrefix(""), nil)
	if assert.NoError(t, err, "WithPrefix(\"\")") {
		assert.Equal(t, "evt", s.Key("evt"), "WithPrefix(\"\"): Key")
	}
}

func TestStoreContract(t *testing.T) {
	rdb := newClient(t, redisAddr(t))
	s := newStore(t, rdb, newPrefix(t, rdb))
	storetest.TestStore(t, func(*testing.T) webhook.Store { return s })
}

// The key's TTL garbage-collects: a claim's key outlives its lease (lease plus at least a
// minute), a completed id's key lives for the retention window.
func TestKeyTTLs(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t, redisAddr(t))
	s := newStore(t, rdb, newPrefix(t, rdb))
	id := "evt_ttl\x00" + strings.Repeat("x", 5000)
	r, err := s.Claim(ctx, id, "tok", time.Now(), 30*time.Second)
	require.NoError(t, err, "Claim")
	require.Equal(t, webhook.Claimed, r, "Claim")
	ttl := rdb.PTTL(ctx, s.Key(id)).Val()
	assert.Greater(t, ttl, 89*time.Second, "claim TTL, want 90s (30s lease + 1 min)")
	assert.LessOrEqual(t, ttl, 90*time.Second, "claim TTL, want 90s (30s lease + 1 min)")
	require.NoError(t, s.Complete(ctx, id, "tok", time.Now(), 2*time.Hour))
	ttl = rdb.PTTL(ctx, s.Key(id)).Val()
	assert.Greater(t, ttl, 2*time.Hour-time.Second, "completed TTL, want 2h (the retention)")
	assert.LessOrEqual(t, ttl, 2*time.Hour, "completed TTL, want 2h (the retention)")
	assert.Equal(t, int64(21), rdb.StrLen(ctx, s.Key(id)).Val(), "completed value length")

	// Huge durations saturate instead of making Redis refuse the TTL.
	r, err = s.Claim(ctx, "evt_forever", "tok", time.Now(), 1<<63-1)
	require.NoError(t, err, "Claim(lease forever)")
	require.Equal(t, webhook.Claimed, r, "Claim(lease forever)")
	require.NoError(t, s.Complete(ctx, "evt_forever", "tok", time.Now(), 1<<63-1), "Complete(retention forever)")
	assert.GreaterOrEqual(t, rdb.PTTL(ctx, s.Key("evt_forever")).Val(), 290*365*24*time.Hour, "TTL for retention forever, want about 292 years")
}

// With the Deduper's real clock, the retention window ends when Redis drops the key.
func TestRetentionEndsWithTheKey(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t, redisAddr(t))
	s := newStore(t, rdb, newPrefix(t, rdb))
	d := webhook.NewDeduper(s, webhook.WithRetention(200*time.Millisecond))
	runs := 0
	fn := func(context.Context) error { runs++; return nil }
	require.NoError(t, d.Do(ctx, "evt", fn))
	require.ErrorIs(t, d.Do(ctx, "evt", fn), webhook.ErrDuplicate, "within retention")
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Exists(ctx, s.Key("evt")).Val() == 1 {
		require.False(t, time.Now().After(deadline), "the completed key outlived its 200ms retention by 10s")
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, d.Do(ctx, "evt", fn), "after retention")
	require.Equal(t, 2, runs, "after retention: want a second run")
}

// A key with a value this store did not write (a prefix shared with other data) is reported,
// never overwritten.
func TestForeignValueIsAnError(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t, redisAddr(t))
	s := newStore(t, rdb, newPrefix(t, rdb))
	require.NoError(t, rdb.Set(ctx, s.Key("evt"), "someone else's", 0).Err())
	r, err := s.Claim(ctx, "evt", "tok", time.Now(), time.Minute)
	require.Error(t, err, "Claim over a foreign value = %v, want an error", r)
	require.ErrorIs(t, s.Complete(ctx, "evt", "tok", time.Now(), time.Hour), webhook.ErrClaimLost, "Complete over a foreign value")
	require.Equal(t, "someone else's", rdb.Get(ctx, s.Key("evt")).Val(), "foreign value changed")
}

func TestCancelledContext(t *testing.T) {
	rdb := newClient(t, redisAddr(t))
	s := newStore(t, rdb, newPrefix(t, rdb))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Claim(ctx, "evt", "tok", time.Now(), time.Minute)
	require.ErrorIs(t, err, context.Canceled, "Claim with cancelled ctx")
}

// replicas returns two Dedupers sharing prefix through separate clients (connection pools),
// as two replicas of a service would.
func replicas(t *testing.T, opts ...webhook.DedupeOption) [2]*webhook.Deduper {
	addr := redisAddr(t)
	a, b := newClient(t, addr), newClient(t, addr)
	prefix := newPrefix(t, a)
	return [2]*webhook.Deduper{
		webhook.NewDeduper(newStore(t, a, prefix), opts...),
		webhook.NewDeduper(newStore(t, b, prefix), opts...),
	}
}

// Two replicas, one event id, 50 concurrent deliveries: the handler runs once.
func TestTwoReplicasOneIDRunsOnce(t *testing.T) {
	dd := replicas(t)
	ctx := context.Background()
	const deliveries = 50
	var runs atomic.Int32
	results := make(chan error, deliveries)
	start := make(chan struct{})
	for i := 0; i < deliveries; i++ {
		go func(d *webhook.Deduper) {
			<-start
			results <- d.Do(ctx, "evt_race", func(context.Context) error {
				runs.Add(1)
				time.Sleep(5 * time.Millisecond) // hold the claim so deliveries overlap
				return nil
			})
		}(dd[i%2])
	}
	close(start)
	var ok, dup, inflight int
	for i := 0; i < deliveries; i++ {
		switch err := <-results; {
		case err == nil:
			ok++
		case errors.Is(err, webhook.ErrDuplicate):
			dup++
		case errors.Is(err, webhook.ErrInFlight):
			inflight++
		default:
			require.Failf(t, "unexpected result", "%v", err)
		}
	}
	require.Equal(t, int32(1), runs.Load(), "runs, want one")
	require.Equal(t, 1, ok, "ok=%d duplicate=%d in_flight=%d", ok, dup, inflight)
	require.Equal(t, deliveries-1, dup+inflight, "ok=%d duplicate=%d in_flight=%d", ok, dup, inflight)
}

// Two replicas receive every delivery of every event until it is acknowledged, the way a
// provider retries; every fourth handler fails on its first run. Every event is processed
// successfully exactly once.
func TestTwoReplicasRedeliveryUntilAcknowledged(t *testing.T) {
	dd := replicas(t)
	const events, workersPerReplica = 20, 4
	var successes, attempts [events]atomic.Int32
	deadline := time.Now().Add(time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 2*workersPerReplica)
	for _, d := range dd {
		for w := 0; w < workersPerReplica; w++ {
			wg.Add(1)
			go func(d *webhook.Deduper) {
				defer wg.Done()
				for ev := 0; ev < events; ev++ {
					fn := func(context.Context) error {
						if attempts[ev].Add(1) == 1 && ev%4 == 0 {
							return errors.New("transient failure")
						}
						time.Sleep(time.Millisecond)
						successes[ev].Add(1)
						return nil
					}
					if err := redeliver(d, fmt.Sprint("evt_", ev), deadline, fn); err != nil {
						errs <- err
						return
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
	for ev := 0; ev < events; ev++ {
		assert.Equal(t, int32(1), successes[ev].Load(), "event %d processed, want exactly once", ev)
	}
}

// redeliver calls d.Do for id until it answers 200 (processed or duplicate), as a provider
// redelivers, and fails once deadline passes.
func redeliver(d *webhook.Deduper, id string, deadline time.Time, fn func(context.Context) error) error {
	for try := 1; ; try++ {
		err := d.Do(context.Background(), id, fn)
		status := webhook.StatusCode(err)
		switch {
		case status == http.StatusOK:
			return nil
		case status != http.StatusServiceUnavailable && status != http.StatusInternalServerError:
			return fmt.Errorf("%s: unexpected result %v (status %d, delivery %d)", id, err, status, try)
		case time.Now().After(deadline):
			return fmt.Errorf("%s: not acknowledged by the deadline after %d deliveries; last result %v (status %d)", id, try, err, status)
		}
		time.Sleep(time.Millisecond)
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
	addr := redisAddr(t)
	a, b := newClient(t, addr), newClient(t, addr)
	prefix := newPrefix(t, a)
	clk := &clock{now: time.Now()}
	storeA := newStore(t, a, prefix)
	dB := webhook.NewDeduper(newStore(t, b, prefix), webhook.WithLease(time.Minute), webhook.WithDedupeClock(clk.Now))
	ctx := context.Background()

	// Replica A claims the event and dies before finishing.
	r, err := storeA.Claim(ctx, "evt", "replica-a", clk.Now(), time.Minute)
	require.NoError(t, err, "A Claim")
	require.Equal(t, webhook.Claimed, r, "A Claim")
	ran := 0
	fn := func(context.Context) error { ran++; return nil }
	clk.Advance(30 * time.Second)
	require.ErrorIs(t, dB.Do(ctx, "evt", fn), webhook.ErrInFlight, "B during A's lease")
	clk.Advance(30 * time.Second)
	require.NoError(t, dB.Do(ctx, "evt", fn), "B after A's lease")
	require.ErrorIs(t, storeA.Complete(ctx, "evt", "replica-a", clk.Now(), time.Hour), webhook.ErrClaimLost, "A completing late")
	require.ErrorIs(t, storeA.Release(ctx, "evt", "replica-a"), webhook.ErrClaimLost, "A releasing late")
	require.ErrorIs(t, dB.Do(ctx, "evt", fn), webhook.ErrDuplicate, "after takeover")
	require.Equal(t, 1, ran, "after takeover: want one run")
}

// The server restarts between a delivery's claim and its completion. Whether the restart
// loses the claim (no persistence) or keeps it (a snapshot taken just before), the event ends up
// processed and acknowledged exactly once: a lost claim makes the completion fail (500), and the
// redelivery runs the handler again.
func TestServerRestartBetweenClaimAndComplete(t *testing.T) {
	for _, keep := range []bool{false, true} {
		name := "claim lost"
		if keep {
			name = "claim kept"
		}
		t.Run(name, func(t *testing.T) {
			srv := startServer(t)
			rdb := redis.NewClient(&redis.Options{
				Addr: srv.addr, MaxRetries: 5, MinRetryBackoff: 10 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond,
			})
			t.Cleanup(func() { rdb.Close() })
			s := newStore(t, rdb, "paykit-test:")
			d := webhook.NewDeduper(s)
			ctx := context.Background()

			runs := 0
			fn := func(ctx context.Context) error {
				runs++
				if runs == 1 {
					if keep {
						assert.NoError(t, rdb.Save(ctx).Err(), "SAVE")
					}
					srv.restart(t)
				}
				return nil
			}
			first := d.Do(ctx, "evt", fn)
			wantRuns := 1
			if keep {
				require.NoError(t, first, "completion after a restart that kept the claim")
			} else {
				require.ErrorIs(t, first, webhook.ErrClaimLost, "completion after a restart that lost the claim")
				require.Equal(t, http.StatusInternalServerError, webhook.StatusCode(first), "completion after a restart that lost the claim")
				// The provider redelivers until it gets a 200: the redelivery runs the handler.
				require.NoError(t, redeliver(d, "evt", time.Now().Add(30*time.Second), fn))
				wantRuns = 2
			}
			for i := 0; i < 3; i++ {
				require.ErrorIs(t, d.Do(ctx, "evt", fn), webhook.ErrDuplicate, "delivery after processing")
			}
			require.Equal(t, wantRuns, runs, "handler runs")
		})
	}
}

// redisServer is a redis-server child process on a loopback port, for restart tests.
type redisServer struct {
	bin, dir, addr string
	cmd            *exec.Cmd
	exited         chan struct{} // closed once cmd has been waited for
	log            *bytes.Buffer // read only after exited is closed
}

// startServer starts a private redis-server from PATH on a free loopback port, stopped when the
// test ends. It skips unless PAYKIT_TEST_REDIS_ADDR is set (the signal that Redis tests should
// run) and redis-server is installed.
func startServer(t *testing.T) *redisServer {
	t.Helper()
	redisAddr(t)
	bin := testenv.LookPath(t, "redis-server", "source .ci/redis.sh, or apt-get install redis-server")
	srv := &redisServer{bin: bin, dir: t.TempDir()}
	t.Cleanup(srv.stop)
	var err error
	for attempt := 0; attempt < 5; attempt++ { // a free port can be taken before we bind it
		if err = srv.startOn(freePort(t)); err == nil {
			return srv
		}
	}
	require.NoError(t, err, "starting %s", bin)
	return nil
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// startOn starts the server on port and waits until it answers PING.
func (s *redisServer) startOn(port string) error {
	s.addr = "127.0.0.1:" + port
	s.log = new(bytes.Buffer)
	s.cmd = exec.Command(s.bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--dbfilename", "dump.rdb", "--daemonize", "no", "--logfile", "")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	s.exited = exited
	go func() { s.cmd.Wait(); close(exited) }()
	rdb := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited: %s", s.log.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("redis-server on %s does not answer PING: %v; log: %s", s.addr, err, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// restart kills the server (like a crash: no shutdown save) and starts it again on the same
// port and data directory.
func (s *redisServer) restart(t *testing.T) {
	t.Helper()
	s.stop()
	_, port, _ := net.SplitHostPort(s.addr)
	var err error
	for attempt := 0; attempt < 50; attempt++ { // the port may linger briefly
		if err = s.startOn(port); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, err, "restarting redis-server")
}

// stop kills the server and waits until it has exited.
func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// A claim retried with the same token (its first reply was lost after the server applied it)
// is the caller's, as in the sqlstore package; another token is still in flight.
func TestRetriedClaimIsTheCallers(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t, redisAddr(t))
	s := newStore(t, rdb, newPrefix(t, rdb))
	now := time.Now()
	for i, want := range []webhook.ClaimResult{webhook.Claimed, webhook.Claimed} {
		r, err := s.Claim(ctx, "evt", "tok", now.Add(time.Duration(i)*time.Second), time.Minute)
		require.NoError(t, err, "Claim #%d", i+1)
		require.Equal(t, want, r, "Claim #%d", i+1)
	}
	r, err := s.Claim(ctx, "evt", "other", now.Add(2*time.Second), time.Minute)
	require.NoError(t, err, "Claim(other token)")
	require.Equal(t, webhook.InFlight, r, "Claim(other token)")
	require.NoError(t, s.Complete(ctx, "evt", "tok", now.Add(3*time.Second), time.Hour))
	r, err = s.Claim(ctx, "evt", "tok", now.Add(4*time.Second), time.Minute)
	require.NoError(t, err, "Claim(tok) after completion")
	require.Equal(t, webhook.Duplicate, r, "Claim(tok) after completion")
}
