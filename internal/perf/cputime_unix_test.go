//go:build unix

package perf_test

import (
	"syscall"
	"time"
)

// cpuNow is the CPU time (user + system) this process has used, and true; rounds compare CPU
// time so that waiting for a core on a loaded machine does not count.
func cpuNow() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
