// Package pepaytest is an in-process fake of Pepay for tests and examples: the merchant REST API
// (invoices with idempotent creation, status, lists with cursors, totals, events, ws tokens for
// merchant and commerce keys), the dashboard-JWT account routes (mainnet access status and
// environment switch; the JWT is also accepted on the invoice routes), the payor session
// endpoints (with the invoice verify helper), the three WebSockets — merchant
// (/ws/merchant/events) and commerce (/ws/commerce/events) with since-replay and resync, payor
// (/ws/payment, the events of one invoice, authenticated by the ws_connection token of
// CreatePaymentAddress) — and signed webhook delivery with retries.
//
//	srv := pepaytest.NewServer()
//	defer srv.Close()
//	client, _ := srv.NewClient() // a pepay.Client aimed at srv.BaseURL with its API key
//	srv.SetWebhook(endpointURL, secret) // signed deliveries of every later event
//	created, _ := client.CreateInvoice(ctx, params)
//	// invoice_payment.created, invoice.updated (paid), invoice_payment.updated:
//	d, _ := srv.Pay(ctx, created.InvoiceID)
//	// commerce.order.created, then commerce.order.updated:
//	orderID, _ := srv.AddCommerceOrder(ctx, pepaytest.CommerceOrder{CustomerID: "cus_1"})
//	srv.UpdateCommerceOrder(ctx, orderID, "completed")
//	srv.SetMainnetAccess(true) // Pepay approved the mainnet request
//
// Lifecycle helpers (Pay, PayAmount, Expire, Cancel, Ping, AddInvoice, AddCommerceOrder,
// UpdateCommerceOrder) log events, which the streams carry and the webhook endpoint receives.
// A helper returns once the webhook deliveries of its events finished (or were given up on),
// with the last one's *Delivery; every delivery is kept in Deliveries. Events caused by API
// requests are delivered after the response: WaitWebhooks waits for them. Every request is
// logged (Calls, CountCalls, ResetCalls).
//
// Credentials: APIKey, DashboardToken and CommerceKey (WithAPIKey, WithDashboardToken,
// WithCommerceKey). The commerce order object and the verify answer are the fake's own shapes:
// Pepay does not document them.
//
// Faults: FailNext, DropNext, LoseResponseNext (the request is processed, the answer lost),
// AddFault and SetLatency for REST; DropStreams, DropStreamEvery, RefuseResumes,
// ResendOnResume (a resume sends the last events before since again), FailStreamsNext (an
// upgrade refused with a status and Retry-After), InjectStreamError and SetStreamsSilent for
// the WebSockets (all three streams).
//
// Ids are deterministic (invoice n always has the same UUID); event ids follow Pepay's
// "evt_<ms>-<seq>" form. The server listens on 127.0.0.1 only.
package pepaytest
