package jopay_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
)

// generatedAt spreads generated rows three to a millisecond, so page boundaries split ties.
func generatedAt(i int) time.Time { return t0.Add(time.Duration(i/3) * time.Millisecond) }

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkListRequests iterates 100 000 requests from the fake over loopback, pages of 100.
// The fake generates rows on the fly, so heap figures are the client's. Sub-benchmarks:
//
//   - sdk/since: ListRequests against a server without cursors (the seed's pattern, with tie
//     handling);
//   - sdk/next_cursor: ListRequests against a server sending next_cursor;
//   - baseline/handrolled: net/http + encoding/json following next_cursor with no checks, the
//     floor the SDK's cost is measured against (ratio = sdk rows/s ÷ baseline rows/s).
//
// Reported: rows/s, and live heap after 10 000 and after 100 000 rows (flat = not retained).
func BenchmarkListRequests(b *testing.B) {
	const rows = 100_000
	for _, bc := range []struct {
		name   string
		cursor bool
		sdk    bool
	}{{"sdk/since", false, true}, {"sdk/next_cursor", true, true}, {"baseline/handrolled", true, false}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := jopaytest.NewServer(jopaytest.WithGeneratedRequests(rows, generatedAt),
				jopaytest.WithNextCursor(bc.cursor), jopaytest.WithoutCallLog())
			defer srv.Close()
			c, _ := srv.NewClient()
			var heap10k, heap100k uint64
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				count := 0
				onRow := func() {
					count++
					if count == 10_000 && n == 0 {
						b.StopTimer()
						heap10k = liveHeap()
						b.StartTimer()
					}
				}
				if bc.sdk {
					for _, err := range c.ListRequests(context.Background(), jopay.ListRequestsParams{Limit: jopay.MaxListLimit}) {
						if err != nil {
							b.Fatal(err)
						}
						onRow()
					}
				} else {
					handRolled(b, srv, onRow)
				}
				if count != rows {
					b.Fatalf("iterated %d rows, want %d", count, rows)
				}
				if n == 0 {
					b.StopTimer()
					heap100k = liveHeap()
					b.StartTimer()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(heap10k)/(1<<20), "heapMiB@10k")
			b.ReportMetric(float64(heap100k)/(1<<20), "heapMiB@100k")
		})
	}
}

// handRolled is the baseline: the obvious loop a user would write without the SDK.
func handRolled(b *testing.B, srv *jopaytest.Server, onRow func()) {
	hc := srv.HTTPClient()
	cursor := ""
	for {
		q := url.Values{"limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		req, _ := http.NewRequest(http.MethodGet, srv.BaseURL+"/requests?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+jopaytest.DefaultAPIKey)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var page struct {
			Requests []struct {
				RequestID  string            `json:"request_id"`
				Status     string            `json:"status"`
				Proof      string            `json:"proof_status"`
				PayPageURL string            `json:"pay_page_url"`
				CreatedAt  time.Time         `json:"created_at"`
				ExpiresAt  time.Time         `json:"expires_at"`
				MerchantID string            `json:"merchant_id"`
				Metadata   map[string]string `json:"metadata"`
				Amount     struct {
					FiatInt   int64  `json:"fiat_int"`
					FiatCode  string `json:"fiat_code"`
					USDCMicro string `json:"usdc_micro"`
				} `json:"amount"`
			} `json:"requests"`
			HasMore    bool   `json:"has_more"`
			NextCursor string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		for range page.Requests {
			onRow()
		}
		if !page.HasMore {
			return
		}
		cursor = page.NextCursor
	}
}

// TestListMemoryFlat: iterating does not retain rows. Live heap after 15 000 rows stays within
// a small bound of the heap after 3 000 (retaining the 12 000 in between would cost >6 MiB).
func TestListMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("iterates 15 000 rows")
	}
	const rows = 15_000
	srv := jopaytest.NewServer(jopaytest.WithGeneratedRequests(rows, generatedAt), jopaytest.WithoutCallLog())
	defer srv.Close()
	c, _ := srv.NewClient()
	var at5k, atEnd uint64
	n := 0
	for r, err := range c.ListRequests(context.Background(), jopay.ListRequestsParams{Limit: 100}) {
		require.NoError(t, err)
		require.Equal(t, jopaytest.GeneratedID(n), r.ID, "row %d", n)
		if n++; n == 3_000 {
			at5k = liveHeap()
		}
	}
	atEnd = liveHeap()
	require.Equal(t, rows, n, "rows iterated")
	const bound = 3 << 20
	assert.LessOrEqual(t, atEnd, at5k+bound, "live heap grew from %d to %d bytes over 12 000 rows", at5k, atEnd)
	t.Logf("live heap: %s at 3k rows, %s at %d rows", mib(at5k), mib(atEnd), rows)
}

func mib(n uint64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 2, 64) + " MiB" }
