// Package storetest checks that a webhook.Store implementation keeps the contract the
// webhook.Deduper relies on, in the spirit of testing/fstest.TestFS. Run it from your own store's
// tests:
//
//	func TestMyStore(t *testing.T) {
//		storetest.TestStore(t, func(t *testing.T) webhook.Store { return newMyStore(t) })
//	}
//
// The suite uses ids unique to each run, so a store backed by a shared database table works.
// Times are passed explicitly (a fixed base time plus offsets in whole seconds), so the store
// must judge expiry by the times it is given, not by its own clock; they stay between the years
// 2030 and 2130. Ids include NUL bytes, invalid UTF-8 and ids of up to 1 MiB (see
// webhook.StoreKey), and leases and retentions go up to math.MaxInt64, which must saturate.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paykit-go/paykit/webhook"
	"github.com/stretchr/testify/require"
)

// base is the fixed "now" of the suite; offsets are whole seconds so stores with microsecond
// precision (PostgreSQL) compare exactly.
func base() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) }

const (
	lease     = time.Minute
	retention = time.Hour
)

// TestStore runs the Store contract against stores made by newStore (called once per subtest).
func TestStore(t *testing.T, newStore func(t *testing.T) webhook.Store) {
	t.Helper()
	prefix := randomPrefix(t)
	id := func(t *testing.T) string { return prefix + t.Name() }
	ctx := context.Background()

	t.Run("ClaimAbsent", func(t *testing.T) {
		s := newStore(t)
		expectClaim(t, s, id(t), "a", base(), webhook.Claimed)
	})
	t.Run("ClaimHeldIsInFlight", func(t *testing.T) {
		s, k := newStore(t), id(t)
		expectClaim(t, s, k, "a", base(), webhook.Claimed)
		expectClaim(t, s, k, "b", base().Add(lease-time.Second), webhook.InFlight)
		// The refused claim changed nothing: a still owns it.
		expectErr(t, "Complete(a)", s.Complete(ctx, k, "a", base(), retention), nil)
	})
	t.Run("ExpiredLeaseIsTakenOver", func(t *testing.T) {
		s, k := newStore(t), id(t)
		expectClaim(t, s, k, "a", base(), webhook.Claimed)
		expectClaim(t, s, k, "b", base().Add(lease), webhook.Claimed) // lease end is exclusive
		expectErr(t, "Complete(stale token)", s.Complete(ctx, k, "a", base().Add(lease), retention), webhook.ErrClaimLost)
		expectErr(t, "Release(stale token)", s.Release(ctx, k, "a"), webhook.ErrClaimLost)
		// The stale calls did not disturb the new owner.
		expectClaim(t, s, k, "c", base().Add(lease+time.Second), webhook.InFlight)
		expectErr(t, "Complete(b)", s.Complete(ctx, k, "b", base().Add(lease+time.Second), retention), nil)
		expectClaim(t, s, k, "d", base().Add(lease+2*time.Second), webhook.Duplicate)
	})
	t.Run("CompletedIsDuplicateUntilRetentionEnds", func(t *testing.T) {
		s, k := newStore(t), id(t)
		expectClaim(t, s, k, "a", base(), webhook.Claimed)
		done := base().Add(10 * time.Second)
		expectErr(t, "Complete", s.Complete(ctx, k, "a", done, retention), nil)
		expectClaim(t, s, k, "b", done, webhook.Duplicate)
		expectClaim(t, s, k, "c", done.Add(retention-time.Second), webhook.Duplicate)
		expectClaim(t, s, k, "d", done.Add(retention), webhook.Claimed)
	})
	t.Run("CompleteAfterLeaseEndWithoutTakeover", func(t *testing.T) {
		s, k := newStore(t), id(t)
		expectClaim(t, s, k, "a", base(), webhook.Claimed)
		expectErr(t, "Complete", s.Complete(ctx, k, "a", base().Add(2*lease), retention), nil)
		expectClaim(t, s, k, "b", base().Add(2*lease), webhook.Duplicate)
	})
	t.Run("ReleaseLetsTheNextClaimIn", func(t *testing.T) {
		s, k := newStore(t), id(t)
		expectClaim(t, s, k, "a", base(), webhook.Claimed)
		expectErr(t, "Release", s.Release(ctx, k, "a"), nil)
		expectClaim(t, s, k, "b", base().Add(time.Second), webhook.Claimed)
		expectErr(t, "Release(a) again", s.Release(ctx, k, "a"), webhook.ErrClaimLost)
	})
	t.Run("CompleteAndReleaseNeedTheClaim", func(t *testing.T) {
		s, k := newStore(t), id(t)
		expectErr(t, "Complete(unknown id)", s.Complete(ctx, k, "a", base(), retention), webhook.ErrClaimLost)
		expectErr(t, "Release(unknown id)", s.Release(ctx, k, "a"), webhook.ErrClaimLost)
		expectClaim(t, s, k, "a", base(), webhook.Claimed)
		expectErr(t, "Complete(other token)", s.Complete(ctx, k, "x", base(), retention), webhook.ErrClaimLost)
		expectErr(t, "Release(other token)", s.Release(ctx, k, "x"), webhook.ErrClaimLost)
		expectErr(t, "Complete", s.Complete(ctx, k, "a", base(), retention), nil)
		expectErr(t, "Complete twice", s.Complete(ctx, k, "a", base(), retention), webhook.ErrClaimLost)
		expectErr(t, "Release after Complete", s.Release(ctx, k, "a"), webhook.ErrClaimLost)
		expectClaim(t, s, k, "b", base().Add(time.Second), webhook.Duplicate)
	})
	t.Run("IdsAreIndependent", func(t *testing.T) {
		s, k := newStore(t), id(t)
		expectClaim(t, s, k+"/1", "a", base(), webhook.Claimed)
		expectClaim(t, s, k+"/2", "b", base(), webhook.Claimed)
		expectErr(t, "Complete(1)", s.Complete(ctx, k+"/1", "a", base(), retention), nil)
		expectClaim(t, s, k+"/2", "c", base(), webhook.InFlight)
		expectClaim(t, s, k+"/3", "d", base(), webhook.Claimed)
	})
	t.Run("OpaqueIds", func(t *testing.T) {
		s, k := newStore(t), id(t)
		for _, suffix := range []string{"/ünïcødé-😀", "/quote'\"\\;--", "/" + strings.Repeat("x", 1000)} {
			expectClaim(t, s, k+suffix, "a", base(), webhook.Claimed)
			expectErr(t, "Complete", s.Complete(ctx, k+suffix, "a", base(), retention), nil)
			expectClaim(t, s, k+suffix, "b", base(), webhook.Duplicate)
		}
	})
	t.Run("AnyIdBytes", func(t *testing.T) {
		s, k := newStore(t), id(t)
		long := k + "/long-" + strings.Repeat("x", 3000) // beyond PostgreSQL's B-tree entry limit
		ids := []string{
			k + "/nul\x00a", k + "/nul\x00b", // differ only after a NUL byte
			k + "/invalid-utf8-\xff", k + "/invalid-utf8-\xfe", k + "/truncated-\xc3",
			long, long[:len(long)-1] + "y", // differ only in the last of 3 kB
			k + "/huge-" + strings.Repeat("z", 1<<20), // 1 MiB
			webhook.StoreKey(long),                    // another id's digest key, as a literal id
			webhook.StoreKeyDigestPrefix + k,          // looks like a digest key
			boundaryID(k, 1024), boundaryID(k, 1025),  // around the longest id kept verbatim
			k + "/" + strings.Repeat("é", 600), // 1.2 kB of valid multi-byte text
		}
		// Every id is an independent key: no two of them share a claim.
		for i, x := range ids {
			expectClaim(t, s, x, fmt.Sprint("tok", i), base(), webhook.Claimed)
		}
		for i, x := range ids {
			expectClaim(t, s, x, "other", base().Add(time.Second), webhook.InFlight)
			expectErr(t, "Complete("+describe(x)+")", s.Complete(ctx, x, fmt.Sprint("tok", i), base(), retention), nil)
		}
		for _, x := range ids {
			expectClaim(t, s, x, "again", base().Add(time.Second), webhook.Duplicate)
		}
		// Release works on such ids too.
		x := k + "/release-\x00\xff"
		expectClaim(t, s, x, "a", base(), webhook.Claimed)
		expectErr(t, "Release", s.Release(ctx, x, "a"), nil)
		expectClaim(t, s, x, "b", base(), webhook.Claimed)
	})
	t.Run("HugeDurationsSaturate", func(t *testing.T) {
		s, k := newStore(t), id(t)
		const century = 100 * 365 * 24 * time.Hour
		// 250 years overflows int64 nanoseconds since 1970 when added to the base time;
		// math.MaxInt64 is how callers say "forever".
		for _, d := range []time.Duration{250 * 365 * 24 * time.Hour, math.MaxInt64} {
			x := fmt.Sprintf("%s/%d", k, int64(d))
			expectClaimFor(t, s, x, "a", base(), d, webhook.Claimed)
			expectClaim(t, s, x, "b", base().Add(time.Second), webhook.InFlight)
			expectClaim(t, s, x, "c", base().Add(century), webhook.InFlight)
			expectErr(t, "Complete", s.Complete(ctx, x, "a", base().Add(time.Second), d), nil)
			expectClaim(t, s, x, "d", base().Add(2*time.Second), webhook.Duplicate)
			expectClaim(t, s, x, "e", base().Add(century), webhook.Duplicate)
		}
	})
	t.Run("ConcurrentClaimsHaveOneWinner", func(t *testing.T) {
		s, k := newStore(t), id(t)
		const n = 16
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			results = map[webhook.ClaimResult]int{}
			errs    []error
		)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				r, err := s.Claim(ctx, k, "token-"+string(rune('a'+i)), base(), lease)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				results[r]++
			}(i)
		}
		close(start)
		wg.Wait()
		require.Empty(t, errs, "Claim errors")
		require.Equal(t, 1, results[webhook.Claimed], "results = %v, want 1 claimed", results)
		require.Equal(t, n-1, results[webhook.InFlight], "results = %v, want the others in flight", results)
	})
}

func expectClaim(t *testing.T, s webhook.Store, id, token string, now time.Time, want webhook.ClaimResult) {
	t.Helper()
	expectClaimFor(t, s, id, token, now, lease, want)
}

func expectClaimFor(t *testing.T, s webhook.Store, id, token string, now time.Time, lease time.Duration, want webhook.ClaimResult) {
	t.Helper()
	got, err := s.Claim(context.Background(), id, token, now, lease)
	require.NoError(t, err, "Claim(%s, %q)", describe(id), token)
	require.Equal(t, want, got, "Claim(%s, %q) at %v", describe(id), token, now.Sub(base()))
}

// describe quotes id for a failure message, eliding the middle of long ones.
func describe(id string) string {
	if len(id) <= 100 {
		return fmt.Sprintf("%q", id)
	}
	return fmt.Sprintf("%q…%q (%d bytes)", id[:60], id[len(id)-20:], len(id))
}

// boundaryID returns an id of exactly n bytes starting with k.
func boundaryID(k string, n int) string {
	return k + "/" + strings.Repeat("b", n-len(k)-1)
}

func expectErr(t *testing.T, what string, err, want error) {
	t.Helper()
	require.ErrorIs(t, err, want, what)
}

func randomPrefix(t *testing.T) string {
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return "storetest-" + hex.EncodeToString(b[:]) + "/"
}
