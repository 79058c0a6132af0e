package sortedjson

import (
	"crypto/hmac"
	"crypto/sha512"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkFastNodeThenHMAC runs the one-pass Node form and the pre-keyed HMAC-SHA512 of its
// output one after the other, as Verify does, rather than in separate batches: compared with
// the sum of BenchmarkFastNodeDocs and BenchmarkFastNodeDocsHMAC, it shows what running both
// back to back costs beyond their own work (caches and branch predictors shared between
// them), which no change to Verify's own bookkeeping can recover.
func BenchmarkFastNodeThenHMAC(b *testing.B) {
	for _, d := range benchDocs(b) {
		b.Run(d.name, func(b *testing.B) {
			var f fastNode
			_, ok := f.nodeForm(d.body)
			require.True(b, ok)
			h := hmac.New(sha512.New, []byte("ipn_secret_0123456789abcdef0123"))
			var sum [sha512.Size]byte
			b.SetBytes(int64(len(d.body)))
			for b.Loop() {
				out, ok := f.nodeForm(d.body)
				if !ok {
					b.Fatal("declined")
				}
				h.Reset()
				h.Write(out)
				h.Sum(sum[:0])
			}
		})
	}
}
