package webhook

import "testing"

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
