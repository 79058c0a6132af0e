//go:build !unix

package webhook_test

import "time"

// processCPUTime is unavailable here; CPU-time metrics then read 0.
func processCPUTime() time.Duration { return 0 }
