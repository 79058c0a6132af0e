//go:build race

package webhook

// raceEnabled reports a -race build, where the detector's instrumentation allocates and
// allocation counts are meaningless.
const raceEnabled = true
