package webhook

import (
	"runtime"
	"time"
)

// Timing helpers of the adversarial-cost tests.

func wallTimeOf(fn func()) time.Duration {
	t0 := time.Now()
	fn()
	return time.Since(t0)
}

// gcTimeOf is wallTimeOf after a collection, so that one run's garbage (these bodies leave
// megabytes) is not collected on the next run's time.
func gcTimeOf(fn func()) time.Duration {
	runtime.GC()
	return wallTimeOf(fn)
}

// boundedRatio reports the least ratio of the times of adv and benign, measured interleaved
// in up to rounds rounds of runs runs each, stopping as soon as it is at most limit. Load on
// the machine only ever adds time, and rarely to every run of every round, while a cost that
// grows faster than the body (seconds at 1 MiB before the fixes) exceeds the limit in all.
func boundedRatio(rounds, runs int, limit float64, adv, benign func()) (ratio float64, ta, tb time.Duration) {
	ta, tb = time.Duration(1<<63-1), time.Duration(1<<63-1)
	for range rounds {
		for range runs {
			ta = min(ta, gcTimeOf(adv))
			tb = min(tb, gcTimeOf(benign))
		}
		if ratio = float64(ta) / float64(tb); ratio <= limit {
			break
		}
	}
	return ratio, ta, tb
}
