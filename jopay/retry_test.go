package jopay_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/idempotency"
	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
)

// createKeys returns the idempotency_key of every POST /requests/create the fake received.
func createKeys(t *testing.T, srv *jopaytest.Server) []string {
	t.Helper()
	var keys []string
	for _, c := range srv.Calls() {
		if c.Method != http.MethodPost || c.Path != "/api/v1/requests/create" {
			continue
		}
		var body struct {
			Key string `json:"idempotency_key"`
		}
		require.NoError(t, json.Unmarshal(c.Body, &body))
		keys = append(keys, body.Key)
	}
	return keys
}

func checkoutParams() jopay.CreateRequestParams {
	return jopay.CreateRequestParams{MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 2750,
		Metadata: map[string]string{"order_id": "A-1001"}}
}

// TestCreateRetriedOnceCreated: whatever goes wrong between client and server, a create ends
// with exactly one request, and every attempt carried the same key.
func TestCreateRetriedOnceCreated(t *testing.T) {
	cases := []struct {
		name     string
		inject   func(*jopaytest.Server)
		attempts int
	}{
		{"500", func(s *jopaytest.Server) { s.FailNext(1, http.StatusInternalServerError, 0) }, 2},
		{"503 twice", func(s *jopaytest.Server) { s.FailNext(2, http.StatusServiceUnavailable, 0) }, 3},
		{"dropped before processing", func(s *jopaytest.Server) { s.DropNext(1) }, 2},
		{"dropped after processing", func(s *jopaytest.Server) { s.LoseResponseNext(1) }, 2},
		{"processed, dropped twice", func(s *jopaytest.Server) { s.LoseResponseNext(2) }, 3},
	}
	for _, tc := range cases {
		for _, keyed := range []bool{false, true} {
			name := tc.name + map[bool]string{false: "/generated key", true: "/caller key"}[keyed]
			t.Run(name, func(t *testing.T) {
				srv := jopaytest.NewServer()
				defer srv.Close()
				c, _ := srv.NewClient()
				p := checkoutParams()
				if keyed {
					p.IdempotencyKey = idempotency.Key("checkout", "A-1001")
				}
				tc.inject(srv)
				got, err := c.CreateRequest(context.Background(), p)
				require.NoError(t, err)
				all := srv.PaymentRequests()
				require.Len(t, all, 1, "requests stored, want exactly the returned one")
				require.Equal(t, got.ID, all[0].ID, "requests stored, want exactly the returned one")
				keys := createKeys(t, srv)
				require.Len(t, keys, tc.attempts, "attempts")
				for _, k := range keys {
					assert.Equal(t, got.IdempotencyKey, k, "attempt sent key %q, result reports %q", k, got.IdempotencyKey)
				}
				if keyed {
					assert.Equal(t, p.IdempotencyKey, got.IdempotencyKey, "caller's key not used")
				}
			})
		}
	}
}

// TestCreateRetryAfter: a 429 with Retry-After is retried after the wait asked for.
func TestCreateRetryAfter(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	srv.FailNext(1, http.StatusTooManyRequests, time.Second)
	start := time.Now()
	_, err := c.CreateRequest(context.Background(), checkoutParams())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "retried too early: want about 1s (Retry-After)")
	assert.Equal(t, 2, len(createKeys(t, srv)), "attempts")
}

// TestCreateGiveUpThenResume: when every retry fails the caller gets the key and, re-sending
// with it later, the original request — never a second one.
func TestCreateGiveUpThenResume(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient(jopay.WithMaxRetries(2))
	srv.LoseResponseNext(3)
	_, err := c.CreateRequest(context.Background(), checkoutParams())
	var ce *jopay.CreateError
	require.ErrorAs(t, err, &ce)
	p := checkoutParams()
	p.IdempotencyKey = ce.IdempotencyKey
	got, err := c.CreateRequest(context.Background(), p)
	require.NoError(t, err)
	all := srv.PaymentRequests()
	require.Len(t, all, 1, "requests stored")
	require.Equal(t, got.ID, all[0].ID, "requests stored")
}

func TestIdempotencyConflict(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	p := checkoutParams()
	p.IdempotencyKey = idempotency.Key("checkout", "A-1001")
	first, err := c.CreateRequest(context.Background(), p)
	require.NoError(t, err)
	again, err := c.CreateRequest(context.Background(), p)
	require.NoError(t, err, "replay = %v", again)
	require.Equal(t, first.ID, again.ID, "replay = %v; want the original", again)
	p.FiatAmountInt++
	_, err = c.CreateRequest(context.Background(), p)
	require.True(t, paykit.IsCode(err, jopay.CodeIdempotencyConflict), "err = %v, want 409 idempotency_conflict", err)
	require.True(t, paykit.IsStatus(err, http.StatusConflict), "err = %v, want 409 idempotency_conflict", err)
}

// TestReadsRetried: GET and cancel are retried; an unkeyed write (create merchant) is not,
// and its unknown outcome is reported.
func TestReadsRetried(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	r, err := c.CreateRequest(context.Background(), checkoutParams())
	require.NoError(t, err)
	srv.FailNext(2, http.StatusBadGateway, 0)
	_, err = c.GetRequest(context.Background(), r.ID)
	require.NoError(t, err, "GetRequest after 2×502")
	srv.LoseResponseNext(1)
	got, err := c.CancelRequest(context.Background(), r.ID)
	require.NoError(t, err, "CancelRequest after a lost answer: %v", got)
	require.Equal(t, jopay.StatusCancelled, got.Status, "CancelRequest after a lost answer: %v, %v", got, err)

	srv.LoseResponseNext(1)
	_, err = c.CreateMerchant(context.Background(), jopay.CreateMerchantParams{DisplayName: "Tea"})
	require.ErrorIs(t, err, paykit.ErrUnknownOutcome)
	srv.FailNext(1, http.StatusInternalServerError, 0)
	_, err = c.CreateMerchant(context.Background(), jopay.CreateMerchantParams{DisplayName: "Tea"})
	require.ErrorIs(t, err, paykit.ErrUnknownOutcome)
	require.True(t, paykit.IsStatus(err, 500), "err = %v, want ErrUnknownOutcome wrapping the 500", err)
	merchants, _ := c.ListMerchants(context.Background())
	assert.Len(t, merchants, 2, "merchants: the default one and the one whose answer was lost")
}
