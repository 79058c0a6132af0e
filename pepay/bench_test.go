package pepay_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit/internal/apitest"
	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

// BenchmarkParseEvent compares ParseEvent (envelope, tolerant types, typed invoice) with the
// baseline a hand-rolled integration would write: json.Unmarshal into map[string]any, which
// checks nothing and types nothing. The ratio metric is ParseEvent's time per op over the
// baseline's, measured in the same run. Target: ≤ 1.0× (typed parsing no slower than an
// untyped map).
func BenchmarkParseEvent(b *testing.B) {
	payload := apitest.Fixture(b, "webhook_event.json")
	parse := func() {
		if _, err := pepay.ParseEvent(payload); err != nil {
			b.Fatal(err)
		}
	}
	baseline := func() {
		var m map[string]any
		if err := json.Unmarshal(payload, &m); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("ParseEvent", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			parse()
		}
	})
	b.Run("baseline-map", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			baseline()
		}
	})
	b.Run("ratio", func(b *testing.B) {
		var tp, tb time.Duration
		for range b.N {
			s := time.Now()
			parse()
			tp += time.Since(s)
			s = time.Now()
			baseline()
			tb += time.Since(s)
		}
		b.ReportMetric(float64(tp)/float64(tb), "x-baseline")
	})
}

// BenchmarkWebhookVerify compares verifying a delivery (header parsing, ms timestamp, HMAC with
// constant-time compare, tolerance) with the bare HMAC-SHA256 a hand-rolled check computes.
// Target: x-baseline ≤ 1.2×, as for webhook.TimestampVerifier at small bodies.
func BenchmarkWebhookVerify(b *testing.B) {
	body := apitest.Fixture(b, "webhook_event.json")
	now := time.UnixMilli(1767225600123)
	h := pepaytest.SignatureHeaders("whsec_bench", "", now, body)
	v, err := pepay.NewWebhookVerifier("whsec_bench", clockAt(now))
	require.NoError(b, err)
	verify := func() {
		if err := v.Verify(body, h); err != nil {
			b.Fatal(err)
		}
	}
	baseline := func() { _ = pepaytest.SignatureHeaders("whsec_bench", "", now, body) }
	b.Run("Verify", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			verify()
		}
	})
	b.Run("baseline-sign", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			baseline()
		}
	})
	b.Run("ratio", func(b *testing.B) {
		var tv, tb time.Duration
		for range b.N {
			s := time.Now()
			verify()
			tv += time.Since(s)
			s = time.Now()
			baseline()
			tb += time.Since(s)
		}
		b.ReportMetric(float64(tv)/float64(tb), "x-baseline")
	})
}
