package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Benchmarks for SortedJSONVerifier.Verify on the seed's payment IPN, against two baselines
// measured in the same run:
//   - a pre-keyed HMAC-SHA512 over the body (Reset, Write, Sum into a reused buffer): the cost
//     floor of any verifier, which must at least hash the bytes;
//   - the naive verifier most integrations write: json.Unmarshal into map[string]any,
//     json.Marshal (which sorts map keys), HMAC, hex compare. It is also wrong (it escapes
//     <, >, &, rewrites numbers, turns 1e-7 into 1e-07, drops duplicate keys).
//
// BenchmarkSortedJSONRatio runs the three and reports verify/hmac and naive/verify directly.

const benchSecret = "ipn-secret-4f1c"

// benchBodies are the payment IPN as the seed documents it (one member per line) and the
// same JSON compacted, as IPNs are usually delivered.
func benchBodies(b *testing.B) map[string][]byte {
	b.Helper()
	doc, err := os.ReadFile("testdata/sortedjson/payment_ipn.json")
	require.NoError(b, err)
	var compact bytes.Buffer
	require.NoError(b, json.Compact(&compact, doc))
	return map[string][]byte{"documented": doc, "compact": compact.Bytes()}
}

func benchVerify(b *testing.B, body []byte) func(b *testing.B) {
	v, err := NewSortedJSONVerifier(benchSecret)
	require.NoError(b, err)
	sig, err := SignSortedJSON(benchSecret, body)
	require.NoError(b, err)
	require.NoError(b, v.Verify(body, sig))
	return func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := v.Verify(body, sig); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func benchHMAC(body []byte) func(b *testing.B) {
	return func(b *testing.B) {
		h := hmac.New(sha512.New, []byte(benchSecret))
		var sum [sha512.Size]byte
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			h.Reset()
			h.Write(body)
			h.Sum(sum[:0])
		}
	}
}

// naiveVerify is the map[string]any + encoding/json verifier the SDK replaces.
func naiveVerify(secret string, body []byte, signature string) bool {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return false
	}
	canonical, err := json.Marshal(m)
	if err != nil {
		return false
	}
	mac := hmac.New(sha512.New, []byte(secret))
	mac.Write(canonical)
	return hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(signature))
}

func benchNaive(b *testing.B, body []byte) func(b *testing.B) {
	// The naive canonical form equals Node's for this body (no arrays, no HTML characters,
	// numbers that print alike), so it verifies the same signature.
	sig, err := SignSortedJSON(benchSecret, body)
	require.NoError(b, err)
	require.True(b, naiveVerify(benchSecret, body, sig), "naive verifier rejects the payment IPN")
	return func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if !naiveVerify(benchSecret, body, sig) {
				b.Fatal("mismatch")
			}
		}
	}
}

func BenchmarkSortedJSONVerify(b *testing.B) {
	for name, body := range benchBodies(b) {
		b.Run(name, benchVerify(b, body))
	}
}

func BenchmarkSortedJSONBaselineHMAC(b *testing.B) {
	for name, body := range benchBodies(b) {
		b.Run(name, benchHMAC(body))
	}
}

func BenchmarkSortedJSONBaselineNaive(b *testing.B) {
	for name, body := range benchBodies(b) {
		b.Run(name, benchNaive(b, body))
	}
}

// BenchmarkSortedJSONVerifyPHPForm measures the slowest accepted path: a body whose three
// forms all differ (an array, non-ASCII text, a float written 1.0), signed in the PHP form,
// so the Node and Python forms are computed and hashed first. (For the seed's payment IPN the
// three forms are byte-identical, so any form matches at the first HMAC.)
func BenchmarkSortedJSONVerifyPHPForm(b *testing.B) {
	body := []byte(`{"payment_id":4100223344,"payment_status":"finished","pay_address":"TQ7x…","price_amount":25.0,"pay_amount":25.31,"order_id":"A-1001","ids":[1,2],"fee":{"currency":"usdttrc20","depositFee":0.2,"serviceFee":0.21}}`)
	v, _ := NewSortedJSONVerifier(benchSecret)
	sig, err := SignSortedJSONForm(benchSecret, body, FormPHP)
	require.NoError(b, err)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(body, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSortedJSONRatio measures Verify and both baselines in one run, interleaved in
// small batches so that load on the machine hits all three alike, and reports verify/hmac
// (target ≤ 2) and naive/verify (target ≥ 5) for each body. Its ns/op is the sum of one
// operation of each.
func BenchmarkSortedJSONRatio(b *testing.B) {
	for name, body := range benchBodies(b) {
		b.Run(name, func(b *testing.B) {
			v, err := NewSortedJSONVerifier(benchSecret)
			require.NoError(b, err)
			sig, err := SignSortedJSON(benchSecret, body)
			require.NoError(b, err)
			h := hmac.New(sha512.New, []byte(benchSecret))
			var sum [sha512.Size]byte
			require.NoError(b, v.Verify(body, sig), "setup: signature does not verify")
			require.True(b, naiveVerify(benchSecret, body, sig), "setup: signature does not verify")
			const batch = 16
			var tVerify, tHMAC, tNaive time.Duration
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				t0 := time.Now()
				for i := 0; i < batch; i++ {
					if err := v.Verify(body, sig); err != nil {
						b.Fatal(err)
					}
				}
				t1 := time.Now()
				for i := 0; i < batch; i++ {
					h.Reset()
					h.Write(body)
					h.Sum(sum[:0])
				}
				t2 := time.Now()
				for i := 0; i < batch; i++ {
					if !naiveVerify(benchSecret, body, sig) {
						b.Fatal("mismatch")
					}
				}
				t3 := time.Now()
				tVerify += t1.Sub(t0)
				tHMAC += t2.Sub(t1)
				tNaive += t3.Sub(t2)
			}
			ops := float64((b.N + batch - 1) / batch * batch)
			b.ReportMetric(float64(tVerify)/ops, "verify-ns")
			b.ReportMetric(float64(tHMAC)/ops, "hmac-ns")
			b.ReportMetric(float64(tNaive)/ops, "naive-ns")
			b.ReportMetric(float64(tVerify)/float64(tHMAC), "verify/hmac")
			b.ReportMetric(float64(tNaive)/float64(tVerify), "naive/verify")
		})
	}
}
