// Package pepaytest is an in-process fake of Pepay for tests and examples: the merchant REST API
// (invoices with idempotent creation, status, lists with cursors, totals, events, ws tokens), the
// payor session endpoints, the merchant WebSocket (/ws/merchant/events with since-replay and
// resync), and signed webhook delivery with retries.
//
//	srv := pepaytest.NewServer()
//	defer srv.Close()
//	client, _ := srv.NewClient()         // a pepay.Client aimed at srv.BaseURL with its API key
//	srv.SetWebhook(endpointURL, secret)  // signed deliveries of every later event
//	created, _ := client.CreateInvoice(ctx, params)
//	srv.Pay(created.InvoiceID)           // payment.created, invoice.updated (paid), payment.updated
//
// Faults: FailNext, DropNext, LoseResponseNext (the request is processed, the answer lost),
// AddFault and SetLatency for REST; DropStreams, DropStreamEvery, RefuseResumes,
// InjectStreamError and SetStreamsSilent for the WebSocket.
//
// Ids are deterministic (invoice n always has the same UUID); event ids follow Pepay's
// "evt_<ms>-<seq>" form. The server listens on 127.0.0.1 only.
package pepaytest
