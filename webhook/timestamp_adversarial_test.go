package webhook

import (
	"strings"
	"testing"

	"github.com/paykit-go/paykit/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The timestamp header is parsed before the signature is checked, so anyone can make the
// verifier read an arbitrary header (net/http accepts up to 1 MiB of headers by default).
// These tests check that every header shape costs time linear in its length: Verify on a
// header four times as long must take about four times as long, not sixteen.

// tsHeaderShapes build headers of about n bytes, each stressing one part of the parser. None
// carries a matching signature, so Verify always reads all of it, for every secret.
var tsHeaderShapes = map[string]func(n int) string{
	// Right-length v1 entries beyond the two parsedHeader keeps: the header is scanned again
	// for each secret.
	"many full v1 entries": func(n int) string {
		entry := ",v1=" + strings.Repeat("ab", 32)
		return "t=1767225600" + strings.Repeat(entry, n/len(entry))
	},
	"many short v1 entries": func(n int) string {
		return "t=1767225600" + strings.Repeat(",v1=00", n/6)
	},
	"many other entries": func(n int) string {
		return "t=1767225600,v1=" + strings.Repeat("cd", 32) + strings.Repeat(",v0=zz", n/6)
	},
	"empty entries": func(n int) string {
		return "t=1767225600" + strings.Repeat(",", n) + "v1=" + strings.Repeat("cd", 32)
	},
	"spaces around entries": func(n int) string {
		return "t=1767225600, " + strings.Repeat(" \t", n/2) + "v1=" + strings.Repeat("cd", 32) + strings.Repeat(" ", n/2)
	},
	"long timestamp": func(n int) string {
		return "t=" + strings.Repeat("0", n) + "1767225600,v1=" + strings.Repeat("cd", 32)
	},
	"long v1 value": func(n int) string {
		return "t=1767225600,v1=" + strings.Repeat("cd", n/2)
	},
	"long unknown entry": func(n int) string {
		return "t=1767225600,v1=" + strings.Repeat("cd", 32) + ",x=" + strings.Repeat("y", n)
	},
}

// TestTimestampHeaderCostIsLinear times Verify (three secrets: the current one and two being
// rotated out) on each header shape at 256 KiB and at 1 MiB: the ratio must stay near 4
// (linear), well below 16 (quadratic). Wall time, the shortest of several interleaved runs
// (testenv.BoundedRatio). The limit, 12, leaves room for cache effects (a 1 MiB header scanned for
// three secrets no longer fits the caches a 256 KiB one does: up to 8.6× was seen on a loaded
// 2-core machine for a linear scan) while a quadratic parser still fails it at 16×.
func TestTimestampHeaderCostIsLinear(t *testing.T) {
	if raceEnabled {
		t.Skip("timings under the race detector mean nothing")
	}
	if testing.Short() {
		t.Skip("times 1 MiB headers")
	}
	const small, large, rounds, runs, limit = 256 << 10, 1 << 20, 5, 5, 12.0
	v := newTestVerifier(t, WithPreviousSecrets(testPrevSecret, "whsec_older"))
	for name, shape := range tsHeaderShapes {
		t.Run(name, func(t *testing.T) {
			hs, hl := shape(small), shape(large)
			errS, errL := v.Verify(testPayload, hs), v.Verify(testPayload, hl)
			require.Error(t, errS, "Verify at %d bytes", len(hs))
			require.Error(t, errL, "Verify at %d bytes", len(hl))
			require.NotErrorIs(t, errS, ErrMissingSignature)
			require.True(t, sameClass(errS, errL), "Verify: %v at %d bytes, %v at %d bytes; want the same refusal", errS, len(hs), errL, len(hl))
			// The time ratio, scaled to exactly four times the length.
			scale := 4 * float64(len(hs)) / float64(len(hl))
			ratio, tl, ts := testenv.BoundedRatio(rounds, runs, limit/scale,
				func() { _ = v.Verify(testPayload, hl) }, func() { _ = v.Verify(testPayload, hs) })
			ratio *= scale
			t.Logf("%v: %d bytes %v, %d bytes %v: x%.2f for 4 times the length", errL, len(hs), ts, len(hl), tl, ratio)
			assert.LessOrEqual(t, ratio, limit, "four times the header took %.1f times as long (limit %v): not linear", ratio, limit)
		})
	}
}

// TestTimestampManyV1EntriesStillMatch checks that the entries beyond the two kept decoded
// are still checked, for every secret: the matching signature comes last, after thousands.
func TestTimestampManyV1EntriesStillMatch(t *testing.T) {
	v := newTestVerifier(t, WithPreviousSecrets(testPrevSecret))
	ts := "1767225600"
	good := Sign(testPrevSecret, ts, testPayload)
	header := "t=" + ts + strings.Repeat(",v1="+strings.Repeat("ab", 32), 5000) + ",v1=" + good
	require.NoError(t, v.Verify(testPayload, header), "the last of 5001 v1 entries matches the previous secret")
}
