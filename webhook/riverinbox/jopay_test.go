package riverinbox_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopay/jopaytest"
	"github.com/paykit-go/paykit/webhook"
	"github.com/paykit-go/paykit/webhook/riverinbox"
)

// End to end through JoPay's handler: the fake's signed delivery is acknowledged before the
// handler function runs, a redelivery is not stored twice, the worker fulfils once, a forged
// delivery stores nothing, and an insert failure answers 500 so JoPay redelivers.
func TestJoPayHandlerWithInbox(t *testing.T) {
	db := newTestDB(t)
	pool := db.pool(t, "riverinbox-test", 8)
	r := db.newReplica(t, pool, riverinbox.WithWorkers(2), riverinbox.WithMaxAttempts(3))
	dd := db.dedupe(t, db.sqlDB(t, "riverinbox-test-dedupe"), time.Minute)
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) }) // before the replica stops
	var (
		calls     atomic.Int64
		fulfilled atomic.Int64
	)
	fulfil := func(ctx context.Context, e *jopay.Event) error {
		calls.Add(1)
		if !e.IsPaid() {
			return nil
		}
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		fulfilled.Add(1)
		return db.recordEffect(ctx, pool, jopay.DedupeKey(e), "a")
	}
	h, err := jopay.NewWebhookHandler(jopaytest.WebhookSecret, fulfil, webhook.WithDeduper(dd), webhook.WithInbox(r.Inbox, "jopay"))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	defer hs.Close()
	fake := jopaytest.NewServer(jopaytest.WithDeliveryAttempts(3, func(int) time.Duration { return 10 * time.Millisecond }))
	defer fake.Close()
	fake.SetWebhook(hs.URL, jopaytest.WebhookSecret)
	client, err := fake.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	r.start(t)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := client.CreateRequest(ctx, jopay.CreateRequestParams{
		MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 1250, Memo: "Order #1",
		Metadata: map[string]string{jopay.MetadataOrderID: "1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Open(req.ID); err != nil {
		t.Fatal(err)
	}
	verified, err := fake.Pay(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Acknowledged at once, while the fulfilment is still blocked.
	if !verified.Delivered || len(verified.Attempts) != 1 || verified.Attempts[0].Status != http.StatusOK {
		t.Fatalf("payment.proof_verified delivery: delivered %v, attempts %+v; want one 200", verified.Delivered, verified.Attempts)
	}
	if n := fulfilled.Load(); n != 0 {
		t.Fatalf("fulfilled %d times before the answer", n)
	}
	var key string
	if err := db.admin.QueryRow(ctx, `SELECT args->>'key' FROM `+db.schema+`.river_job WHERE args->>'endpoint' = 'jopay' AND convert_from(decode(args->>'body', 'base64'), 'UTF8') LIKE '%proof_verified%'`).Scan(&key); err != nil {
		t.Fatalf("stored delivery: %v", err)
	}

	// JoPay redelivers under a new delivery id: answered 200, not stored again.
	re, err := fake.Redeliver(ctx, req.ID, jopay.EventProofVerified)
	if err != nil {
		t.Fatal(err)
	}
	if !re.Delivered || re.Attempts[len(re.Attempts)-1].Status != http.StatusOK {
		t.Errorf("redelivery: %+v", re.Attempts)
	}
	if n := db.jobs(t, key); n != 1 {
		t.Errorf("%d jobs for the verified event after a redelivery, want 1", n)
	}
	releaseOnce.Do(func() { close(release) })
	waitFor(t, 10*time.Second, "the fulfilment", func() bool { return db.effects(t, key) == 1 })
	waitFor(t, 10*time.Second, "completion", func() bool { return db.job(t, key).State == "completed" })
	time.Sleep(200 * time.Millisecond)
	if n := fulfilled.Load(); n != 1 {
		t.Errorf("fulfilled %d times, want 1", n)
	}

	// The endpoint name is taken.
	if _, err := jopay.NewWebhookHandler(jopaytest.WebhookSecret, fulfil, webhook.WithInbox(r.Inbox, "jopay")); !errors.Is(err, riverinbox.ErrAlreadyRegistered) {
		t.Errorf("second handler on endpoint jopay: %v, want ErrAlreadyRegistered", err)
	}

	// A forged delivery is refused before anything is stored.
	before := db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job`)
	body := verified.Body
	forged, err := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	forged.Header.Set(jopay.SignatureHeader, jopaytest.SignatureHeader("wrong-secret", time.Now(), body))
	resp, err := http.DefaultClient.Do(forged)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged delivery answered %d, want 400", resp.StatusCode)
	}
	if n := db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job`); n != before {
		t.Errorf("forged delivery stored a job (%d → %d)", before, n)
	}

	// An inbox whose insert fails (its tables are missing) answers 500: JoPay redelivers.
	db.exec(t, `CREATE SCHEMA `+db.schema+`_empty`)
	t.Cleanup(func() { db.exec(t, `DROP SCHEMA `+db.schema+`_empty CASCADE`) })
	broken, err := riverinbox.New(pool, riverinbox.WithSchema(db.schema+"_empty"))
	if err != nil {
		t.Fatal(err)
	}
	h2, err := jopay.NewWebhookHandler(jopaytest.WebhookSecret, fulfil, webhook.WithDeduper(dd), webhook.WithInbox(broken, "jopay"))
	if err != nil {
		t.Fatal(err)
	}
	hs2 := httptest.NewServer(h2)
	defer hs2.Close()
	fake.SetWebhook(hs2.URL, jopaytest.WebhookSecret)
	req2, err := client.CreateRequest(ctx, jopay.CreateRequestParams{
		MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 990, Memo: "Order #2",
		Metadata: map[string]string{jopay.MetadataOrderID: "2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Open(req2.ID); err != nil {
		t.Fatal(err)
	}
	failed, err := fake.AttachProof(ctx, req2.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if failed.Delivered || len(failed.Attempts) != 3 {
		t.Errorf("delivery to a failing inbox: delivered %v after %d attempts; want 3 attempts, not delivered", failed.Delivered, len(failed.Attempts))
	}
	for _, a := range failed.Attempts {
		if a.Status != http.StatusInternalServerError {
			t.Errorf("attempt answered %d, want 500", a.Status)
		}
	}
}
