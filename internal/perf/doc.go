// Package perf holds paykit's side-by-side performance comparison: each hot path against the
// floor a hand-written integration would run (bare net/http + encoding/json, a pre-keyed HMAC, a
// sharded map, the two SQL statements of a dedupe through pgxpool) or a peer library (resty v2,
// stripe-go's webhook package), measured in the same process with the two contenders
// alternating in short chunks over many rounds, and reported as the median of the per-round
// ratios with its spread. A shared, noisy 2-core machine varies by ±50% between runs; the
// ratio of neighbouring chunks does not. Costs are this process's CPU time; the PostgreSQL row
// adds the CPU time of the server's backends for its connections when the server is local (and
// falls back to elapsed time when it is not), and is not run without PAYKIT_TEST_POSTGRES_DSN.
//
// Run the whole comparison (about half a minute) and print the table with "target met" or
// "MISSED" beside every ratio (informational rows, against peers, say "within" or "above"; the
// control row, the bare loopback GET against itself, shows how far noise alone moves a ratio):
//
//	go test ./internal/perf -run '^$' -bench Compare -benchtime 1x
//
// Flags: -perf.rounds (default 15), -perf.chunk (default 20ms), -perf.run (only rows whose
// path contains the text).
//
// The package has no API; its code is in its tests.
package perf
