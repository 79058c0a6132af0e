package sortedjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Component benchmarks for the sorted-JSON verifier: the parse alone, and the parse plus the
// Node form, to see where Verify's time goes apart from the HMAC.
func BenchmarkSortedJSONParse(b *testing.B) {
	for name, body := range benchBodies(b) {
		b.Run(name, func(b *testing.B) {
			var c canon
			b.ReportAllocs()
			for b.Loop() {
				if err := c.doc.parse(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSortedJSONParseEmit(b *testing.B) {
	for name, body := range benchBodies(b) {
		b.Run(name, func(b *testing.B) {
			var c canon
			var out []byte
			b.ReportAllocs()
			for b.Loop() {
				if err := c.doc.parse(body); err != nil {
					b.Fatal(err)
				}
				out, _ = c.appendForm(out[:0], FormNode)
			}
		})
	}
}

// benchBodies are the payment IPN as JovePay documents it (one member per line) and the
// same JSON compacted, as IPNs are usually delivered.
func benchBodies(b *testing.B) map[string][]byte {
	b.Helper()
	doc, err := os.ReadFile("testdata/sortedjson/payment_ipn.json")
	require.NoError(b, err)
	var compact bytes.Buffer
	require.NoError(b, json.Compact(&compact, doc))
	return map[string][]byte{"documented": doc, "compact": compact.Bytes()}
}

// nestedBody is a ~16 KiB IPN-like document like internal/perf's: nested objects, arrays,
// decimals with trailing zeros (9.10) and unsorted keys.
func nestedBody() []byte {
	var sb strings.Builder
	sb.WriteString(`{"payment_status":"finished","payment_id":5077125051,"items":[`)
	for i := 0; sb.Len() < 16<<10; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"sku":"SKU-%04d","qty":%d,"price":9.10,"tax":{"rate":0.20,"amount":1.82,"region":"EU-%d"},"tags":["a","b%d",%d.50],"meta":{"z":%d,"a":"x","m":[1,2.00,3]}}`,
			i, i%7+1, i%5, i, i, i)
	}
	sb.WriteString(`],"order_id":"A-1001","actually_paid":0.0123000}`)
	return []byte(sb.String())
}

// BenchmarkFastNodeNested measures the fast path on the 16 KiB nested document.
func BenchmarkFastNodeNested(b *testing.B) {
	body := nestedBody()
	var f fastNode
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := f.nodeForm(body); !ok {
			b.Fatal("declined")
		}
	}
}
