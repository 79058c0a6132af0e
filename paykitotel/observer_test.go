package paykitotel_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/paykitotel"
	"github.com/paykit-go/paykit/webhook"
)

const (
	apiKey    = "jo_test_otel_5ecret_k3y"
	requestID = "7b2e9c1a-4d3f-4e8b-9a6c-1f2e3d4c5b6a"
)

// requestBody is a JoPay payment request.
const requestBody = `{"ok":true,"request_id":"` + requestID + `","status":"requested","proof_status":"none",` +
	`"pay_page_url":"https://pay.jopay.app/` + requestID + `","created_at":"2026-05-02T09:00:00.000Z",` +
	`"expires_at":"2026-05-02T10:00:00.000Z","amount":{"fiat_int":275,"fiat_code":"USD","usdc_micro":"2750000"},` +
	`"merchant_id":"b4d5c6e7-1f20-4a3b-8c4d-5e6f70819203","metadata":{}}`

// telemetry is an Observer over in-memory SDK providers.
type telemetry struct {
	obs    *paykitotel.Observer
	tp     *sdktrace.TracerProvider
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		assert.NoError(t, tp.Shutdown(context.Background()))
		assert.NoError(t, mp.Shutdown(context.Background()))
	})
	obs, err := paykitotel.New(paykitotel.WithTracerProvider(tp), paykitotel.WithMeterProvider(mp))
	require.NoError(t, err)
	return &telemetry{obs: obs, tp: tp, spans: spans, reader: reader}
}

// metric returns the named metric's data, failing the test when it was not recorded.
func (tm *telemetry) metric(t *testing.T, name string) metricdata.Aggregation {
	t.Helper()
	data := tm.lookup(t, name)
	require.NotNil(t, data, "metric %s not recorded", name)
	return data
}

// lookup returns the named metric's data, nil when it was not recorded.
func (tm *telemetry) lookup(t *testing.T, name string) metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tm.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				assert.Equal(t, paykitotel.ScopeName, sm.Scope.Name)
				return m.Data
			}
		}
	}
	return nil
}

// counts returns a counter's values keyed by their attribute sets.
func (tm *telemetry) counts(t *testing.T, name string) map[string]int64 {
	t.Helper()
	sum, ok := tm.metric(t, name).(metricdata.Sum[int64])
	require.True(t, ok, "%s is an int64 sum", name)
	assert.True(t, sum.IsMonotonic)
	out := make(map[string]int64)
	for _, dp := range sum.DataPoints {
		out[dp.Attributes.Encoded(attribute.DefaultEncoder())] = dp.Value
	}
	return out
}

// attrs renders attributes as a map for comparison.
func attrs(kvs []attribute.KeyValue) map[string]any {
	out := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value.AsInterface()
	}
	return out
}

func set(kvs ...attribute.KeyValue) string {
	s := attribute.NewSet(kvs...)
	return s.Encoded(attribute.DefaultEncoder())
}

// noLimit is a paykit.RateLimiter that never waits, instead of JoPay's default of one request
// a second.
type noLimit struct{}

func (noLimit) Wait(context.Context) error { return nil }

// newJoPay returns a JoPay client for srv reporting to obs.
func newJoPay(t *testing.T, srv *httptest.Server, obs paykit.Observer) *jopay.Client {
	t.Helper()
	c, err := jopay.NewClient(apiKey, jopay.WithBaseURL(srv.URL+"/api/v1"), jopay.WithObserver(obs),
		jopay.WithRetryWait(time.Millisecond, 2*time.Millisecond), jopay.WithMaxRetries(3),
		jopay.WithRateLimiter(noLimit{}))
	require.NoError(t, err)
	return c
}

func TestCallWithRetries(t *testing.T) {
	tm := newTelemetry(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/v1/requests/"+requestID, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		if hits.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"ok":false,"error":"unavailable"}`))
			return
		}
		w.Header().Set("X-Request-Id", "rq_42")
		_, _ = w.Write([]byte(requestBody))
	}))
	defer srv.Close()
	client := newJoPay(t, srv, tm.obs)

	ctx, parent := tm.tp.Tracer("test").Start(context.Background(), "reconcile")
	var info paykit.ResponseInfo
	req, err := client.GetRequest(ctx, requestID, paykit.WithResponseInfo(&info))
	parent.End()
	require.NoError(t, err)
	assert.Equal(t, requestID, req.ID)
	require.Equal(t, 3, info.Attempts)

	ended := tm.spans.Ended()
	require.Len(t, ended, 5, "3 attempts, the call, the parent")
	attempts, call := ended[:3], ended[3]
	assert.Equal(t, "jopay GET /requests/{id}", call.Name())
	assert.Equal(t, trace.SpanKindClient, call.SpanKind())
	assert.Equal(t, parent.SpanContext().SpanID(), call.Parent().SpanID(), "the call is a child of the caller's span")
	assert.Equal(t, codes.Unset, call.Status().Code)
	assert.Empty(t, cmp.Diff(map[string]any{
		"paykit.provider":           "jopay",
		"http.request.method":       "GET",
		"url.template":              "/requests/{id}",
		"http.response.status_code": int64(200),
		"paykit.retry_count":        int64(2),
		"paykit.request_id":         "rq_42",
	}, attrs(call.Attributes())))

	base := map[string]any{"paykit.provider": "jopay", "http.request.method": "GET", "url.template": "/requests/{id}"}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	wantAttempts := []map[string]any{
		with(map[string]any{"http.response.status_code": int64(503), "error.type": "503"}),
		with(map[string]any{"http.response.status_code": int64(503), "error.type": "503", "http.request.resend_count": int64(1)}),
		with(map[string]any{"http.response.status_code": int64(200), "http.request.resend_count": int64(2)}),
	}
	for i, a := range attempts {
		assert.Equal(t, "GET /requests/{id}", a.Name())
		assert.Equal(t, trace.SpanKindClient, a.SpanKind())
		assert.Equal(t, call.SpanContext().SpanID(), a.Parent().SpanID(), "attempt %d is a child of the call", i+1)
		assert.Empty(t, cmp.Diff(wantAttempts[i], attrs(a.Attributes())), "attempt %d", i+1)
	}
	assert.Equal(t, codes.Error, attempts[0].Status().Code)
	assert.Equal(t, codes.Unset, attempts[2].Status().Code)

	// No span name or attribute carries the raw id or the key.
	for _, s := range ended {
		assert.NotContains(t, s.Name(), requestID)
		for _, kv := range s.Attributes() {
			assert.NotContains(t, kv.Value.Emit(), requestID, "%s on %s", kv.Key, s.Name())
			assert.NotContains(t, kv.Value.Emit(), apiKey)
		}
	}

	hist, ok := tm.metric(t, paykitotel.MetricCallDuration).(metricdata.Histogram[float64])
	require.True(t, ok)
	require.Len(t, hist.DataPoints, 1)
	dp := hist.DataPoints[0]
	assert.Equal(t, uint64(1), dp.Count)
	assert.InDelta(t, info.Duration.Seconds(), dp.Sum, 1e-9, "the call's whole duration")
	assert.Equal(t, set(paykitotel.ProviderKey.String("jopay"), attribute.String("http.request.method", "GET"),
		attribute.String("url.template", "/requests/{id}"), attribute.Int("http.response.status_code", 200)),
		dp.Attributes.Encoded(attribute.DefaultEncoder()))

	assert.Empty(t, cmp.Diff(map[string]int64{
		set(paykitotel.ProviderKey.String("jopay"), attribute.String("http.request.method", "GET"),
			attribute.String("url.template", "/requests/{id}")): 2,
	}, tm.counts(t, paykitotel.MetricCallRetries)))
}

func TestCallAPIError(t *testing.T) {
	tm := newTelemetry(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A server that echoes the credential: the span must not.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"ok":false,"error":"not_found","message":"no such request for ` + r.Header.Get("Authorization") + `"}`))
	}))
	defer srv.Close()
	client := newJoPay(t, srv, tm.obs)

	_, err := client.GetRequest(context.Background(), requestID)
	require.True(t, paykit.IsCode(err, "not_found"), "%v", err)

	ended := tm.spans.Ended()
	require.Len(t, ended, 2)
	call := ended[1]
	assert.Equal(t, codes.Error, call.Status().Code)
	assert.Equal(t, err.Error(), call.Status().Description)
	assert.NotContains(t, call.Status().Description, apiKey)
	assert.Empty(t, cmp.Diff(map[string]any{
		"paykit.provider":           "jopay",
		"http.request.method":       "GET",
		"url.template":              "/requests/{id}",
		"http.response.status_code": int64(404),
		"paykit.retry_count":        int64(0),
		"paykit.error.code":         "not_found",
		"error.type":                "404",
	}, attrs(call.Attributes())))

	hist, ok := tm.metric(t, paykitotel.MetricCallDuration).(metricdata.Histogram[float64])
	require.True(t, ok)
	require.Len(t, hist.DataPoints, 1)
	assert.Equal(t, set(paykitotel.ProviderKey.String("jopay"), attribute.String("http.request.method", "GET"),
		attribute.String("url.template", "/requests/{id}"), attribute.Int("http.response.status_code", 404),
		attribute.String("error.type", "404")), hist.DataPoints[0].Attributes.Encoded(attribute.DefaultEncoder()))
	assert.Nil(t, tm.lookup(t, paykitotel.MetricCallRetries), "no retries, no data point")
}

func TestCallConnectionError(t *testing.T) {
	tm := newTelemetry(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &httptest.Server{URL: "http://" + ln.Addr().String()}
	require.NoError(t, ln.Close()) // nothing listens there now
	c, err := jopay.NewClient(apiKey, jopay.WithBaseURL(srv.URL+"/api/v1"), jopay.WithObserver(tm.obs), jopay.WithMaxRetries(0))
	require.NoError(t, err)

	_, err = c.GetRequest(context.Background(), requestID)
	require.Error(t, err)

	ended := tm.spans.Ended()
	require.Len(t, ended, 2)
	attempt, call := ended[0], ended[1]
	assert.Equal(t, codes.Error, attempt.Status().Code)
	assert.Equal(t, "dial: connect: connection refused", attempt.Status().Description)
	assert.Equal(t, "connection_error", attrs(attempt.Attributes())["error.type"])
	assert.Equal(t, codes.Error, call.Status().Code)
	assert.Equal(t, "connection_error", attrs(call.Attributes())["error.type"])
	assert.NotContains(t, attrs(call.Attributes()), "http.response.status_code")
	for _, s := range ended {
		assert.NotContains(t, s.Status().Description, apiKey)
	}
}

func TestWebhookRejectionsAndDedupe(t *testing.T) {
	tm := newTelemetry(t)
	const secret = "whsec_otel"
	v, err := webhook.NewTimestampVerifier(secret)
	require.NoError(t, err)
	ep := webhook.Endpoint[string]{
		Verify:  v.VerifyFunc("X-Sig"),
		Parse:   func(b []byte) (string, error) { return string(b), nil },
		EventID: func(_ []byte, _ http.Header, e string) string { return e },
		Name:    "jopay",
	}
	var ran atomic.Int32
	h := webhook.NewHandler(ep, func(context.Context, string) error { ran.Add(1); return nil }, webhook.WithObserver(tm.obs))
	srv := httptest.NewServer(h)
	defer srv.Close()

	post := func(body, sig string) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-Sig", sig)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now()
	assert.Equal(t, http.StatusBadRequest, post("evt_1", webhook.SignTimestamp("forged", now, []byte("evt_1"))))
	assert.Equal(t, http.StatusBadRequest, post("evt_1", webhook.SignTimestamp("forged", now, []byte("evt_1"))))
	assert.Equal(t, http.StatusBadRequest, post("evt_1", webhook.SignTimestamp(secret, now.Add(-time.Hour), []byte("evt_1"))))
	assert.Equal(t, http.StatusOK, post("evt_1", webhook.SignTimestamp(secret, now, []byte("evt_1"))))
	assert.Equal(t, http.StatusOK, post("evt_1", webhook.SignTimestamp(secret, now, []byte("evt_1"))))
	assert.Equal(t, int32(1), ran.Load())

	reason := func(r webhook.RejectReason) string {
		return set(paykitotel.WebhookReasonKey.String(string(r)), paykitotel.ProviderKey.String("jopay"))
	}
	assert.Empty(t, cmp.Diff(map[string]int64{
		reason(webhook.RejectSignatureMismatch): 2,
		reason(webhook.RejectTimestamp):         1,
	}, tm.counts(t, paykitotel.MetricWebhookRejections)))

	// The handler's default Deduper reports to the same Observer.
	outcome := func(o webhook.DedupeOutcome) string { return set(paykitotel.DedupeOutcomeKey.String(string(o))) }
	assert.Empty(t, cmp.Diff(map[string]int64{
		outcome(webhook.DedupeProcessed): 1,
		outcome(webhook.DedupeDuplicate): 1,
	}, tm.counts(t, paykitotel.MetricDedupe)))
}

func TestDeduperOutcomes(t *testing.T) {
	tm := newTelemetry(t)
	d := webhook.NewDeduper(webhook.NewMemoryStore(), webhook.WithDedupeObserver(tm.obs))
	ok := func(context.Context) error { return nil }
	boom := errors.New("boom")

	// A recording span in the context gets an event per outcome.
	ctx, span := tm.tp.Tracer("test").Start(context.Background(), "delivery")
	require.NoError(t, d.Do(ctx, "evt_1", ok))
	require.ErrorIs(t, d.Do(ctx, "evt_1", ok), webhook.ErrDuplicate)
	require.ErrorIs(t, d.Do(ctx, "evt_1", ok), webhook.ErrDuplicate)
	require.ErrorIs(t, d.Do(ctx, "evt_2", func(context.Context) error { return boom }), boom)
	span.End()

	outcome := func(o webhook.DedupeOutcome) string { return set(paykitotel.DedupeOutcomeKey.String(string(o))) }
	assert.Empty(t, cmp.Diff(map[string]int64{
		outcome(webhook.DedupeProcessed): 1,
		outcome(webhook.DedupeDuplicate): 2,
		outcome(webhook.DedupeFailed):    1,
	}, tm.counts(t, paykitotel.MetricDedupe)))

	ended := tm.spans.Ended()
	require.Len(t, ended, 1)
	var got []any
	for _, ev := range ended[0].Events() {
		assert.Equal(t, "paykit.webhook.dedupe", ev.Name)
		got = append(got, attrs(ev.Attributes)["paykit.dedupe.outcome"])
	}
	assert.Empty(t, cmp.Diff([]any{"processed", "duplicate", "duplicate", "failed"}, got))
}

func TestStreamReconnect(t *testing.T) {
	tm := newTelemetry(t)
	onReconnect := tm.obs.StreamReconnect("pepay")
	onReconnect(1, errors.New("connection reset"), 500*time.Millisecond)
	onReconnect(2, errors.New("connection reset"), time.Second)
	tm.obs.StreamReconnect("other")(1, nil, 0)

	assert.Empty(t, cmp.Diff(map[string]int64{
		set(paykitotel.ProviderKey.String("pepay")): 2,
		set(paykitotel.ProviderKey.String("other")): 1,
	}, tm.counts(t, paykitotel.MetricStreamReconnects)))
}

func TestNewDefaultsToGlobalProviders(t *testing.T) {
	obs, err := paykitotel.New(paykitotel.WithTracerProvider(nil), paykitotel.WithMeterProvider(nil), nil)
	require.NoError(t, err)
	// The global no-op providers: everything works and records nothing.
	ctx, call := obs.StartCall(context.Background(), paykit.CallStart{Provider: "jopay", Method: "GET", Route: "/requests/{id}"})
	call.EndAttempt(call.StartAttempt(ctx, 1), 1, 200, nil)
	call.End(ctx, paykit.ResponseInfo{StatusCode: 200, Attempts: 1}, nil)
	obs.Rejected(ctx, webhook.Rejection{Reason: webhook.RejectMethod})
	obs.Deduped(ctx, webhook.DedupeProcessed)
	obs.StreamReconnect("pepay")(1, nil, 0)
}
