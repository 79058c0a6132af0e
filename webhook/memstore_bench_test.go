package webhook_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paykit-go/paykit/webhook"
	"github.com/stretchr/testify/require"
)

// BenchmarkMemoryStoreDoParallel runs Deduper.Do over distinct ids from all Ps (claim, run a
// no-op handler, complete): the full path of a first delivery. Target ≥ 1 M ops/s on 2 cores.
// Besides wall-clock ops/s it reports cpu-ns/op (process CPU time, GC included, per Do) and
// cpu-bound-ops/s = GOMAXPROCS / cpu-ns/op: the throughput when the process has its cores to
// itself, which wall time cannot show on a loaded machine.
func BenchmarkMemoryStoreDoParallel(b *testing.B) {
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	ctx := context.Background()
	noop := func(context.Context) error { return nil }
	var worker atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	b.RunParallel(func(pb *testing.PB) {
		prefix := "evt_" + strconv.FormatInt(worker.Add(1), 10) + "_"
		buf := []byte(prefix)
		for i := 0; pb.Next(); i++ {
			id := string(strconv.AppendInt(buf[:len(prefix)], int64(i), 10))
			if err := d.Do(ctx, id, noop); err != nil {
				b.Fatal(err)
			}
		}
	})
	reportThroughput(b, processCPUTime()-cpu0)
}

// BenchmarkMemoryStoreDuplicateParallel measures the redelivery path: Do on ids already
// completed (ErrDuplicate, handler not run).
func BenchmarkMemoryStoreDuplicateParallel(b *testing.B) {
	d := webhook.NewDeduper(webhook.NewMemoryStore())
	ctx := context.Background()
	noop := func(context.Context) error { return nil }
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = fmt.Sprintf("evt_%08d", i)
		require.NoError(b, d.Do(ctx, ids[i], noop))
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if err := d.Do(ctx, ids[i&(len(ids)-1)], noop); err != webhook.ErrDuplicate {
				b.Fatal(err)
			}
		}
	})
	reportThroughput(b, processCPUTime()-cpu0)
}

// BenchmarkMemoryStoreBytesPerID measures the heap a MemoryStore holds per remembered
// (completed) id, with 36-character UUID-style ids like JoPay's delivery_id; the id bytes
// themselves are included. Reported as "B/id".
func BenchmarkMemoryStoreBytesPerID(b *testing.B) {
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0b7d-4c3e-9a51-%012x", i, i*7919) // 36 chars
	}
	ctx := context.Background()
	now := time.Unix(1767225600, 0)
	var perID float64
	for it := 0; it < b.N; it++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := webhook.NewMemoryStore()
		for _, id := range ids {
			// Copy the id as a store receiving it from a request body would own it.
			key := string([]byte(id))
			if _, err := s.Claim(ctx, key, "token", now, time.Minute); err != nil {
				b.Fatal(err)
			}
			if err := s.Complete(ctx, key, "token", now, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perID = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perID, "B/id")
}

// reportThroughput reports wall-clock ops/s and, from the CPU time used, cpu-ns/op and the
// CPU-bound throughput on GOMAXPROCS dedicated cores.
func reportThroughput(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	if cpu > 0 {
		perOp := float64(cpu.Nanoseconds()) / float64(b.N)
		b.ReportMetric(perOp, "cpu-ns/op")
		b.ReportMetric(float64(runtime.GOMAXPROCS(0))*1e9/perOp, "cpu-bound-ops/s")
	}
}
