package sortedjson

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// benchDocs are the three bodies internal/perf's sorted-JSON rows verify: the payment IPN
// compact and pretty-printed, and the 16 KiB nested document.
func benchDocs(b *testing.B) []struct {
	name string
	body []byte
} {
	b.Helper()
	compact := benchBodies(b)["compact"]
	var pretty bytes.Buffer
	require.NoError(b, json.Indent(&pretty, compact, "", "  "))
	return []struct {
		name string
		body []byte
	}{{"compact", compact}, {"pretty", pretty.Bytes()}, {"nested", nestedBody()}}
}

// BenchmarkFastNodeDocs measures the one-pass Node form alone on each body, and
// BenchmarkFastNodeDocsHMAC the pre-keyed HMAC-SHA512 of its output: their sum over the HMAC
// alone is roughly what Verify's ratio can reach.
func BenchmarkFastNodeDocs(b *testing.B) {
	for _, d := range benchDocs(b) {
		b.Run(d.name, func(b *testing.B) {
			var f fastNode
			b.SetBytes(int64(len(d.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := f.nodeForm(d.body); !ok {
					b.Fatal("declined")
				}
			}
		})
	}
}

func BenchmarkFastNodeDocsHMAC(b *testing.B) {
	for _, d := range benchDocs(b) {
		b.Run(d.name, func(b *testing.B) {
			var f fastNode
			out, ok := f.nodeForm(d.body)
			require.True(b, ok)
			h := hmac.New(sha512.New, []byte("ipn_secret_0123456789abcdef0123"))
			var sum [sha512.Size]byte
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			for b.Loop() {
				h.Reset()
				h.Write(out)
				h.Sum(sum[:0])
			}
		})
	}
}

// BenchmarkFastNodeRatio runs the one-pass Node form and the pre-keyed HMAC-SHA512 of its
// output in alternating batches and reports the first's cost over the second's (fast/hmac):
// Verify's ratio to the HMAC floor is about 1 + fast/hmac.
func BenchmarkFastNodeRatio(b *testing.B) {
	for _, d := range benchDocs(b) {
		b.Run(d.name, func(b *testing.B) {
			var f fastNode
			out, ok := f.nodeForm(d.body)
			require.True(b, ok)
			out = bytes.Clone(out)
			h := hmac.New(sha512.New, []byte("ipn_secret_0123456789abcdef0123"))
			var sum [sha512.Size]byte
			batch := max(1, 16<<10/len(d.body))
			var tFast, tHMAC time.Duration
			for done := 0; done < b.N; done += batch {
				t0 := time.Now()
				for range batch {
					if _, ok := f.nodeForm(d.body); !ok {
						b.Fatal("declined")
					}
				}
				t1 := time.Now()
				for range batch {
					h.Reset()
					h.Write(out)
					h.Sum(sum[:0])
				}
				t2 := time.Now()
				tFast += t1.Sub(t0)
				tHMAC += t2.Sub(t1)
			}
			b.ReportMetric(float64(tFast)/float64(tHMAC), "fast/hmac")
		})
	}
}
