package sortedjson

import "testing"

// BenchmarkScanNumber17 measures scanNumber's as-written check of a 17-digit amount (the
// payment IPN's depositFee), the costliest number the fast path accepts.
func BenchmarkScanNumber17(b *testing.B) {
	src := []byte("0.09853637216235617,")
	for b.Loop() {
		if _, flags, ok := scanNumber(src, 0); !ok || flags&nNodeRaw == 0 {
			b.Fatal("not printed as written")
		}
	}
}
