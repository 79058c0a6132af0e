// Package paykitotel reports paykit's provider calls, webhook deliveries, dedupe decisions and
// stream reconnects to OpenTelemetry. It is the only paykit package that imports OpenTelemetry,
// and it uses only the API packages: bring your own SDK and exporters. Without explicit
// providers it uses the global ones (otel.GetTracerProvider, otel.GetMeterProvider).
//
// One Observer serves every hook:
//
//	obs, err := paykitotel.New(
//		paykitotel.WithTracerProvider(tp), // optional: otel.GetTracerProvider() by default
//		paykitotel.WithMeterProvider(mp),  // optional: otel.GetMeterProvider() by default
//	)
//	if err != nil { … }
//
//	// Provider clients: every call, with one child span per attempt.
//	client, err := jopay.NewClient(apiKey, jopay.WithObserver(obs))
//
//	// Webhook handlers: refused deliveries by reason (and the default Deduper's outcomes).
//	h, err := jopay.NewWebhookHandler(secret, handle, webhook.WithObserver(obs))
//
//	// A Deduper of your own: one outcome per Do.
//	d := webhook.NewDeduper(store, webhook.WithDedupeObserver(obs))
//
//	// The Pepay event stream: reconnects.
//	params := pepay.StreamParams{OnReconnect: obs.StreamReconnect("pepay")}
//
// # Spans
//
// Each logical call is a span of kind client named "<provider> <METHOD> <route>" ("jopay GET
// /requests/{id}"), with a child span per HTTP attempt named "<METHOD> <route>" (kind client,
// http.request.resend_count on retries), so an instrumented http.RoundTripper nests its spans
// under the attempt. Routes are templates: ids never reach a span name or attribute. Call
// spans carry paykit.provider, http.request.method, url.template,
// http.response.status_code, paykit.retry_count, paykit.request_id (the provider's id for the
// last request) and, on failure, error.type and paykit.error.code (the provider's error code),
// with status Error and the error's text, which paykit keeps free of credentials.
//
// # Metrics
//
//   - paykit.client.call.duration (histogram, s): the whole call, retries and waits included;
//     attributes paykit.provider, http.request.method, url.template, http.response.status_code
//     (when a response arrived) and error.type (on failure).
//   - paykit.client.call.retries (counter, {retry}): attempts beyond the first; paykit.provider,
//     http.request.method, url.template.
//   - paykit.webhook.rejections (counter, {delivery}): deliveries a handler refused;
//     paykit.webhook.reason (webhook.RejectReason) and paykit.provider when the endpoint is
//     named.
//   - paykit.webhook.dedupe (counter, {event}): Deduper.Do outcomes; paykit.dedupe.outcome
//     (webhook.DedupeOutcome).
//   - paykit.stream.reconnects (counter, {reconnect}): stream reconnects; paykit.provider.
//
// Webhook rejections and dedupe outcomes are also added as events ("paykit.webhook.rejected",
// "paykit.webhook.dedupe") to the span in the request's context, when it is recording (a
// server span from an instrumented handler, for example).
package paykitotel
