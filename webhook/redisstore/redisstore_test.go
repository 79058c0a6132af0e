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
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s unreachable: %v", addr, err)
	}
	return rdb
}

// newPrefix returns a key prefix unique to the test; its keys are deleted when the test ends.
func newPrefix(t testing.TB, rdb redis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
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
			if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
				t.Errorf("deleting test keys: %v", err)
			}
			batch = batch[:0]
		}
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 1000 {
			flush()
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scanning test keys: %v", err)
	}
	flush()
}

func newStore(t testing.TB, rdb redis.UniversalClient, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNew(t *testing.T) {
	if _, err := redisstore.New(nil); err == nil {
		t.Error("New(nil) accepted")
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // New does not connect
	defer rdb.Close()
	s, err := redisstore.New(rdb)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 2000)
	if got, want := s.Key("evt_1"), redisstore.DefaultPrefix+"evt_1"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	if got, want := s.Key(long), redisstore.DefaultPrefix+webhook.StoreKey(long); got != want {
		t.Errorf("Key(long) = %q, want %q", got, want)
	}
	s, err = redisstore.New(rdb, redisstore.WithPrefix(""), nil)
	if err != nil || s.Key("evt") != "evt" {
		t.Errorf("WithPrefix(\"\"): Key = %q, %v", s.Key("evt"), err)
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
	if r, err := s.Claim(ctx, id, "tok", time.Now(), 30*time.Second); err != nil || r != webhook.Claimed {
		t.Fatalf("Claim = %v, %v", r, err)
	}
	if ttl := rdb.PTTL(ctx, s.Key(id)).Val(); ttl <= 89*time.Second || ttl > 90*time.Second {
		t.Errorf("claim TTL = %v, want 90s (30s lease + 1 min)", ttl)
	}
	if err := s.Complete(ctx, id, "tok", time.Now(), 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, s.Key(id)).Val(); ttl <= 2*time.Hour-time.Second || ttl > 2*time.Hour {
		t.Errorf("completed TTL = %v, want 2h (the retention)", ttl)
	}
	if n := rdb.StrLen(ctx, s.Key(id)).Val(); n != 21 {
		t.Errorf("completed value is %d bytes, want 21", n)
	}

	// Huge durations saturate instead of making Redis refuse the TTL.
	if r, err := s.Claim(ctx, "evt_forever", "tok", time.Now(), 1<<63-1); err != nil || r != webhook.Claimed {
		t.Fatalf("Claim(lease forever) = %v, %v", r, err)
	}
	if err := s.Complete(ctx, "evt_forever", "tok", time.Now(), 1<<63-1); err != nil {
		t.Fatalf("Complete(retention forever): %v", err)
	}
	if ttl := rdb.PTTL(ctx, s.Key("evt_forever")).Val(); ttl < 290*365*24*time.Hour {
		t.Errorf("TTL for retention forever = %v, want about 292 years", ttl)
	}
}

// With the Deduper's real clock, the retention window ends when Redis drops the key.
func TestRetentionEndsWithTheKey(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t, redisAddr(t))
	s := newStore(t, rdb, newPrefix(t, rdb))
	d := webhook.NewDeduper(s, webhook.WithRetention(200*time.Millisecond))
	runs := 0
	fn := func(context.Context) error { runs++; return nil }
	if err := d.Do(ctx, "evt", fn); err != nil {
		t.Fatal(err)
	}
	if err := d.Do(ctx, "evt", fn); !errors.Is(err, webhook.ErrDuplicate) {
		t.Fatalf("within retention = %v, want ErrDuplicate", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Exists(ctx, s.Key("evt")).Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("the completed key outlived its 200ms retention by 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := d.Do(ctx, "evt", fn); err != nil || runs != 2 {
		t.Fatalf("after retention = %v (runs %d), want a second run", err, runs)
	}
}

// A key with a value this store did not write (a prefix shared with other data) is reported,
// never overwritten.
func TestForeignValueIsAnError(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t, redisAddr(t))
	s := newStore(t, rdb, newPrefix(t, rdb))
	if err := rdb.Set(ctx, s.Key("evt"), "someone else's", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Claim(ctx, "evt", "tok", time.Now(), time.Minute); err == nil {
		t.Fatalf("Claim over a foreign value = %v, want an error", r)
	}
	if err := s.Complete(ctx, "evt", "tok", time.Now(), time.Hour); !errors.Is(err, webhook.ErrClaimLost) {
		t.Fatalf("Complete over a foreign value = %v, want ErrClaimLost", err)
	}
	if v := rdb.Get(ctx, s.Key("evt")).Val(); v != "someone else's" {
		t.Fatalf("foreign value changed to %q", v)
	}
}

func TestCancelledContext(t *testing.T) {
	rdb := newClient(t, redisAddr(t))
	s := newStore(t, rdb, newPrefix(t, rdb))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Claim(ctx, "evt", "tok", time.Now(), time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("Claim with cancelled ctx = %v, want context.Canceled", err)
	}
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
			t.Fatalf("unexpected result %v", err)
		}
	}
	if runs.Load() != 1 || ok != 1 || dup+inflight != deliveries-1 {
		t.Fatalf("runs=%d ok=%d duplicate=%d in_flight=%d; want one run", runs.Load(), ok, dup, inflight)
	}
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
		t.Fatal(err)
	}
	for ev := 0; ev < events; ev++ {
		if got := successes[ev].Load(); got != 1 {
			t.Errorf("event %d processed %d times, want exactly 1", ev, got)
		}
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
	if r, err := storeA.Claim(ctx, "evt", "replica-a", clk.Now(), time.Minute); err != nil || r != webhook.Claimed {
		t.Fatalf("A Claim = %v, %v", r, err)
	}
	ran := 0
	fn := func(context.Context) error { ran++; return nil }
	clk.Advance(30 * time.Second)
	if err := dB.Do(ctx, "evt", fn); !errors.Is(err, webhook.ErrInFlight) {
		t.Fatalf("B during A's lease = %v, want ErrInFlight", err)
	}
	clk.Advance(30 * time.Second)
	if err := dB.Do(ctx, "evt", fn); err != nil {
		t.Fatalf("B after A's lease = %v, want takeover", err)
	}
	if err := storeA.Complete(ctx, "evt", "replica-a", clk.Now(), time.Hour); !errors.Is(err, webhook.ErrClaimLost) {
		t.Fatalf("A completing late = %v, want ErrClaimLost", err)
	}
	if err := storeA.Release(ctx, "evt", "replica-a"); !errors.Is(err, webhook.ErrClaimLost) {
		t.Fatalf("A releasing late = %v, want ErrClaimLost", err)
	}
	if err := dB.Do(ctx, "evt", fn); !errors.Is(err, webhook.ErrDuplicate) || ran != 1 {
		t.Fatalf("after takeover = %v (ran %d), want ErrDuplicate and one run", err, ran)
	}
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
						if err := rdb.Save(ctx).Err(); err != nil {
							t.Errorf("SAVE: %v", err)
						}
					}
					srv.restart(t)
				}
				return nil
			}
			first := d.Do(ctx, "evt", fn)
			wantRuns := 1
			if keep {
				if first != nil {
					t.Fatalf("completion after a restart that kept the claim = %v, want nil", first)
				}
			} else {
				if !errors.Is(first, webhook.ErrClaimLost) || webhook.StatusCode(first) != http.StatusInternalServerError {
					t.Fatalf("completion after a restart that lost the claim = %v, want ErrClaimLost answered 500", first)
				}
				// The provider redelivers until it gets a 200: the redelivery runs the handler.
				if err := redeliver(d, "evt", time.Now().Add(30*time.Second), fn); err != nil {
					t.Fatal(err)
				}
				wantRuns = 2
			}
			for i := 0; i < 3; i++ {
				if err := d.Do(ctx, "evt", fn); !errors.Is(err, webhook.ErrDuplicate) {
					t.Fatalf("delivery after processing = %v, want ErrDuplicate", err)
				}
			}
			if runs != wantRuns {
				t.Fatalf("handler ran %d times, want %d", runs, wantRuns)
			}
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
	t.Fatalf("starting %s: %v", bin, err)
	return nil
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
	t.Fatalf("restarting redis-server: %v", err)
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
		if r, err := s.Claim(ctx, "evt", "tok", now.Add(time.Duration(i)*time.Second), time.Minute); err != nil || r != want {
			t.Fatalf("Claim #%d = %v, %v; want %v", i+1, r, err, want)
		}
	}
	if r, err := s.Claim(ctx, "evt", "other", now.Add(2*time.Second), time.Minute); err != nil || r != webhook.InFlight {
		t.Fatalf("Claim(other token) = %v, %v; want in flight", r, err)
	}
	if err := s.Complete(ctx, "evt", "tok", now.Add(3*time.Second), time.Hour); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Claim(ctx, "evt", "tok", now.Add(4*time.Second), time.Minute); err != nil || r != webhook.Duplicate {
		t.Fatalf("Claim(tok) after completion = %v, %v; want duplicate", r, err)
	}
}
