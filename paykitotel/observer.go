package paykitotel

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/webhook"
)

// ScopeName is the instrumentation scope of paykit's tracer and meter.
const ScopeName = "github.com/paykit-go/paykit/paykitotel"

// Metric names.
const (
	// MetricCallDuration is the call latency histogram, in seconds.
	MetricCallDuration = "paykit.client.call.duration"
	// MetricCallRetries counts attempts beyond a call's first.
	MetricCallRetries = "paykit.client.call.retries"
	// MetricWebhookRejections counts deliveries a webhook handler refused.
	MetricWebhookRejections = "paykit.webhook.rejections"
	// MetricDedupe counts Deduper.Do outcomes.
	MetricDedupe = "paykit.webhook.dedupe"
	// MetricStreamReconnects counts event stream reconnects.
	MetricStreamReconnects = "paykit.stream.reconnects"
)

// Attribute keys paykit adds besides the OpenTelemetry semantic conventions' own
// (http.request.method, url.template, http.response.status_code, http.request.resend_count,
// error.type).
const (
	// ProviderKey is the provider's package name: "jopay", "jopaycheckout", "jovepay", "pepay".
	ProviderKey = attribute.Key("paykit.provider")
	// ErrorCodeKey is the provider's machine-readable error code (paykit.Error.Code).
	ErrorCodeKey = attribute.Key("paykit.error.code")
	// RetryCountKey is how many times a call was retried: its attempts minus one.
	RetryCountKey = attribute.Key("paykit.retry_count")
	// RequestIDKey is the provider's id for a call's last request, to quote to its support.
	RequestIDKey = attribute.Key("paykit.request_id")
	// WebhookReasonKey is why a delivery was refused (a webhook.RejectReason).
	WebhookReasonKey = attribute.Key("paykit.webhook.reason")
	// DedupeOutcomeKey is how a Deduper.Do call ended (a webhook.DedupeOutcome).
	DedupeOutcomeKey = attribute.Key("paykit.dedupe.outcome")
)

// Semantic-convention attribute keys.
const (
	methodKey      = attribute.Key("http.request.method")
	templateKey    = attribute.Key("url.template")
	statusCodeKey  = attribute.Key("http.response.status_code")
	resendCountKey = attribute.Key("http.request.resend_count")
	errorTypeKey   = attribute.Key("error.type")
)

// Observer reports to OpenTelemetry. It implements paykit.Observer (give it to a provider
// client's WithObserver option) and webhook.Observer (webhook.WithObserver,
// webhook.WithDedupeObserver), and its StreamReconnect method makes a stream's OnReconnect
// callback. Build it with New; it is safe for concurrent use.
type Observer struct {
	tracer trace.Tracer

	callDuration metric.Float64Histogram
	callRetries  metric.Int64Counter
	rejections   metric.Int64Counter
	dedupe       metric.Int64Counter
	reconnects   metric.Int64Counter

	// dedupeOpts holds the attribute option of every known dedupe outcome, built once so
	// that Deduped allocates nothing on a Deduper's hot path. Read only after New.
	dedupeOpts map[webhook.DedupeOutcome]metric.AddOption
}

var (
	_ paykit.Observer  = (*Observer)(nil)
	_ webhook.Observer = (*Observer)(nil)
)

// Option configures New.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets the TracerProvider spans are created with (default: the global one,
// otel.GetTracerProvider). nil keeps the default.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	}
}

// WithMeterProvider sets the MeterProvider metrics are recorded with (default: the global one,
// otel.GetMeterProvider). nil keeps the default.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) {
		if mp != nil {
			c.mp = mp
		}
	}
}

// New returns an Observer reporting to the configured (or global) providers. It fails only when
// the MeterProvider refuses to create an instrument.
func New(opts ...Option) (*Observer, error) {
	var c config
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	o := &Observer{
		tracer: c.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(paykit.Version)),
	}
	meter := c.mp.Meter(ScopeName, metric.WithInstrumentationVersion(paykit.Version))
	var errs [5]error
	// The semantic conventions' bucket advice for HTTP client durations, extended for calls
	// that retry with backoff.
	buckets := []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60}
	o.callDuration, errs[0] = meter.Float64Histogram(MetricCallDuration,
		metric.WithDescription("Duration of paykit provider calls, retries and waits included."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(buckets...))
	o.callRetries, errs[1] = meter.Int64Counter(MetricCallRetries,
		metric.WithDescription("Attempts of paykit provider calls beyond the first."), metric.WithUnit("{retry}"))
	o.rejections, errs[2] = meter.Int64Counter(MetricWebhookRejections,
		metric.WithDescription("Webhook deliveries refused before the handler function ran, by reason."),
		metric.WithUnit("{delivery}"))
	o.dedupe, errs[3] = meter.Int64Counter(MetricDedupe,
		metric.WithDescription("Webhook dedupe decisions, by outcome."), metric.WithUnit("{event}"))
	o.reconnects, errs[4] = meter.Int64Counter(MetricStreamReconnects,
		metric.WithDescription("Event stream reconnects."), metric.WithUnit("{reconnect}"))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	o.dedupeOpts = make(map[webhook.DedupeOutcome]metric.AddOption)
	for _, out := range [...]webhook.DedupeOutcome{webhook.DedupeProcessed, webhook.DedupeDuplicate,
		webhook.DedupeInFlight, webhook.DedupeFailed, webhook.DedupeStoreError, webhook.DedupeEmptyID} {
		o.dedupeOpts[out] = metric.WithAttributeSet(attribute.NewSet(DedupeOutcomeKey.String(string(out))))
	}
	return o, nil
}

// Rejected counts a refused webhook delivery under paykit.webhook.rejections and adds a
// "paykit.webhook.rejected" event to the recording span in ctx, if any. It implements
// webhook.Observer.
func (o *Observer) Rejected(ctx context.Context, r webhook.Rejection) {
	attrs := make([]attribute.KeyValue, 0, 2)
	attrs = append(attrs, WebhookReasonKey.String(string(r.Reason)))
	if r.Endpoint != "" {
		attrs = append(attrs, ProviderKey.String(r.Endpoint))
	}
	o.rejections.Add(ctx, 1, metric.WithAttributes(attrs...))
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		if r.Status > 0 {
			attrs = append(attrs, statusCodeKey.Int(r.Status))
		}
		span.AddEvent("paykit.webhook.rejected", trace.WithAttributes(attrs...))
	}
}

// Deduped counts a Deduper.Do outcome under paykit.webhook.dedupe and adds a
// "paykit.webhook.dedupe" event to the recording span in ctx, if any. It implements
// webhook.Observer. The metric attributes of the outcomes the webhook package defines are built
// once, in New, since a Deduper may be on a hot path.
func (o *Observer) Deduped(ctx context.Context, outcome webhook.DedupeOutcome) {
	opt, ok := o.dedupeOpts[outcome]
	if !ok {
		opt = metric.WithAttributes(DedupeOutcomeKey.String(string(outcome)))
	}
	o.dedupe.Add(ctx, 1, opt)
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("paykit.webhook.dedupe", trace.WithAttributes(DedupeOutcomeKey.String(string(outcome))))
	}
}

// StreamReconnect returns a callback for an event stream's OnReconnect field (pepay's
// StreamParams.OnReconnect) that counts each reconnect under paykit.stream.reconnects with
// paykit.provider set to provider:
//
//	params := pepay.StreamParams{OnReconnect: obs.StreamReconnect("pepay")}
//
// To do more on a reconnect (log it, say), call the returned function from your own.
func (o *Observer) StreamReconnect(provider string) func(attempt int, err error, wait time.Duration) {
	opt := metric.WithAttributeSet(attribute.NewSet(ProviderKey.String(provider)))
	return func(int, error, time.Duration) {
		o.reconnects.Add(context.Background(), 1, opt)
	}
}
