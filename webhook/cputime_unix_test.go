//go:build unix

package webhook_test

import (
	"syscall"
	"time"
)

// processCPUTime is the user+system CPU time this process has used. Benchmarks report CPU
// time per operation next to wall time, so throughput can be judged on a machine shared with
// other work (where wall time mostly measures waiting for a core).
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
