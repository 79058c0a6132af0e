// Package pepay is a client for Pepay's merchant API (docs-alpha.pepay.io): invoices, invoice
// status polling, event history and recovery, the realtime merchant WebSocket, webhook
// verification, and the payor session endpoints for embedded checkout.
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
//
// Amounts on invoices are integers in USDMillis (1/1000 USD) with an exact decimal view; the
// amount you invoice is a paykit.Decimal in dollars. Timestamps decode from RFC 3339 or unix
// seconds, "cancelled" and "canceled" are one Status, and unknown statuses and event types pass
// through. Every API failure is a *Error (= *paykit.Error); requests refused before sending are
// *ValidationError.
//
// The pepaytest package is an in-process fake of the REST API, the WebSocket and webhook
// delivery, with fault injection, for your tests.
package pepay
