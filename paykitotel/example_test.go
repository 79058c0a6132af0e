package paykitotel_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"golang.org/x/time/rate"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/paykitotel"
	"github.com/paykit-go/paykit/webhook"
)

// A JoPay client reporting to OpenTelemetry: the call's span, one child span per attempt, and
// the call metrics. The SDK's in-memory exporter and manual reader stand in for real exporters.
func Example() {
	// A JoPay stand-in that fails once with 503, then answers.
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"ok":false,"error":"unavailable"}`)
			return
		}
		fmt.Fprint(w, `{"ok":true,"request_id":"req_1","status":"requested","proof_status":"none",`+
			`"pay_page_url":"https://pay.jopay.app/req_1","created_at":"2026-05-02T09:00:00.000Z",`+
			`"expires_at":"2026-05-02T10:00:00.000Z","amount":{"fiat_int":275,"fiat_code":"USD","usdc_micro":"2750000"},`+
			`"merchant_id":"m_1","metadata":{}}`)
	}))
	defer srv.Close()

	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	obs, err := paykitotel.New(paykitotel.WithTracerProvider(tp), paykitotel.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}

	client, err := jopay.NewClient("jo_test_3f9a0c", jopay.WithBaseURL(srv.URL+"/api/v1"),
		jopay.WithObserver(obs), jopay.WithRetryWait(time.Millisecond, 2*time.Millisecond),
		jopay.WithRateLimiter(rate.NewLimiter(rate.Inf, 0))) // the stand-in needs no rate limit
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.GetRequest(context.Background(), "req_1"); err != nil {
		log.Fatal(err)
	}

	for _, s := range spans.GetSpans() { // in the order they ended: attempts, then the call
		fmt.Print(s.Name)
		for _, kv := range s.Attributes {
			switch kv.Key {
			case "http.response.status_code", "paykit.retry_count":
				fmt.Printf(" %s=%s", kv.Key, kv.Value.Emit())
			}
		}
		fmt.Println()
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		fmt.Println(m.Name, m.Unit)
	}
	// Output:
	// GET /requests/{id} http.response.status_code=503
	// GET /requests/{id} http.response.status_code=200
	// jopay GET /requests/{id} http.response.status_code=200 paykit.retry_count=1
	// paykit.client.call.duration s
	// paykit.client.call.retries {retry}
}

// Webhook handlers report the deliveries they refuse, and Dedupers their decisions.
func ExampleObserver_Rejected() {
	reader := sdkmetric.NewManualReader()
	obs, err := paykitotel.New(paykitotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	if err != nil {
		log.Fatal(err)
	}
	v, err := webhook.NewTimestampVerifier("whsec_example")
	if err != nil {
		log.Fatal(err)
	}
	ep := webhook.Endpoint[string]{
		Verify:  v.VerifyFunc("X-Signature"),
		Parse:   func(b []byte) (string, error) { return string(b), nil },
		EventID: func(_ []byte, _ http.Header, id string) string { return id },
		Name:    "acme",
	}
	// The handler's default Deduper reports to obs too; give your own Deduper
	// webhook.WithDedupeObserver(obs).
	h := webhook.NewHandler(ep, func(context.Context, string) error { return nil }, webhook.WithObserver(obs))
	srv := httptest.NewServer(h)
	defer srv.Close()

	deliver := func(secret string) {
		body := "evt_1"
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("X-Signature", webhook.SignTimestamp(secret, time.Now(), []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
	}
	deliver("forged")
	deliver("whsec_example")
	deliver("whsec_example")

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	var lines []string
	for _, m := range rm.ScopeMetrics[0].Metrics {
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			lines = append(lines, fmt.Sprintf("%s %s %d", m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// paykit.webhook.dedupe paykit.dedupe.outcome=duplicate 1
	// paykit.webhook.dedupe paykit.dedupe.outcome=processed 1
	// paykit.webhook.rejections paykit.provider=acme,paykit.webhook.reason=signature_mismatch 1
}

// StreamReconnect makes the OnReconnect callback of Pepay's event stream
// (pepay.StreamParams{OnReconnect: obs.StreamReconnect("pepay")}).
func ExampleObserver_StreamReconnect() {
	reader := sdkmetric.NewManualReader()
	obs, err := paykitotel.New(paykitotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	if err != nil {
		log.Fatal(err)
	}
	onReconnect := obs.StreamReconnect("pepay")
	onReconnect(1, fmt.Errorf("connection reset"), 500*time.Millisecond) // what the stream calls
	onReconnect(2, fmt.Errorf("connection reset"), time.Second)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	m := rm.ScopeMetrics[0].Metrics[0]
	dp := m.Data.(metricdata.Sum[int64]).DataPoints[0]
	fmt.Println(m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
	// Output:
	// paykit.stream.reconnects paykit.provider=pepay 2
}
