//go:build race

package sortedjson

// raceEnabled reports a -race build, where the detector's instrumentation allocates and
// allocation counts are meaningless.
const raceEnabled = true
