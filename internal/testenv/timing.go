package testenv

import (
	"runtime"
	"time"
)

// WallTime returns how long fn took.
func WallTime(fn func()) time.Duration {
	t0 := time.Now()
	fn()
	return time.Since(t0)
}

// GCWallTime is WallTime after a collection, so that one run's garbage (adversarial-cost tests
// leave megabytes) is not collected on the next run's time.
func GCWallTime(fn func()) time.Duration {
	runtime.GC()
	return WallTime(fn)
}

// BoundedRatio reports the least ratio of the times of adv and benign, measured interleaved in
// up to rounds rounds of runs runs each, stopping as soon as it is at most limit, with the two
// shortest times. Load on the machine only ever adds time, and rarely to every run of every
// round, while a cost that grows faster than its input exceeds the limit in all of them. The
// linear-cost tests of the webhook verifiers use it.
func BoundedRatio(rounds, runs int, limit float64, adv, benign func()) (ratio float64, ta, tb time.Duration) {
	ta, tb = time.Duration(1<<63-1), time.Duration(1<<63-1)
	for range rounds {
		for range runs {
			ta = min(ta, GCWallTime(adv))
			tb = min(tb, GCWallTime(benign))
		}
		if ratio = float64(ta) / float64(tb); ratio <= limit {
			break
		}
	}
	return ratio, ta, tb
}
