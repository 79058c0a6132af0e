package sortedjson

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hintKeys are the keys TestFastNodeHintsRandom draws from: short and long, several sharing a
// first key's prefix, so that shapes collide in their slots and replace one another.
var hintKeys = []string{"a", "b", "c", "id", "sku", "qty", "tax", "rate", "amount", "region",
	"payment_status", "payment_id", "k0123456789abcdefghij", "k0123456789abcdefghijk", "z"}

// hintValue writes a random value: scalars, and now and then an array or an object whose keys
// come from hintKeys, in one of a few fixed orders or a random one, so that the same member of
// successive objects holds objects of the same shape, of another shape with the same first
// key, or of an unrelated one.
func hintValue(sb *strings.Builder, rng *rand.Rand, depth int) {
	switch r := rng.IntN(10); {
	case r < 3 || depth > 4:
		sb.WriteString([]string{`1`, `"x"`, `9.10`, `null`, `0.20`, `"SKU-0001"`, `true`}[rng.IntN(7)])
	case r < 5:
		sb.WriteByte('[')
		for i := range rng.IntN(4) {
			if i > 0 {
				sb.WriteByte(',')
			}
			hintValue(sb, rng, depth+1)
		}
		sb.WriteByte(']')
	default:
		hintObject(sb, rng, depth+1)
	}
}

func hintObject(sb *strings.Builder, rng *rand.Rand, depth int) {
	var keys []string
	switch rng.IntN(4) {
	case 0:
		keys = []string{"sku", "qty", "tax", "a"}
	case 1:
		keys = []string{"sku", "tax", "qty"} // the same first key, another shape
	case 2:
		keys = []string{"rate", "amount", "region"}
	default:
		perm := rng.Perm(len(hintKeys))[:1+rng.IntN(6)]
		for _, p := range perm {
			keys = append(keys, hintKeys[p])
		}
	}
	sb.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"` + k + `":`)
		hintValue(sb, rng, depth)
	}
	sb.WriteByte('}')
}

// TestFastNodeHintsRandom runs one fastNode over bodies whose nested objects and array
// elements change shape from one object to the next, keep it, or take another shape with
// the same first key: a hint (the shape the parent remembered for that place) must never
// make the fast path predict a key or an order the object does not have. Every body is
// inside the subset, so each must be taken.
func TestFastNodeHintsRandom(t *testing.T) {
	var f fastNode
	rng := rand.New(rand.NewPCG(11, 13))
	for range 20000 {
		var sb strings.Builder
		sb.WriteString(`{"items":[`)
		for i := range 1 + rng.IntN(5) {
			if i > 0 {
				sb.WriteByte(',')
			}
			hintObject(&sb, rng, 1)
		}
		sb.WriteString(`],"order":`)
		hintObject(&sb, rng, 1)
		sb.WriteString(`}`)
		body := []byte(sb.String())
		if rng.IntN(3) == 0 {
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, body, "", "  "))
			body = pretty.Bytes()
		}
		require.True(t, checkFastNode(t, &f, body), "fast path declined %s", body)
	}
}

// TestFastNodeHintedShapeChanges checks the hint of a nested object against objects that
// differ from it in each way, each body taken twice so that the second meets the hints the
// first left.
func TestFastNodeHintedShapeChanges(t *testing.T) {
	var f fastNode
	const item = `{"sku":"A","qty":1,"tax":{"rate":0.20,"amount":1.82,"region":"EU"}}`
	for _, body := range []string{
		`{"items":[` + item + `,` + item + `]}`,
		// The nested object with another order, another key, one key fewer or more.
		`{"items":[` + item + `,{"sku":"A","qty":1,"tax":{"rate":0.20,"region":"EU","amount":1.82}}]}`,
		`{"items":[` + item + `,{"sku":"A","qty":1,"tax":{"rate":0.20,"amount":1.82,"regioN":"EU"}}]}`,
		`{"items":[` + item + `,{"sku":"A","qty":1,"tax":{"rate":0.20,"amount":1.82}}]}`,
		`{"items":[` + item + `,{"sku":"A","qty":1,"tax":{"rate":0.20,"amount":1.82,"region":"EU","a":1}}]}`,
		// Another first key, an empty object, an array, a scalar in its place.
		`{"items":[` + item + `,{"sku":"A","qty":1,"tax":{"amount":1.82,"rate":0.20,"region":"EU"}}]}`,
		`{"items":[` + item + `,{"sku":"A","qty":1,"tax":{}}]}`,
		`{"items":[` + item + `,{"sku":"A","qty":1,"tax":[{"rate":0.20,"amount":1.82,"region":"EU"}]}]}`,
		`{"items":[` + item + `,{"sku":"A","qty":1,"tax":0.2}]}`,
		// Elements of alternating shapes, some sharing their first key.
		`{"items":[{"b":1,"a":2,"c":3},{"b":1,"c":2,"a":3},{"x":1,"y":2,"z":3},{"b":1,"a":2,"c":3}]}`,
		// A repeated key where the hint predicts another.
		`{"items":[` + item + `,{"sku":"A","qty":1,"tax":{"rate":0.20,"rate":1.82,"region":"EU"}}]}`,
	} {
		for range 2 {
			checkFastNode(t, &f, []byte(body))
		}
	}
	assert.True(t, checkFastNode(t, &f, []byte(`{"items":[`+item+`,`+item+`]}`)), "fast path declined the items")
}

// TestFastNodePredictedKeysAtEnd checks keys of every length a shape predicts, and longer,
// predicted right before the end of the body, where there is no room to read whole words
// after the key: compact and pretty, at the top level and nested.
func TestFastNodePredictedKeysAtEnd(t *testing.T) {
	var f fastNode
	for l := 1; l <= maxPredicted+3; l++ {
		k := strings.Repeat("k", l)
		for _, body := range []string{
			`{"a":1,"b":2,"` + k + `":3}`,
			`{"a":1,"b":2,"` + k + `":"v"}`,
			`{"z":{"a":1,"b":2,"` + k + `":3}}`,
			`{"z":{"a":1,"b":2,"` + k + `" : 3 } }`,
			"{\n  \"a\": 1,\n  \"b\": 2,\n  \"" + k + "\": 3\n}",
		} {
			for range 2 { // the second time, the keys are predicted
				require.True(t, checkFastNode(t, &f, []byte(body)), "fast path declined %q", body)
			}
		}
	}
}

// TestFastNodeLongDecimals checks numbers of 16 and 17 significant digits, which shortDecimal
// takes when shortestIsExact says JavaScript prints them as written, and leaves to scanNumber
// otherwise; those JavaScript prints as written must be taken.
func TestFastNodeLongDecimals(t *testing.T) {
	var f fastNode
	for _, n := range []string{
		"0.09853637216235617", "0.30000000000000004", "1.0000000000000002", "1.00000000000000020",
		"-0.09853637216235617", "123456789012345.67", "0.0000012345678901234567",
	} {
		body := `{"a":` + n + `,"b":[` + n + `]}`
		assert.True(t, checkFastNode(t, &f, []byte(body)), "fast path declined %s", body)
	}
	for _, n := range []string{
		"0.098536372162356171", "0.3000000000000000444", "1.0000000000000001", "9007199254740993.5",
		"1234567890.1234567", "0.1000000000000000055511151231257827", "0.00000012345678901234567",
		"1234567890123456.0", "12345678901234567.0", "0.12345678901234560", "100000000000000000.5",
		"4.35", "0.1", "5e-7", "0.0000001",
	} {
		checkFastNode(t, &f, []byte(`{"a":`+n+`}`))
	}
}

// TestFastNodeIndentation checks bodies indented every way pretty-printers do (tabs, runs of
// spaces of any length, CRLF line ends, spaces before commas): the fast path reads the newline
// and its run of spaces byte by byte, and skipWS the rest.
func TestFastNodeIndentation(t *testing.T) {
	ipn, err := os.ReadFile("testdata/sortedjson/payment_ipn.json")
	require.NoError(t, err)
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, ipn))
	var f fastNode
	for _, doc := range [][]byte{compact.Bytes(), nestedBody()} {
		for _, indent := range []string{"", " ", "  ", "\t", "       ", "        ", "                 "} {
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, doc, "", indent))
			for _, body := range [][]byte{
				pretty.Bytes(),
				bytes.ReplaceAll(pretty.Bytes(), []byte("\n"), []byte("\r\n")),
				bytes.ReplaceAll(pretty.Bytes(), []byte(",\n"), []byte(" ,\n")),
				bytes.ReplaceAll(pretty.Bytes(), []byte(",\n"), []byte(",\n \t")),
			} {
				for range 2 {
					require.True(t, checkFastNode(t, &f, body), "fast path declined %q", body)
				}
			}
		}
	}
}
