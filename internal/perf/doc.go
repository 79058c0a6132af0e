// Package perf holds paykit's side-by-side performance comparison: each hot path against the
// floor a hand-written integration would run (bare net/http + encoding/json, a pre-keyed HMAC, a
// sharded map), measured in the same process with the two contenders alternating in short
// chunks over many rounds, and reported as the median of the per-round ratios with its spread.
// A shared, noisy 2-core machine varies by ±50% between runs; the ratio of neighbouring chunks
// does not.
//
// Run the whole comparison (about a minute) and print the table with "target met" or "MISSED"
// beside every ratio:
//
//	go test ./internal/perf -run '^$' -bench Compare -benchtime 1x
//
// The package has no API; its code is in its tests.
package perf
