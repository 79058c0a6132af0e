package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paykit-go/paykit/internal/testenv"
	"github.com/paykit-go/paykit/webhook"
	"github.com/stretchr/testify/require"
)

// BenchmarkDo measures Deduper.Do over this store, each op a new event id (claim, run a no-op
// handler, complete), at 1, 8 and 32 concurrent callers. Each "floor" sub-benchmark sends the
// same commands straight through go-redis (SET NX PX, then EVALSHA of the completion script,
// with precomputed arguments): the ratio store/floor is the cost this package and the Deduper
// add on top of the round trips. Target: store/floor ≤ 1.1× at every concurrency.
//
//	source .ci/redis.sh && go test ./webhook/redisstore -run '^$' -bench Do -benchtime 20000x
func BenchmarkDo(b *testing.B) {
	addr := testenv.Getenv(b, "PAYKIT_TEST_REDIS_ADDR", "source .ci/redis.sh to start Redis")
	ctx := context.Background()
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}, PoolSize: 64})
	defer rdb.Close()
	require.NoError(b, rdb.Ping(ctx).Err(), "Redis at %s unreachable", addr)
	var r [6]byte
	_, err := rand.Read(r[:])
	require.NoError(b, err)
	prefix := "paykit-bench:" + hex.EncodeToString(r[:]) + ":"
	defer func() { // the keys would expire within a minute anyway
		for iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator(); iter.Next(ctx); {
			rdb.Unlink(ctx, iter.Val())
		}
	}()
	const retention = time.Minute
	runs := 0 // every sub-benchmark run gets fresh ids
	runPrefix := func() string { runs++; return prefix + strconv.Itoa(runs) + ":" }

	for _, c := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("store/c=%d", c), func(b *testing.B) {
			s, err := New(rdb, WithPrefix(runPrefix()))
			require.NoError(b, err)
			d := webhook.NewDeduper(s, webhook.WithRetention(retention))
			noop := func(context.Context) error { return nil }
			concurrently(b, rdb, c, func(i int64) error {
				return d.Do(ctx, "evt_"+strconv.FormatInt(i, 10), noop)
			})
		})
		b.Run(fmt.Sprintf("floor/c=%d", c), func(b *testing.B) {
			keyPrefix := runPrefix()
			complete := redis.NewScript(completeScript)
			const token = "0123456789abcdef0123456789abcdef"
			now := unixMicro(time.Now())
			claimed := encode(stateClaimed, addMicros(now, webhook.DefaultLease), token)
			completed := encode(stateCompleted, addMicros(now, retention), "")
			ttl, retentionMs := claimTTL(webhook.DefaultLease), ttlMillis(positiveTTL(retention))
			concurrently(b, rdb, c, func(i int64) error {
				key := keyPrefix + "evt_" + strconv.FormatInt(i, 10)
				if err := rdb.SetNX(ctx, key, claimed, ttl).Err(); err != nil {
					return err
				}
				return complete.Run(ctx, rdb, []string{key}, token, completed, retentionMs).Err()
			})
		})
	}
}

// concurrently runs op for i = 0 .. b.N-1 from c goroutines, after opening c connections so
// that neither side of a comparison pays for dialing.
func concurrently(b *testing.B, rdb redis.UniversalClient, c int, op func(i int64) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c)
	for g := 0; g < c; g++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- rdb.Ping(context.Background()).Err() }()
	}
	wg.Wait()
	for g := 0; g < c; g++ {
		require.NoError(b, <-errs)
	}
	b.ResetTimer()
	for g := 0; g < c; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				if err := op(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		require.NoError(b, err)
	}
}
