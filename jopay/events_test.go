package jopay_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/webhook"
)

func TestParseEvent(t *testing.T) {
	cases := []struct {
		name    string
		payload string
		want    *jopay.Event // nil: error wanted
	}{
		{"verified", `{"event":"payment.proof_verified","delivery_id":"d1","request_id":"r1","proof_status":"verified","tx_hash":"0x1","timestamp":"2026-05-02T09:15:00.000Z","metadata":{"order_id":"A-1"}}`,
			&jopay.Event{Type: jopay.EventProofVerified, DeliveryID: "d1", RequestID: "r1", ProofStatus: jopay.ProofStatusVerified,
				TxHash: "0x1", Timestamp: time.Date(2026, 5, 2, 9, 15, 0, 0, time.UTC), Metadata: map[string]string{"order_id": "A-1"}}},
		{"nulls", `{"event":"payment.proof_attached","request_id":"r1","proof_source":null,"tx_hash":null,"payer_address":null,"metadata":null,"timestamp":null}`,
			&jopay.Event{Type: jopay.EventProofAttached, RequestID: "r1"}},
		{"numeric ids and unix time", `{"event":"payment.proof_verified","delivery_id":17,"partner_id":2,"request_id":99,"merchant_id":3,"timestamp":1777713300}`,
			&jopay.Event{Type: jopay.EventProofVerified, DeliveryID: "17", PartnerID: "2", RequestID: "99", MerchantID: "3",
				Timestamp: time.Date(2026, 5, 2, 9, 15, 0, 0, time.UTC)}},
		{"unknown type passes", `{"event":"payment.refunded","request_id":"r1","proof_status":"reversed","extra":{"x":1}}`,
			&jopay.Event{Type: "payment.refunded", RequestID: "r1", ProofStatus: "reversed"}},
		{"trails status", `{"event":"payment.proof_attached","trails_status":"pending"}`,
			&jopay.Event{Type: jopay.EventProofAttached, TrailsStatus: "pending"}},
		{"metadata numbers", `{"event":"payment.proof_verified","metadata":{"n":12,"b":false,"o":{"a":1}}}`,
			&jopay.Event{Type: jopay.EventProofVerified, Metadata: map[string]string{"n": "12", "b": "false", "o": `{"a":1}`}}},
		{"no event name", `{"request_id":"r1"}`, nil},
		{"empty event name", `{"event":""}`, nil},
		{"array", `[{"event":"payment.proof_verified"}]`, nil},
		{"not json", `event=payment.proof_verified`, nil},
		{"truncated", `{"event":"payment.proof_verified"`, nil},
		{"empty", ``, nil},
		{"bad utf8", "{\"event\":\"payment.proof_verified\",\"memo\":\"\xff\"}", nil},
		{"wrong type", `{"event":"payment.proof_verified","request_id":{"a":1}}`, nil},
		{"bad time", `{"event":"payment.proof_verified","timestamp":"yesterday"}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := jopay.ParseEvent([]byte(tc.payload))
			if tc.want == nil {
				require.ErrorIs(t, err, webhook.ErrInvalidPayload)
				return
			}
			require.NoError(t, err)
			tc.want.Raw = []byte(tc.payload)
			assert.Empty(t, cmp.Diff(tc.want, got), "(-want +got)")
		})
	}
}

func TestIsPaid(t *testing.T) {
	for _, tc := range []struct {
		typ   jopay.EventType
		proof jopay.ProofStatus
		want  bool
	}{
		{jopay.EventProofVerified, jopay.ProofStatusVerified, true},
		{jopay.EventProofVerified, jopay.ProofStatusAttached, false}, // contradictory: not paid
		{jopay.EventProofAttached, jopay.ProofStatusVerified, false},
		{jopay.EventProofAttached, jopay.ProofStatusAttached, false},
		{"payment.other", jopay.ProofStatusVerified, false},
	} {
		e := &jopay.Event{Type: tc.typ, ProofStatus: tc.proof}
		assert.Equal(t, tc.want, e.IsPaid(), "%s/%s: IsPaid", tc.typ, tc.proof)
	}
}

func TestDedupeKey(t *testing.T) {
	a := &jopay.Event{Type: jopay.EventProofVerified, DeliveryID: "d1", RequestID: "r1", TxHash: "0x1"}
	redelivered := *a
	redelivered.DeliveryID = "d2" // unique per attempt
	assert.Equal(t, jopay.DedupeKey(a), jopay.DedupeKey(&redelivered), "a redelivery with a new delivery_id must dedupe")
	attached := *a
	attached.Type = jopay.EventProofAttached
	assert.NotEqual(t, jopay.DedupeKey(a), jopay.DedupeKey(&attached), "attached and verified are different events")
	secondProof := attached
	secondProof.TxHash = "0x2"
	assert.NotEqual(t, jopay.DedupeKey(&attached), jopay.DedupeKey(&secondProof), "a different proof after a mismatch must not be deduped")
	assert.Equal(t, "jopay:delivery:d9", jopay.DedupeKey(&jopay.Event{Type: "x", DeliveryID: "d9"}), "fallback")
	assert.Empty(t, jopay.DedupeKey(&jopay.Event{Type: "x"}), "no ids, no body")
	// Without ids, the signed body itself is the key: the same bytes always dedupe.
	noIDs := []byte(`{"event":"payment.proof_attached","proof_status":"pending"}`)
	e, err := jopay.ParseEvent(noIDs)
	require.NoError(t, err)
	sum := sha256.Sum256(noIDs)
	assert.Equal(t, "jopay:sha256:"+hex.EncodeToString(sum[:]), jopay.DedupeKey(e), "no ids")
	// Components are escaped, so a colon in an id cannot make two events share a key.
	colon := jopay.DedupeKey(&jopay.Event{Type: "b:c", RequestID: "a"})
	assert.NotEqual(t, colon, jopay.DedupeKey(&jopay.Event{Type: "c", RequestID: "a:b"}), "keys collide")
	assert.Equal(t, "jopay:a:b%3Ac:", colon, "escaped key")
}

func TestChargeClassification(t *testing.T) {
	cases := []struct {
		md        map[string]string
		recurring bool
		key       string
	}{
		{map[string]string{"subscription_id": "SUB-8821", "billing_cycle": "monthly"}, true, "SUB-8821"},
		{map[string]string{"plan_id": "PLAN-1"}, true, "PLAN-1"},
		{map[string]string{"subscription": "true"}, true, ""},
		{map[string]string{"subscription": "TRUE "}, true, ""},
		{map[string]string{"subscription": "false", "order_id": "A-1"}, false, ""},
		{map[string]string{"subscription_id": "  "}, false, ""},
		{map[string]string{"order_id": "A-1"}, false, ""},
		{nil, false, ""},
	}
	for _, tc := range cases {
		e := &jopay.Event{Type: jopay.EventProofVerified, Metadata: tc.md}
		id, ok := e.SubscriptionID()
		assert.Equal(t, tc.recurring, ok, "%v: SubscriptionID ok", tc.md)
		assert.Equal(t, tc.key, id, "%v: SubscriptionID", tc.md)
		r := &jopay.PaymentRequest{Metadata: tc.md}
		assert.Equal(t, e.Charge(), r.Charge(), "request and event classify differently")
	}
	c := jopay.ChargeOf(map[string]string{"subscription_id": "SUB-8821", "billing_cycle": "monthly", "order_id": "O-1"})
	assert.Equal(t, jopay.Charge{Recurring: true, SubscriptionID: "SUB-8821", BillingCycle: "monthly", OrderID: "O-1"}, c, "ChargeOf")
}

// FuzzParseEvent: ParseEvent never panics; an accepted payload has an event name, keeps the
// raw bytes, and its ids survive a second parse of the same bytes unchanged.
func FuzzParseEvent(f *testing.F) {
	for _, name := range []string{"webhook_proof_verified.json", "webhook_proof_attached.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"event":"payment.proof_verified","delivery_id":17,"timestamp":1777713300,"metadata":{"n":1}}`))
	f.Add([]byte(`{"event":null}`))
	f.Add([]byte(`{"event":"x","metadata":[]}`))
	f.Add([]byte(`{"event":"x","timestamp":"2026-05-02"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := jopay.ParseEvent(payload)
		if err != nil {
			require.ErrorIs(t, err, webhook.ErrInvalidPayload)
			return
		}
		require.NotEmpty(t, e.Type, "accepted an event without a name")
		require.True(t, bytes.Equal(e.Raw, payload), "Raw differs from the payload")
		again, err := jopay.ParseEvent(payload)
		require.NoError(t, err, "second parse differs")
		require.True(t, cmp.Equal(e, again), "second parse differs: %v", err)
		_ = jopay.DedupeKey(e)
		_ = e.Charge()
	})
}
