package paykitotel

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/paykit-go/paykit"
)

// StartCall starts the span of a logical provider call, named "<provider> <METHOD> <route>",
// as a child of the span in ctx. It implements paykit.Observer.
func (o *Observer) StartCall(ctx context.Context, cs paykit.CallStart) (context.Context, paykit.CallObserver) {
	c := &call{o: o, cs: cs}
	c.base = [...]attribute.KeyValue{
		ProviderKey.String(cs.Provider),
		methodKey.String(cs.Method),
		templateKey.String(cs.Route),
	}
	ctx, c.span = o.tracer.Start(ctx, cs.Provider+" "+cs.Method+" "+cs.Route,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(c.base[:]...))
	return ctx, c
}

// call follows one logical call: its span, and the span of the attempt under way.
type call struct {
	o    *Observer
	cs   paykit.CallStart
	base [3]attribute.KeyValue // provider, method, route
	span trace.Span

	mu       sync.Mutex
	attempt  trace.Span // the attempt under way; nil between attempts
	attemptN int
}

// StartAttempt starts attempt n's span under the call's.
func (c *call) StartAttempt(ctx context.Context, n int) context.Context {
	attrs := make([]attribute.KeyValue, len(c.base), len(c.base)+1)
	copy(attrs, c.base[:])
	if n > 1 {
		attrs = append(attrs, resendCountKey.Int(n-1))
	}
	ctx, span := c.o.tracer.Start(ctx, c.cs.Method+" "+c.cs.Route,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	c.mu.Lock()
	prev := c.attempt
	c.attempt, c.attemptN = span, n
	c.mu.Unlock()
	if prev != nil { // never told how the previous attempt ended
		prev.End()
	}
	return ctx
}

// EndAttempt ends attempt n's span with its status: Error for a transport error or an HTTP
// status of 400 or more, as the HTTP semantic conventions have it for client spans.
func (c *call) EndAttempt(_ context.Context, n int, status int, err error) {
	c.mu.Lock()
	span := c.attempt
	if span != nil && c.attemptN == n {
		c.attempt = nil
	} else {
		span = nil
	}
	c.mu.Unlock()
	if span == nil {
		return
	}
	if status > 0 {
		span.SetAttributes(statusCodeKey.Int(status))
	}
	switch {
	case err != nil:
		span.SetAttributes(errorTypeKey.String(errorType(err)))
		span.SetStatus(codes.Error, attemptErrorText(err))
	case status >= 400:
		span.SetAttributes(errorTypeKey.String(strconv.Itoa(status)))
		span.SetStatus(codes.Error, strconv.Itoa(status)+" "+http.StatusText(status))
	}
	span.End()
}

// End ends the call's span and records its duration and retries.
func (c *call) End(ctx context.Context, info paykit.ResponseInfo, err error) {
	c.mu.Lock()
	dangling := c.attempt
	c.attempt = nil
	c.mu.Unlock()
	if dangling != nil {
		dangling.End()
	}

	retries := max(info.Attempts-1, 0)
	var buf [8]attribute.KeyValue
	outcome := buf[:0] // status and error type: on the span and the metrics
	if info.StatusCode > 0 {
		outcome = append(outcome, statusCodeKey.Int(info.StatusCode))
	}
	if err != nil {
		outcome = append(outcome, errorTypeKey.String(errorType(err)))
	}
	// NewSet sorts its argument in place: give it a copy.
	metricAttrs := attribute.NewSet(append(append(make([]attribute.KeyValue, 0, len(c.base)+len(outcome)), c.base[:]...), outcome...)...)
	span := c.span
	if span.IsRecording() {
		spanAttrs := append(outcome, RetryCountKey.Int(retries))
		if info.RequestID != "" {
			spanAttrs = append(spanAttrs, RequestIDKey.String(info.RequestID))
		}
		var apiErr *paykit.Error
		if errors.As(err, &apiErr) && apiErr.Code != "" {
			spanAttrs = append(spanAttrs, ErrorCodeKey.String(apiErr.Code))
		}
		span.SetAttributes(spanAttrs...)
		if err != nil {
			// paykit errors never carry a credential: they are redacted where they are made.
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()

	c.o.callDuration.Record(ctx, info.Duration.Seconds(), metric.WithAttributeSet(metricAttrs))
	if retries > 0 {
		c.o.callRetries.Add(ctx, int64(retries), metric.WithAttributes(c.base[:]...))
	}
}

// errorType is the error.type attribute for a failed call or attempt: the HTTP status for an
// API error (as the semantic conventions ask), otherwise a short, low-cardinality name of the
// failure, "_OTHER" when none fits.
func errorType(err error) string {
	var apiErr *paykit.Error
	var verr *paykit.ValidationError
	var nerr net.Error
	switch {
	case errors.As(err, &apiErr):
		return strconv.Itoa(apiErr.Status)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, paykit.ErrRateLimited):
		return "rate_limited"
	case errors.As(err, &verr):
		return "validation"
	case errors.Is(err, paykit.ErrResponseTooLarge):
		return "response_too_large"
	case errors.Is(err, paykit.ErrInvalidResponse):
		return "invalid_response"
	case errors.As(err, &nerr):
		if nerr.Timeout() {
			return "timeout"
		}
		return "connection_error"
	}
	return "_OTHER"
}

// attemptErrorText describes an attempt's transport error for its span status. The error comes
// straight from net/http, before paykit redacts it, and its *url.Error holds the request URL
// (query included): so only the network operation's text is used ("dial: connect: connection
// refused"), or a fixed description.
func attemptErrorText(err error) string {
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded.Error()
	case errors.Is(err, context.Canceled):
		return context.Canceled.Error()
	case errors.As(err, &opErr) && opErr.Err != nil:
		return opErr.Op + ": " + opErr.Err.Error()
	}
	return "transport error"
}
