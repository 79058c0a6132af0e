package jopay_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

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
		if err := json.Unmarshal(c.Body, &body); err != nil {
			t.Fatal(err)
		}
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
				if err != nil {
					t.Fatal(err)
				}
				all := srv.PaymentRequests()
				if len(all) != 1 || all[0].ID != got.ID {
					t.Fatalf("%d requests stored, want exactly the returned one", len(all))
				}
				keys := createKeys(t, srv)
				if len(keys) != tc.attempts {
					t.Fatalf("attempts = %d, want %d", len(keys), tc.attempts)
				}
				for _, k := range keys {
					if k != got.IdempotencyKey {
						t.Errorf("attempt sent key %q, result reports %q", k, got.IdempotencyKey)
					}
				}
				if keyed && got.IdempotencyKey != p.IdempotencyKey {
					t.Errorf("caller's key not used")
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
	if _, err := c.CreateRequest(context.Background(), checkoutParams()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("retried after %v, want about 1s (Retry-After)", waited)
	}
	if n := len(createKeys(t, srv)); n != 2 {
		t.Errorf("attempts = %d", n)
	}
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
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CreateError", err)
	}
	p := checkoutParams()
	p.IdempotencyKey = ce.IdempotencyKey
	got, err := c.CreateRequest(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if all := srv.PaymentRequests(); len(all) != 1 || all[0].ID != got.ID {
		t.Fatalf("%d requests stored", len(all))
	}
}

func TestIdempotencyConflict(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	p := checkoutParams()
	p.IdempotencyKey = idempotency.Key("checkout", "A-1001")
	first, err := c.CreateRequest(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateRequest(context.Background(), p)
	if err != nil || again.ID != first.ID {
		t.Fatalf("replay = %v, %v; want the original %s", again, err, first.ID)
	}
	p.FiatAmountInt++
	_, err = c.CreateRequest(context.Background(), p)
	if !paykit.IsCode(err, jopay.CodeIdempotencyConflict) || !paykit.IsStatus(err, http.StatusConflict) {
		t.Fatalf("err = %v, want 409 idempotency_conflict", err)
	}
}

// TestReadsRetried: GET and cancel are retried; an unkeyed write (create merchant) is not,
// and its unknown outcome is reported.
func TestReadsRetried(t *testing.T) {
	srv := jopaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	r, err := c.CreateRequest(context.Background(), checkoutParams())
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(2, http.StatusBadGateway, 0)
	if _, err := c.GetRequest(context.Background(), r.ID); err != nil {
		t.Fatalf("GetRequest after 2×502: %v", err)
	}
	srv.LoseResponseNext(1)
	got, err := c.CancelRequest(context.Background(), r.ID)
	if err != nil || got.Status != jopay.StatusCancelled {
		t.Fatalf("CancelRequest after a lost answer: %v, %v", got, err)
	}

	srv.LoseResponseNext(1)
	_, err = c.CreateMerchant(context.Background(), jopay.CreateMerchantParams{DisplayName: "Tea"})
	if !errors.Is(err, paykit.ErrUnknownOutcome) {
		t.Fatalf("err = %v, want ErrUnknownOutcome", err)
	}
	srv.FailNext(1, http.StatusInternalServerError, 0)
	_, err = c.CreateMerchant(context.Background(), jopay.CreateMerchantParams{DisplayName: "Tea"})
	if !errors.Is(err, paykit.ErrUnknownOutcome) || !paykit.IsStatus(err, 500) {
		t.Fatalf("err = %v, want ErrUnknownOutcome wrapping the 500", err)
	}
	merchants, _ := c.ListMerchants(context.Background())
	if len(merchants) != 2 { // the default one and the one whose answer was lost
		t.Errorf("%d merchants", len(merchants))
	}
}
