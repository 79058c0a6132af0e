package jopay_test

import (
	"context"
	"fmt"
	"github.com/paykit-go/paykit"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
)

var t0 = time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)

// seedTies stores n verified requests where each group of `group` shares one created_at (a
// millisecond apart), plus an unverified request between groups so filters matter. It returns
// the verified ids in created_at order.
func seedTies(srv *jopaytest.Server, n, group int, start time.Time) []string {
	var rows []jopaytest.PaymentRequestFixture
	var verified []int
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i/group) * time.Millisecond)
		verified = append(verified, len(rows))
		rows = append(rows, jopaytest.PaymentRequestFixture{CreatedAt: at, ProofStatus: jopay.ProofStatusVerified, Status: jopay.StatusOpened,
			Metadata: map[string]string{"i": fmt.Sprint(i)}})
		if i%group == 0 {
			rows = append(rows, jopaytest.PaymentRequestFixture{CreatedAt: at, ProofStatus: jopay.ProofStatusNone})
		}
	}
	ids := srv.AddPaymentRequests(rows...)
	out := make([]string, len(verified))
	for i, j := range verified {
		out[i] = ids[j]
	}
	return out
}

// collect ranges seq and fails on a duplicate or an out-of-order row.
func collect(t *testing.T, seq iter.Seq2[*jopay.PaymentRequest, error]) ([]string, error) {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	var last time.Time
	for r, err := range seq {
		if err != nil {
			return ids, err
		}
		require.False(t, seen[r.ID], "request %s yielded twice", r.ID)
		require.False(t, r.CreatedAt.Before(last), "request %s out of order", r.ID)
		seen[r.ID], last = true, r.CreatedAt
		ids = append(ids, r.ID)
	}
	return ids, nil
}

func sameSet(t *testing.T, want, got []string) {
	t.Helper()
	w, g := slices.Clone(want), slices.Clone(got)
	slices.Sort(w)
	slices.Sort(g)
	assert.Empty(t, cmp.Diff(w, g), "ids differ (-want +got): %d want, %d got", len(w), len(g))
}

// TestListTiesAcrossPages: 250 verified requests in groups of 7 sharing a created_at, pages of
// 10, so nearly every page boundary splits a group. Every request comes back exactly once
// whether the server's since is inclusive or exclusive, precise or truncated to milliseconds,
// and with server cursors.
func TestListTiesAcrossPages(t *testing.T) {
	variants := []struct {
		name string
		opts []jopaytest.Option
	}{
		{"inclusive since", nil},
		{"exclusive since", []jopaytest.Option{jopaytest.WithExclusiveSince(true)}},
		{"inclusive, ms precision", []jopaytest.Option{jopaytest.WithSincePrecision(time.Millisecond)}},
		{"exclusive, ms precision", []jopaytest.Option{jopaytest.WithExclusiveSince(true), jopaytest.WithSincePrecision(time.Millisecond)}},
		{"next_cursor", []jopaytest.Option{jopaytest.WithNextCursor(true)}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			srv := jopaytest.NewServer(v.opts...)
			defer srv.Close()
			want := seedTies(srv, 250, 7, t0)
			c, _ := srv.NewClient()
			got, err := collect(t, c.ListRequests(context.Background(), jopay.ListRequestsParams{ProofStatus: jopay.ProofStatusVerified, Limit: 10}))
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(want, got), "(-want +got)")
			usedCursor := false
			for _, call := range srv.Calls() {
				q, _ := url.ParseQuery(call.RawQuery)
				// The limit may be raised to 100 once when a page cannot move (an inclusive
				// server truncating since to ms returns the previous tie group again).
				assert.Equal(t, "verified", q.Get("proof_status"), "query %s lost its filters", call.RawQuery)
				assert.Contains(t, []string{"10", "100"}, q.Get("limit"), "query %s lost its filters", call.RawQuery)
				usedCursor = usedCursor || q.Get("cursor") != ""
			}
			assert.Equal(t, strings.Contains(v.name, "cursor"), usedCursor, "cursor used")
		})
	}
}

// TestListStuckPage: more requests share one created_at than fit a page of 100. The iterator
// yields what it can, once each, and stops with paykit.ErrPaginationStuck instead of looping.
func TestListStuckPage(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	seedTies(srv, 150, 150, t0)
	c, _ := srv.NewClient()
	done := make(chan struct{})
	var got []string
	var err error
	go func() {
		defer close(done)
		got, err = collect(t, c.ListRequests(context.Background(), jopay.ListRequestsParams{ProofStatus: jopay.ProofStatusVerified, Limit: 10}))
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("iterator did not stop")
	}
	require.ErrorIs(t, err, paykit.ErrPaginationStuck)
	assert.Len(t, got, 100, "yielded")
	assert.Contains(t, err.Error(), "2026-05-02T09:00:00Z", "error should name the timestamp: %v", err)
	assert.LessOrEqual(t, len(srv.Calls()), 4, "calls; the iterator should give up after raising the limit once")
}

// TestListStuckPageRecoversWithBiggerPage: a tie group larger than Limit but within 100 is
// walked by retrying the page at Limit 100.
func TestListStuckPageRecoversWithBiggerPage(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	want := seedTies(srv, 60, 60, t0)
	want = append(want, seedTies(srv, 5, 1, t0.Add(time.Second))...)
	c, _ := srv.NewClient()
	got, err := collect(t, c.ListRequests(context.Background(), jopay.ListRequestsParams{ProofStatus: jopay.ProofStatusVerified, Limit: 10}))
	require.NoError(t, err)
	sameSet(t, want, got)
}

// TestListPicksUpRowsInsertedMidIteration: requests created while the iterator runs are
// yielded when they sort at or after the cursor of the pages fetched so far — including one
// created in the very millisecond the last fetched page ended on — and none is skipped or
// repeated. (A request inserted behind pages already fetched cannot be seen by any cursor.)
func TestListPicksUpRowsInsertedMidIteration(t *testing.T) {
	for _, excl := range []bool{false, true} {
		t.Run(fmt.Sprintf("exclusive=%v", excl), func(t *testing.T) {
			srv := jopaytest.NewServer(jopaytest.WithExclusiveSince(excl))
			defer srv.Close()
			want := seedTies(srv, 40, 3, t0) // verified row i at t0 + (i/3) ms
			c, _ := srv.NewClient()
			var got []string
			seen := map[string]bool{}
			for r, err := range c.ListRequests(context.Background(), jopay.ListRequestsParams{ProofStatus: jopay.ProofStatusVerified, Limit: 10}) {
				require.NoError(t, err)
				require.False(t, seen[r.ID], "duplicate %s", r.ID)
				seen[r.ID] = true
				got = append(got, r.ID)
				switch len(got) {
				case 10: // the last row of page 1, at t0+3ms: a new request in that same ms
					want = append(want, seedTies(srv, 1, 1, r.CreatedAt)...)
				case 25: // new requests after everything, some sharing timestamps
					want = append(want, seedTies(srv, 8, 4, t0.Add(13*time.Millisecond))...)
					want = append(want, seedTies(srv, 9, 3, t0.Add(time.Minute))...)
				}
			}
			sameSet(t, want, got)
		})
	}
}

// TestListResumeFromCursor: a run that stops early stores its cursor as text; the next run
// continues with exactly the rest, also when the stop fell inside a tie group.
func TestListResumeFromCursor(t *testing.T) {
	srv := jopaytest.NewServer(jopaytest.WithExclusiveSince(true))
	defer srv.Close()
	want := seedTies(srv, 100, 6, t0)
	c, _ := srv.NewClient()
	p := jopay.ListRequestsParams{ProofStatus: jopay.ProofStatusVerified, Limit: 8}
	var got []string
	stored := ""
	for _, stopAfter := range []int{13, 27, 1, 1000} {
		var from jopay.Cursor
		require.NoError(t, from.UnmarshalText([]byte(stored)))
		it := c.ListRequestsFrom(p, from)
		n := 0
		for r, err := range it.All(context.Background()) {
			require.NoError(t, err)
			got = append(got, r.ID)
			if n++; n == stopAfter {
				break
			}
		}
		b, err := it.Cursor().MarshalText()
		require.NoError(t, err)
		stored = string(b)
	}
	assert.Empty(t, cmp.Diff(want, got), "(-want +got)")
	// A later run with nothing new yields nothing and keeps the cursor.
	it := c.ListRequestsFrom(p, mustCursor(t, stored))
	ids, err := collect(t, it.All(context.Background()))
	require.NoError(t, err, "rerun yielded %v", ids)
	require.Empty(t, ids, "rerun yielded, %v", err)
	assert.Equal(t, stored, it.Cursor().String(), "cursor moved")
}

// TestListContinueAfterBreak: ranging the same RequestIterator again continues mid-page.
func TestListContinueAfterBreak(t *testing.T) {
	srv := jopaytest.NewServer(jopaytest.WithNextCursor(true))
	defer srv.Close()
	want := seedTies(srv, 30, 4, t0)
	c, _ := srv.NewClient()
	it := c.ListRequestsFrom(jopay.ListRequestsParams{ProofStatus: jopay.ProofStatusVerified, Limit: 7}, jopay.Cursor{})
	var got []string
	for len(got) < len(want)+1 {
		before := len(got)
		for r, err := range it.All(context.Background()) {
			require.NoError(t, err)
			got = append(got, r.ID)
			break
		}
		if len(got) == before {
			break
		}
	}
	assert.Empty(t, cmp.Diff(want, got), "(-want +got)")
}

// TestListErrorThenRetry: a failed page ends the range with the error; ranging again retries
// that page and loses nothing.
func TestListErrorThenRetry(t *testing.T) {
	srv2 := jopaytest.NewServer()
	defer srv2.Close()
	want2 := seedTies(srv2, 35, 5, t0)
	c2, _ := srv2.NewClient(jopay.WithMaxRetries(0))
	it2 := c2.ListRequestsFrom(jopay.ListRequestsParams{ProofStatus: jopay.ProofStatusVerified, Limit: 10}, jopay.Cursor{})
	var got2 []string
	n := 0
	var firstErr error
	for r, err := range it2.All(context.Background()) {
		if err != nil {
			firstErr = err
			break
		}
		got2 = append(got2, r.ID)
		if n++; n == 12 {
			srv2.FailNext(1, http.StatusInternalServerError, 0)
		}
	}
	require.Error(t, firstErr, "want the injected error")
	rest, err := collect(t, it2.All(context.Background()))
	require.NoError(t, err)
	got2 = append(got2, rest...)
	assert.Empty(t, cmp.Diff(want2, got2), "(-want +got)")
}

func mustCursor(t *testing.T, s string) jopay.Cursor {
	t.Helper()
	c, err := jopay.ParseCursor(s)
	require.NoError(t, err)
	return c
}

func TestCursorText(t *testing.T) {
	c := jopay.Cursor{Since: time.Date(2026, 5, 2, 9, 0, 0, 123e6, time.FixedZone("X", 3600)), SeenIDs: []string{"a&b", "c=d"}}
	text := c.String()
	assert.Equal(t, "since=2026-05-02T08:00:00.123Z&seen=a%26b&seen=c%3Dd", text, "text")
	back := mustCursor(t, text)
	assert.True(t, back.Since.Equal(c.Since), "round trip = %+v", back)
	assert.True(t, slices.Equal(back.SeenIDs, c.SeenIDs), "round trip = %+v", back)
	bare := mustCursor(t, "2026-05-02T09:00:00.5Z")
	assert.True(t, bare.Since.Equal(t0.Add(500*time.Millisecond)), "bare = %+v", bare)
	assert.Nil(t, bare.SeenIDs, "bare = %+v", bare)
	z := mustCursor(t, "")
	assert.True(t, z.IsZero(), "zero = %+v", z)
	assert.Empty(t, z.String(), "zero")
	for _, bad := range []string{"since=yesterday", "seen=a", "%zz"} {
		_, err := jopay.ParseCursor(bad)
		assert.Error(t, err, "ParseCursor(%q) accepted", bad)
	}
}

// TestListUnorderedPage: a server returning rows newest-first without a cursor would make a
// since cursor skip requests; the iterator refuses.
func TestListUnorderedPage(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true,"has_more":true,"requests":[
			{"request_id":"b","created_at":"2026-05-02T09:00:01Z"},{"request_id":"a","created_at":"2026-05-02T09:00:00Z"}]}`))
	})
	_, err := collect(t, c.ListRequests(context.Background(), jopay.ListRequestsParams{}))
	require.ErrorIs(t, err, jopay.ErrUnorderedPage)
}

// TestListRepeatedServerCursor: a server that hands back the cursor it was given would loop.
func TestListRepeatedServerCursor(t *testing.T) {
	c, mux := setup(t)
	calls := 0
	mux.HandleFunc("/api/v1/requests", func(w http.ResponseWriter, r *http.Request) {
		calls++
		_, _ = fmt.Fprintf(w, `{"ok":true,"has_more":true,"next_cursor":"same","requests":[{"request_id":"r%d","created_at":"2026-05-02T09:00:0%dZ"}]}`, calls, calls)
	})
	ids, err := collect(t, c.ListRequests(context.Background(), jopay.ListRequestsParams{}))
	require.ErrorIs(t, err, paykit.ErrPaginationStuck, "ids %v, calls %d", ids, calls)
	require.Len(t, ids, 2, "ids, calls %d, err %v", calls, err)
	require.Equal(t, 2, calls, "ids %v, calls, err %v", ids, err)
}

// TestListEmptyPagesWithHasMore: has_more with nothing on the page and no cursor cannot move.
func TestListEmptyPagesWithHasMore(t *testing.T) {
	c, mux := setup(t)
	calls := 0
	mux.HandleFunc("/api/v1/requests", func(w http.ResponseWriter, r *http.Request) {
		calls++
		_, _ = w.Write([]byte(`{"ok":true,"has_more":true,"requests":[]}`))
	})
	_, err := collect(t, c.ListRequests(context.Background(), jopay.ListRequestsParams{}))
	require.ErrorIs(t, err, paykit.ErrPaginationStuck, "calls %d", calls)
	require.LessOrEqual(t, calls, 3, "calls, err %v", err)
}
