//go:build unix

package transport

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the whole process has used: client and server share
// the process, so the difference between the two variants is the client's cost.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
