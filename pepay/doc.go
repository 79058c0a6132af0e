// Package pepay is a client for Pepay's merchant API (docs-alpha.pepay.io): invoices, invoice
// status polling, event history and recovery, the realtime merchant, commerce and payor
// WebSockets, webhook verification, the payor session endpoints for embedded checkout, and the
// account's mainnet access.
//
// It follows Pepay's integration checklist:
//
//  1. Create an invoice on your server (Client.CreateInvoice). The Idempotency-Key header Pepay
//     requires is derived from your order (CreateInvoiceParams.OrderRef) or generated, and reused
//     on every retry, so a retried create never makes a second invoice.
//  2. Send the payor to CreatedInvoice.PaymentURL, or embed checkout with the payment session
//     headers (NewPayorClient: it never sends the API key).
//  3. Track status with webhooks (NewWebhookHandler) and the WebSocket (Client.Stream) together,
//     sharing one webhook.Deduper so each event id is processed once, and/or by polling
//     (Client.WaitForInvoice). After downtime, Client.EventsAfter replays what you missed, oldest
//     first.
//  4. Reconcile on the invoice itself (Client.GetInvoice, Client.GetInvoiceStatus): it is the
//     source of truth.
//  5. Go live: Client.MainnetAccessStatus says whether mainnet is enabled and what is left to do
//     (MainnetAccess.NextStep); then switch to a mainnet API key.
//
// Credentials: the merchant API key (x-api-key, NewClient); the dashboard JWT
// (WithDashboardToken or WithDashboardTokenSource: Authorization: Bearer), required on the
// account routes and accepted on the invoice routes; the commerce key (x-commerce-api-key,
// NewCommerceClient) for the commerce stream and commerce ws_tokens; the payment session headers
// and the ws_connection token for the payor (NewPayorClient, PayorClient.Stream), which never
// carry a key. No credential ever appears in an error or a log line.
//
// The three streams share one engine (reconnects with backoff, pings and an idle timeout, typed
// ws_error, each event id handled once). Client.Stream and CommerceClient.Stream resume with
// since= after a reconnect and backfill through the events API when Pepay cannot replay;
// PayorClient.Stream has no documented resume and goes on live (poll PaymentStatus after a
// reconnect).
//
// Assumptions where Pepay's docs are silent: the body of PUT /api/v1/user/environment is
// {"environment":…}; the verify helper's answer (InvoiceVerification) and the commerce order
// object (commerce.order.* data.object) are undocumented and kept as raw JSON; ws_control and
// ws_error frame shapes and the terminal ws_error codes are the SDK's reading.
//
// Not wrapped: API key management and settlement preferences (dashboard JWT routes Pepay lists
// without documenting them), webhook endpoint management (made in the dashboard), the POST form
// of the verify helper (its body is undocumented; VerifyInvoice uses GET), and commerce REST
// endpoints other than ws tokens. Client.Do sends such requests with the client's credentials,
// retries and error decoding.
//
// Every method that sends a REST request takes trailing paykit.CallOptions (WaitForInvoice through
// WithCallOptions, applied to every poll): a header, a timeout, a retry
// limit, CreateInvoice's Idempotency-Key, and paykit.WithResponseInfo to learn the status,
// attempts, request id and rate-limit headers of the call. WithRateLimiter paces the client's
// requests (there is no default: Pepay's limits are per endpoint and unpublished) and
// WithObserver traces them.
//
// Amounts on invoices are integers in USDMillis (1/1000 USD) with an exact decimal view; the
// amount you invoice is a paykit.Decimal in dollars. Timestamps decode from RFC 3339 or unix
// seconds, "cancelled" and "canceled" are one Status, and unknown statuses and event types pass
// through. Every API failure is a *paykit.Error; requests refused before sending are
// *paykit.ValidationError.
//
// The pepaytest package is an in-process fake of the REST API, the WebSocket and webhook
// delivery, with fault injection, for your tests.
package pepay
