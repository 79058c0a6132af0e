package jopay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
)

// boundaryLayouts are created_at sequences (offsets from t0, oldest first) whose ties fall on
// both sides of page boundaries (pages of 4) and of second boundaries.
var boundaryLayouts = map[string][]time.Duration{
	// groups of 3 at whole seconds: every page of 4 ends one row into a tie group.
	"second ties split by pages": {0, 0, 0, time.Second, time.Second, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second},
	// a tie group ends exactly at a page end, the next one starts the next page.
	"tie ends at page end": {0, 0, 0, 0, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, 2 * time.Millisecond},
	// millisecond ties straddling a whole second: a server truncating since to the second
	// re-sends the older rows of that second, which skip must drop.
	"ms ties across a second": {
		998 * time.Millisecond, 999 * time.Millisecond, 999 * time.Millisecond, 999 * time.Millisecond,
		time.Second, time.Second, 1001 * time.Millisecond, 1001 * time.Millisecond, 1999 * time.Millisecond, 2 * time.Second,
	},
	// one row alone on each side of a tie group that spans two pages.
	"singles around a long tie": {0, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, 2 * time.Millisecond},
	// nanosecond neighbours: the since the iterator sends (boundary − 1 ns) lands exactly on
	// an older row.
	"ns neighbours": {0, time.Second - time.Nanosecond, time.Second - time.Nanosecond, time.Second, time.Second, time.Second, time.Second + time.Nanosecond},
}

// TestListBoundaryTable pins skip(): every request exactly once, oldest first, for every
// combination of inclusive/exclusive since (or server cursors after a since-based first page), nanosecond/millisecond/second precision, and tie
// layouts on both sides of page and second boundaries — in one run, and resumed from a stored
// Cursor after every possible stopping point.
func TestListBoundaryTable(t *testing.T) {
	precisions := []time.Duration{0, time.Millisecond, time.Second}
	for name, layout := range boundaryLayouts {
		for _, mode := range []string{"inclusive", "exclusive", "next_cursor"} {
			for _, prec := range precisions {
				sub := fmt.Sprintf("%s/%s/precision=%v", name, mode, prec)
				t.Run(sub, func(t *testing.T) {
					opts := []jopaytest.Option{jopaytest.WithExclusiveSince(mode == "exclusive"), jopaytest.WithNextCursor(mode == "next_cursor")}
					if prec > 0 {
						opts = append(opts, jopaytest.WithSincePrecision(prec))
					}
					srv := jopaytest.NewServer(opts...)
					defer srv.Close()
					rows := make([]jopaytest.PaymentRequestFixture, len(layout))
					for i, d := range layout {
						rows[i] = jopaytest.PaymentRequestFixture{CreatedAt: t0.Add(d), Status: jopay.StatusOpened}
					}
					want := srv.AddPaymentRequests(rows...)
					c, _ := srv.NewClient()
					p := jopay.ListRequestsParams{Limit: 4}

					got, err := collect(t, c.ListRequests(context.Background(), p))
					require.NoError(t, err)
					require.Empty(t, cmp.Diff(want, got), "one run (-want +got)")

					// Stop after k rows, store the cursor as text, resume: the two runs together
					// yield every row once, whichever side of a tie the stop fell on.
					for k := 1; k < len(want); k++ {
						it := c.ListRequestsFrom(p, jopay.Cursor{})
						var first []string
						for r, err := range it.All(context.Background()) {
							require.NoError(t, err)
							if first = append(first, r.ID); len(first) == k {
								break
							}
						}
						rest, err := collect(t, c.ListRequestsFrom(p, mustCursor(t, it.Cursor().String())).All(context.Background()))
						require.NoError(t, err, "resume after %d", k)
						require.Empty(t, cmp.Diff(want, append(first, rest...)), "stopped after %d, resumed from %q (-want +got)", k, it.Cursor())
					}
				})
			}
		}
	}
}

// TestListServerCursorPageWithOlderRow: a page reached by the server's own cursor never
// repeats a row, so a row older than the boundary there is new (inserted late, or the server
// orders by another key) and must be yielded, not skipped as a re-sent one.
func TestListServerCursorPageWithOlderRow(t *testing.T) {
	c, mux := setup(t)
	row := func(id string, at time.Time) map[string]any {
		return map[string]any{"request_id": id, "status": "opened", "proof_status": "none",
			"created_at": at.Format(time.RFC3339Nano), "amount": map[string]any{"fiat_int": 100, "fiat_code": "USD"}}
	}
	mux.HandleFunc("GET /api/v1/requests", func(w http.ResponseWriter, r *http.Request) {
		var page map[string]any
		switch r.URL.Query().Get("cursor") {
		case "":
			page = map[string]any{"ok": true, "requests": []any{row("req_new", t0.Add(time.Second))}, "has_more": true, "next_cursor": "c2"}
		case "c2":
			page = map[string]any{"ok": true, "requests": []any{row("req_late", t0)}, "has_more": false, "next_cursor": nil}
		default:
			t.Errorf("unexpected cursor %q", r.URL.Query().Get("cursor"))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
	})
	var got []string
	for r, err := range c.ListRequests(context.Background(), jopay.ListRequestsParams{}) {
		require.NoError(t, err)
		got = append(got, r.ID)
	}
	assert.Empty(t, cmp.Diff([]string{"req_new", "req_late"}, got), "(-want +got)")
}
