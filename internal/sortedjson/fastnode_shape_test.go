package sortedjson

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shapeKeys are keys of every length the remembered shapes treat differently: up to 8, 16
// and 24 bytes (predicted and compared word by word) and longer (scanned), several sharing
// their first 8 or 16 bytes.
var shapeKeys = []string{
	"a", "z", "sku", "currency", "payment_", "payment_id", "payment_status", "payment_extra_ids",
	"payment_extra_id", "actually_paid", "actually_paid_at_fiat", "k0123456789abcde",
	"k0123456789abcdef", "k0123456789abcdefghijklm", "k0123456789abcdefghijklmn",
	"k0123456789abcdefghijklmno", "k0123456789abcdefXhijklmno", "outcome_amount", "outcome_currency",
}

// shapeBody writes an object of the given keys in order, each value a small number, with
// indentation when pretty.
func shapeBody(keys []string, pretty bool) []byte {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte(',')
		}
		if pretty {
			sb.WriteString("\n  ")
		}
		sb.WriteString(`"` + k + `":`)
		if pretty {
			sb.WriteByte(' ')
		}
		sb.WriteString([]string{`1`, `"v"`, `9.10`, `[1,2]`, `{"b":1,"a":2,"c":3}`, `null`}[i%6])
	}
	if pretty {
		sb.WriteByte('\n')
	}
	sb.WriteByte('}')
	return []byte(sb.String())
}

// TestFastNodeShapes runs one fastNode over bodies that share their first key and much of
// their shape but differ in one later key (a byte changed at any position, the key
// lengthened or shortened, two keys swapped, a key repeated): a remembered shape must never
// predict a key or an order the body does not have.
func TestFastNodeShapes(t *testing.T) {
	var f fastNode
	rng := rand.New(rand.NewPCG(7, 11))
	base := []string{"sku", "payment_status", "payment_id", "actually_paid_at_fiat", "k0123456789abcdefghijklm", "currency", "a"}
	accepted := 0
	for iter := range 20000 {
		keys := append([]string(nil), base...)
		if iter%4 != 0 { // a quarter of the bodies repeat the shape unchanged
			j := 1 + rng.IntN(len(keys)-1)
			switch rng.IntN(5) {
			case 0: // one byte changed
				k := []byte(keys[j])
				k[rng.IntN(len(k))] = "abxyz_"[rng.IntN(6)]
				if k[0] >= '0' && k[0] <= '9' {
					k[0] = 'q'
				}
				keys[j] = string(k)
			case 1: // lengthened or shortened
				if k := keys[j]; len(k) > 1 && rng.IntN(2) == 0 {
					keys[j] = k[:len(k)-1]
				} else {
					keys[j] = k + "q"
				}
			case 2: // two keys swapped
				i := 1 + rng.IntN(len(keys)-1)
				keys[i], keys[j] = keys[j], keys[i]
			case 3: // replaced by another key
				keys[j] = shapeKeys[rng.IntN(len(shapeKeys))]
			case 4: // a key repeated: the fast path must decline
				keys[j] = keys[rng.IntN(j)]
			}
		}
		unique := map[string]bool{}
		for _, k := range keys {
			unique[k] = true
		}
		body := shapeBody(keys, iter%3 == 0)
		ok := checkFastNode(t, &f, body)
		if len(unique) < len(keys) {
			assert.False(t, ok, "fast path accepted %s, which repeats a key", body)
			continue
		}
		require.True(t, ok, "fast path declined %s", body)
		accepted++
	}
	require.Greater(t, accepted, 10000, "too few bodies inside the subset")
}

// TestFastNodeShapesRandom sorts objects whose keys are drawn from shapeKeys, in random order
// and number, with one fastNode, so that shapes are remembered, replaced and matched in
// every combination; nested objects share the slots of their parents.
func TestFastNodeShapesRandom(t *testing.T) {
	var f fastNode
	rng := rand.New(rand.NewPCG(3, 5))
	for range 20000 {
		n := 1 + rng.IntN(len(shapeKeys))
		perm := rng.Perm(len(shapeKeys))[:n]
		keys := make([]string, n)
		for i, p := range perm {
			keys[i] = shapeKeys[p]
		}
		body := shapeBody(keys, rng.IntN(4) == 0)
		require.True(t, checkFastNode(t, &f, body), "fast path declined %s", body)
	}
}

// FuzzFastNodeShapes runs one fastNode over two bodies, so that the shapes remembered from
// the first (and from the second's own objects) meet the second: wherever the fast path
// takes the second body, its text must be the general Node form.
func FuzzFastNodeShapes(f *testing.F) {
	ipn := shapeBody([]string{"payment_id", "payment_status", "actually_paid_at_fiat", "k0123456789abcdefghijklm", "fee", "a"}, false)
	f.Add(ipn, ipn)
	f.Add(ipn, shapeBody([]string{"payment_id", "payment_statuz", "actually_paid_at_fiat", "k0123456789abcdefghijklm", "fee", "a"}, true))
	f.Add(ipn, shapeBody([]string{"payment_id", "payment_status", "actually_paid_at_fiaT", "k0123456789abcdefghijklm", "fee", "b"}, false))
	f.Add(ipn, shapeBody([]string{"payment_id", "payment_status", "actually_paid_at_fiat", "k0123456789abcdefghijkl", "fee", "a"}, false))
	f.Add(ipn, shapeBody([]string{"payment_id", "actually_paid_at_fiat", "payment_status", "k0123456789abcdefghijklm", "fee", "a"}, false))
	f.Add(ipn, shapeBody([]string{"payment_id", "payment_status", "payment_status", "k0123456789abcdefghijklm", "fee", "a"}, false))
	f.Add([]byte(`{"items":[{"b":1,"a":2,"c":3},{"b":1,"a":2,"d":3},{"b":1,"c":2,"a":3}]}`), []byte(`{"b":{"b":1,"a":2,"c":3},"a":{"b":1,"a":2,"c":3,"c":4}}`))
	f.Add([]byte(`{"a":1,"b":2,"c":"padding padding padding padding"}`),
		[]byte(`{"a":1,"b":{"a":1,"z":2,"c":"padding padding padding"},"c":"padding padding padding padding"}`))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var fn fastNode
		fn.nodeForm(first)
		if fast, ok := fn.appendNode(nil, second); ok {
			general, err := Canonical(second, FormNode)
			require.NoError(t, err, "fast path took %q as %q; general Node form %q, %v", second, fast, general, err)
			require.True(t, bytes.Equal(fast, general), "fast path took %q as %q; general Node form %q, %v", second, fast, general, err)
		}
	})
}

// TestFastNodeShapeReplaced checks an object whose remembered shape a nested object with the
// same first key replaces midway: the keys after the nested object are predicted by the new
// shape, those before it by the old one, and neither shape's order is the object's.
func TestFastNodeShapeReplaced(t *testing.T) {
	var f fastNode
	// Keys are only predicted with some text after them: the last value is long.
	const pad = `"` + "padding padding padding padding" + `"`
	require.True(t, checkFastNode(t, &f, []byte(`{"a":1,"b":2,"c":`+pad+`}`)), "fast path declined the first body")
	for _, body := range []string{
		`{"a":1,"b":{"a":1,"z":2,"c":` + pad + `},"c":` + pad + `}`,
		`{"a":1,"b":{"a":1,"z":2,"c":` + pad + `},"c":` + pad + `}`,
		`{"a":1,"b":[{"a":1,"b":2,"c":3},{"a":1,"0b":2,"c":3}],"c":` + pad + `}`,
		`{"a":{"a":{"a":1,"z":2,"c":3},"b":2,"c":3},"b":2,"c":` + pad + `}`,
		`{"a":1,"b":2,"c":{"a":1,"b":3,"bb":2},"d":` + pad + `}`,
	} {
		checkFastNode(t, &f, []byte(body))
	}
}
