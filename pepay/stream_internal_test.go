package pepay

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The stream's dedupe window holds the n most recent ids: adding one more forgets the oldest,
// and its memory stays at n entries however many ids pass through.
func TestIDWindow_holdsTheLastN(t *testing.T) {
	const n = 5
	w := newIDWindow(n)
	id := func(i int) string { return "evt_" + strconv.Itoa(i) }
	for i := range 3 * n {
		w.add(id(i))
		for j := 0; j <= i; j++ {
			if want := j > i-n; w.has(id(j)) != want {
				t.Fatalf("after adding %d ids, has(%s) = %v, want %v", i+1, id(j), !want, want)
			}
		}
		require.LessOrEqual(t, len(w.set), n, "after adding %d ids the window holds %d ids in %d slots, want at most %d", i+1, len(w.set), len(w.ids), n)
		require.Len(t, w.ids, n, "after adding %d ids the window holds %d ids in %d slots, want at most %d", i+1, len(w.set), len(w.ids), n)
	}
	got := newIDWindow(0)
	assert.Len(t, got.ids, DefaultDedupeWindow, "a zero size gives %d slots, want DefaultDedupeWindow", len(got.ids))
}
