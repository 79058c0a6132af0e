package riverinbox_test

import (
	"bytes"
	"context"
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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
	hs := httptest.NewServer(h)
	defer hs.Close()
	fake := jopaytest.NewServer(jopaytest.WithDeliveryAttempts(3, func(int) time.Duration { return 10 * time.Millisecond }))
	defer fake.Close()
	fake.SetWebhook(hs.URL, jopaytest.WebhookSecret)
	client, err := fake.NewClient()
	require.NoError(t, err)
	r.start(t)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := client.CreateRequest(ctx, jopay.CreateRequestParams{
		MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 1250, Memo: "Order #1",
		Metadata: map[string]string{jopay.MetadataOrderID: "1"},
	})
	require.NoError(t, err)
	require.NoError(t, fake.Open(req.ID))
	verified, err := fake.Pay(ctx, req.ID)
	require.NoError(t, err)
	// Acknowledged at once, while the fulfilment is still blocked.
	require.True(t, verified.Delivered, "payment.proof_verified delivery: attempts %+v", verified.Attempts)
	require.Len(t, verified.Attempts, 1, "payment.proof_verified delivery: want one 200")
	require.Equal(t, http.StatusOK, verified.Attempts[0].Status, "payment.proof_verified delivery")
	require.Zero(t, fulfilled.Load(), "fulfilled before the answer")
	var key string
	require.NoError(t, db.admin.QueryRow(ctx, `SELECT args->>'key' FROM `+db.schema+`.river_job WHERE args->>'endpoint' = 'jopay' AND convert_from(decode(args->>'body', 'base64'), 'UTF8') LIKE '%proof_verified%'`).Scan(&key), "stored delivery")

	// JoPay redelivers under a new delivery id: answered 200, not stored again.
	re, err := fake.Redeliver(ctx, req.ID, jopay.EventProofVerified)
	require.NoError(t, err)
	assert.True(t, re.Delivered, "redelivery: %+v", re.Attempts)
	if assert.NotEmpty(t, re.Attempts, "redelivery") {
		assert.Equal(t, http.StatusOK, re.Attempts[len(re.Attempts)-1].Status, "redelivery: last attempt")
	}
	assert.Equal(t, 1, db.jobs(t, key), "jobs for the verified event after a redelivery")
	releaseOnce.Do(func() { close(release) })
	waitFor(t, 10*time.Second, "the fulfilment", func() bool { return db.effects(t, key) == 1 })
	waitFor(t, 10*time.Second, "completion", func() bool { return db.job(t, key).State == "completed" })
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, int64(1), fulfilled.Load(), "fulfilments")

	// The endpoint name is taken.
	_, err = jopay.NewWebhookHandler(jopaytest.WebhookSecret, fulfil, webhook.WithInbox(r.Inbox, "jopay"))
	assert.ErrorIs(t, err, riverinbox.ErrAlreadyRegistered, "second handler on endpoint jopay")

	// A forged delivery is refused before anything is stored.
	before := db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job`)
	body := verified.Body
	forged, err := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL, bytes.NewReader(body))
	require.NoError(t, err)
	forged.Header.Set(jopay.SignatureHeader, jopaytest.SignatureHeader("wrong-secret", time.Now(), body))
	resp, err := http.DefaultClient.Do(forged)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "forged delivery answered")
	n := db.count(t, `SELECT count(*) FROM `+db.schema+`.river_job`)
	assert.Equal(t, before, n, "forged delivery stored a job (%d → %d)", before, n)

	// An inbox whose insert fails (its tables are missing) answers 500: JoPay redelivers.
	db.exec(t, `CREATE SCHEMA `+db.schema+`_empty`)
	t.Cleanup(func() { db.exec(t, `DROP SCHEMA `+db.schema+`_empty CASCADE`) })
	broken, err := riverinbox.New(pool, riverinbox.WithSchema(db.schema+"_empty"))
	require.NoError(t, err)
	h2, err := jopay.NewWebhookHandler(jopaytest.WebhookSecret, fulfil, webhook.WithDeduper(dd), webhook.WithInbox(broken, "jopay"))
	require.NoError(t, err)
	hs2 := httptest.NewServer(h2)
	defer hs2.Close()
	fake.SetWebhook(hs2.URL, jopaytest.WebhookSecret)
	req2, err := client.CreateRequest(ctx, jopay.CreateRequestParams{
		MerchantID: jopaytest.DefaultMerchantID, FiatAmountInt: 990, Memo: "Order #2",
		Metadata: map[string]string{jopay.MetadataOrderID: "2"},
	})
	require.NoError(t, err)
	require.NoError(t, fake.Open(req2.ID))
	failed, err := fake.AttachProof(ctx, req2.ID, "")
	require.NoError(t, err)
	assert.False(t, failed.Delivered, "delivery to a failing inbox delivered")
	assert.Len(t, failed.Attempts, 3, "delivery to a failing inbox: attempts")
	for _, a := range failed.Attempts {
		assert.Equal(t, http.StatusInternalServerError, a.Status, "attempt answered")
	}
}
