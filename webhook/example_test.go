package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/paykit-go/paykit/webhook"
)

func ExampleTimestampVerifier() {
	payload := []byte(`{"event":"payment.proof_verified","request_id":"req_1"}`)
	signedAt := time.Unix(1767225600, 0)
	// What JoPay Checkout sends in X-JoPay-Signature ("t=…,v1=…"; JoPay puts v1 first).
	header := webhook.SignTimestamp("whsec_current", signedAt, payload)

	v, err := webhook.NewTimestampVerifier("whsec_current",
		webhook.WithPreviousSecrets("whsec_old"), // still accepted during a rotation
		webhook.WithClock(func() time.Time { return signedAt.Add(time.Minute) }),
	)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Verify(payload, header))
	fmt.Println(v.Verify([]byte(`{"event":"forged"}`), header))
	fmt.Println(errors.Is(v.Verify(payload, ""), webhook.ErrMissingSignature))

	late, _ := webhook.NewTimestampVerifier("whsec_current",
		webhook.WithClock(func() time.Time { return signedAt.Add(time.Hour) }))
	fmt.Println(late.Verify(payload, header))
	// Output:
	// <nil>
	// webhook: signature mismatch
	// true
	// webhook: timestamp outside tolerance
}

// Pepay signs "<X-Pepay-Timestamp in ms>.<body>" and sends X-Pepay-Signature and, during a
// rotation, X-Pepay-Signature-Previous.
func ExampleTimestampVerifier_VerifyAt() {
	body := []byte(`{"id":"evt_1","type":"invoice.updated"}`)
	tsHeader := "1767225600123"
	sig := webhook.Sign("pepay_secret", tsHeader, body)

	v, _ := webhook.NewTimestampVerifier("pepay_secret",
		webhook.WithClock(func() time.Time { return time.UnixMilli(1767225660000) }))
	fmt.Println(v.VerifyAt(body, tsHeader, time.UnixMilli(1767225600123), sig, ""))
	// Output: <nil>
}

func ExampleSign() {
	fmt.Println(webhook.Sign("secret", "1767225600", []byte(`{"a":1}`)))
	// Output: 96a067a1c95eb143fc00b9097bcfcbcd5456adda508c443ff219748e764dbed7
}

func ExampleNewHandler() {
	const secret = "whsec_example"
	now := time.Unix(1767225600, 0)
	v, _ := webhook.NewTimestampVerifier(secret, webhook.WithClock(func() time.Time { return now }))

	// A provider whose events carry a stable id (for JoPay, whose delivery_id changes per
	// attempt, use jopay.NewWebhookHandler and its DedupeKey instead).
	type event struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	endpoint := webhook.Endpoint[event]{
		Verify: v.VerifyFunc("X-Acme-Signature"),
		Parse: func(body []byte) (event, error) {
			var e event
			return e, json.Unmarshal(body, &e)
		},
		EventID: func(_ []byte, _ http.Header, e event) string { return e.ID },
	}
	// Dedupe is on by default, over an in-memory store; replicas share webhook/sqlstore or
	// webhook/redisstore: webhook.WithDeduper(webhook.NewDeduper(store)). Add
	// webhook.WithLogger(logger) to log rejected deliveries and handler failures.
	handler := webhook.NewHandler(endpoint, func(ctx context.Context, e event) error {
		fmt.Println("processing", e.Type, e.ID)
		return nil
	}, webhook.WithMaxPayloadBytes(64<<10))

	srv := httptest.NewServer(handler) // listens on 127.0.0.1
	defer srv.Close()
	deliver := func(body []byte, signature string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("X-Acme-Signature", signature)
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %s", resp.StatusCode, text)
	}
	body := []byte(`{"id":"evt_1","type":"invoice.paid"}`)
	deliver(body, webhook.SignTimestamp(secret, now, body))
	deliver(body, webhook.SignTimestamp(secret, now, body)) // the provider retries
	deliver(body, webhook.SignTimestamp("forged", now, body))
	// Output:
	// processing invoice.paid evt_1
	// 200 ok
	// 200 duplicate
	// 400 invalid_signature
}

func ExampleDeduper() {
	ctx := context.Background()
	d := webhook.NewDeduper(webhook.NewMemoryStore())

	err := d.Do(ctx, "evt_1", func(ctx context.Context) error {
		return errors.New("ledger unavailable") // released: the redelivery runs it again
	})
	fmt.Println(err, webhook.StatusCode(err))

	err = d.Do(ctx, "evt_1", func(ctx context.Context) error {
		fmt.Println("credited order for evt_1")
		return nil
	})
	fmt.Println(err, webhook.StatusCode(err))

	err = d.Do(ctx, "evt_1", func(ctx context.Context) error { panic("not reached") })
	fmt.Println(err, webhook.StatusCode(err))
	// Output:
	// ledger unavailable 500
	// credited order for evt_1
	// <nil> 200
	// webhook: duplicate event 200
}

func ExampleStatusCode() {
	for _, err := range []error{nil, webhook.ErrDuplicate, webhook.ErrSignatureMismatch,
		webhook.ErrPayloadTooLarge, webhook.ErrInFlight, errors.New("handler failed")} {
		fmt.Println(webhook.StatusCode(err), err)
	}
	// Output:
	// 200 <nil>
	// 200 webhook: duplicate event
	// 400 webhook: signature mismatch
	// 413 webhook: payload too large
	// 503 webhook: event in flight
	// 500 handler failed
}
