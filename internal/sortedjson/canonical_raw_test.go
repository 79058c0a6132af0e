package sortedjson

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNodeRawMatchesNodeSpan checks the raw marks the parser sets on scalar values against
// nodeSpan, the definition they cache: a marked value must have exactly the span nodeSpan
// gives, and every value (a node that is not an object key) nodeSpan gives a span for must be
// marked.
func TestNodeRawMatchesNodeSpan(t *testing.T) {
	g := newJSONGen(0x5eed)
	var d sjDoc
	checked := 0
	for range 3000 {
		body := g.doc()
		if d.parse(body) != nil {
			continue
		}
		isKey := make([]bool, len(d.nodes))
		for i := range d.nodes {
			if n := &d.nodes[i]; n.kind == kindObject {
				for child, k := int32(i+1), uint32(0); k < n.n; k++ {
					isKey[child] = true
					child = int32(d.nodes[child+1].end)
				}
			}
		}
		for i := range d.nodes {
			n := &d.nodes[i]
			s, e := d.nodeSpan(n)
			if n.raw != 0 {
				q := int(n.raw >> 1)
				rs, re := int(n.off)-q, int(n.off+n.n)+q
				require.Equal(t, s, rs, "%s: node %d marked raw %d, span [%d,%d), nodeSpan [%d,%d)", body, i, n.raw, rs, re, s, e)
				require.Equal(t, e, re, "%s: node %d marked raw %d, span [%d,%d), nodeSpan [%d,%d)", body, i, n.raw, rs, re, s, e)
			} else if s < e && !isKey[i] {
				t.Fatalf("%s: value node %d not marked raw, nodeSpan [%d,%d)", body, i, s, e)
			}
			checked++
		}
	}
	require.GreaterOrEqual(t, checked, 10000, "only %d nodes checked", checked)
}
