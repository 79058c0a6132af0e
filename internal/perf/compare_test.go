package perf_test

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

var (
	rounds  = flag.Int("perf.rounds", 15, "rounds per comparison; each round runs both contenders once")
	chunk   = flag.Duration("perf.chunk", 20*time.Millisecond, "approximate length of one contender's chunk")
	perfRun = flag.String("perf.run", "", "only comparisons whose path contains this text")
)

// comparison is one row of the table: subject (paykit) against baseline (the floor), each run
// for n operations at a time.
type comparison struct {
	path string
	// target is the promise: subject cost ÷ baseline cost ≤ target, or, with throughput set,
	// baseline cost ÷ subject cost (the subject's throughput relative to the floor) ≥ target.
	target     float64
	throughput bool
	// fixed runs both contenders with n = 1 (one call is a whole workload, such as a list
	// iteration), without calibrating the chunk length.
	fixed bool
	// meter, when set, replaces this process's CPU time as the measure of cost: a cumulative
	// reading (CPU time including a local server's, or elapsed time) for workloads whose cost
	// is mostly a server's.
	meter func() time.Duration
	// info marks a row whose target is informational (a peer library rather than the floor): its
	// status says how it compares, and it does not count as a missed target.
	info bool
	// control marks a row whose two contenders are the same code (the floor against itself): its
	// spread shows how far this machine moves a ratio that is 1 by construction, for reading
	// the rows around it. It has no target.
	control bool
	// chunk overrides -perf.chunk for rows whose operations are slow or batched (0: the flag).
	chunk time.Duration
	// collect starts every chunk from a collected heap, for rows that allocate much per
	// operation, so that neither contender pays for the other's garbage. A collection also
	// empties every sync.Pool, so rows whose speed comes from pooled state leave it off (a
	// collection every chunk would charge them a cold start that production does not pay).
	collect bool
	// prepare, when set, runs untimed before every chunk of either contender (building the
	// chunk's inputs, fresh stores), so that neither side pays for making its inputs.
	prepare           func(n int)
	subject, baseline func(n int) error
	// note explains a row that could not run (a missing server).
	note string
}

// result is a comparison's outcome over all rounds.
type result struct {
	median, p25, p75 float64
	rounds           int
	err              error
}

// cost runs fn for n operations and returns the CPU time it used (wall time where the
// platform cannot tell CPU time), or what meter counted while it ran.
func cost(fn func(int) error, n int, meter func() time.Duration) (time.Duration, error) {
	if meter != nil {
		m0 := meter()
		err := fn(n)
		return meter() - m0, err
	}
	c0, cpu := cpuNow()
	w0 := time.Now()
	err := fn(n)
	if cpu {
		c1, _ := cpuNow()
		return c1 - c0, err
	}
	return time.Since(w0), err
}

// cost measures one chunk of fn under c (see comparison.prepare).
func (c comparison) cost(fn func(int) error, n int) (time.Duration, error) {
	if c.prepare != nil {
		c.prepare(n)
	}
	if c.collect {
		runtime.GC()
	}
	return cost(fn, n, c.meter)
}

// calibrate returns the number of operations fn needs to take about one chunk of c.
func (c comparison) calibrate(fn func(int) error) (int, error) {
	target := *chunk
	if c.chunk > 0 {
		target = c.chunk
	}
	n := 1
	for {
		d, err := c.cost(fn, n)
		if err != nil {
			return 0, err
		}
		if d >= target/4 || n >= 1<<24 {
			if d <= 0 {
				return n, nil
			}
			scaled := int(float64(n) * float64(target) / float64(d))
			return max(1, scaled), nil
		}
		n *= 4
	}
}

// run measures c: calibrated chunks of each contender, alternating which goes first, and the
// per-round ratio of their cost per operation.
func (c comparison) run() result {
	ns, nb := 1, 1
	if !c.fixed {
		var err error
		if ns, err = c.calibrate(c.subject); err != nil {
			return result{err: fmt.Errorf("subject: %w", err)}
		}
		if nb, err = c.calibrate(c.baseline); err != nil {
			return result{err: fmt.Errorf("baseline: %w", err)}
		}
	} else if _, err := c.cost(c.subject, 1); err != nil { // warm up
		return result{err: err}
	} else if _, err := c.cost(c.baseline, 1); err != nil {
		return result{err: err}
	}
	var ratios []float64
	for r := 0; r < *rounds; r++ {
		var ts, tb time.Duration
		var err error
		first, second := func() { ts, err = c.cost(c.subject, ns) }, func() {
			if err == nil {
				tb, err = c.cost(c.baseline, nb)
			}
		}
		if r%2 == 1 {
			first, second = func() { tb, err = c.cost(c.baseline, nb) }, func() {
				if err == nil {
					ts, err = c.cost(c.subject, ns)
				}
			}
		}
		first()
		second()
		if err != nil {
			return result{err: err}
		}
		if ts <= 0 || tb <= 0 {
			continue // below the clock's resolution: no information in this round
		}
		ratio := (float64(ts) / float64(ns)) / (float64(tb) / float64(nb))
		if c.throughput {
			ratio = 1 / ratio
		}
		ratios = append(ratios, ratio)
	}
	if len(ratios) == 0 {
		return result{err: fmt.Errorf("no round measured anything")}
	}
	slices.Sort(ratios)
	q := func(p float64) float64 { return ratios[int(p*float64(len(ratios)-1)+0.5)] }
	return result{median: q(0.5), p25: q(0.25), p75: q(0.75), rounds: len(ratios)}
}

// met reports whether r keeps c's promise.
func (c comparison) met(r result) bool {
	if c.throughput {
		return r.median >= c.target
	}
	return r.median <= c.target
}

func (c comparison) targetText() string {
	if c.throughput {
		return fmt.Sprintf("≥ %.2f×", c.target)
	}
	return fmt.Sprintf("≤ %.2f×", c.target)
}

// BenchmarkCompare runs every comparison and prints the table. Run it with -benchtime 1x: one
// iteration already alternates the contenders over -perf.rounds rounds.
func BenchmarkCompare(b *testing.B) {
	for i := 0; i < b.N; i++ {
		rows := allComparisons(b)
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		printHeader(tw)
		missed := 0
		for _, c := range rows {
			if *perfRun != "" && !strings.Contains(c.path, *perfRun) {
				continue
			}
			if c.note != "" {
				fmt.Fprintf(tw, "%s\t–\t–\t%s\tnot run: %s\n", c.path, c.targetText(), c.note)
				continue
			}
			r := c.run()
			if r.err != nil {
				b.Errorf("%s: %v", c.path, r.err)
				continue
			}
			if c.control {
				fmt.Fprintf(tw, "%s	%.2f×	%.2f–%.2f (%d rounds)	–	control: identical contenders\n", c.path, r.median, r.p25, r.p75, r.rounds)
				continue
			}
			status := "target met"
			switch {
			case c.info && c.met(r):
				status = "informational: within"
			case c.info:
				status = "informational: above"
			case !c.met(r):
				status, missed = "MISSED", missed+1
			}
			fmt.Fprintf(tw, "%s\t%.2f×\t%.2f–%.2f (%d rounds)\t%s\t%s\n", c.path, r.median, r.p25, r.p75, r.rounds, c.targetText(), status)
		}
		tw.Flush()
		fmt.Printf("\n%d target(s) missed; ratios are CPU time per operation, paykit ÷ floor or peer (throughput rows: paykit's throughput ÷ the floor's; rows with CPU incl. PostgreSQL add its backends' CPU time).\n", missed)
		for _, m := range extraMetrics(b) {
			fmt.Println(m)
		}
	}
}

func printHeader(w io.Writer) {
	fmt.Fprintln(w, "path\tmedian\tp25–p75\ttarget\tstatus")
	fmt.Fprintln(w, "----\t------\t-------\t------\t------")
}

// allComparisons builds every row; servers they start are closed when b ends.
func allComparisons(b *testing.B) []comparison {
	var rows []comparison
	rows = append(rows, clientComparisons(b)...)
	rows = append(rows, listComparison(b))
	rows = append(rows, dedupeComparisons(b)...)
	rows = append(rows, sqlStoreComparison(b))
	rows = append(rows, verifyComparisons(b)...)
	return rows
}
