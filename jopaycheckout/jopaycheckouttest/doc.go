// Package jopaycheckouttest is an in-process fake of the JoPay Checkout API for tests and
// examples, in the spirit of net/http/httptest.
//
// NewServer starts it on a loopback port. It keeps sessions in memory and enforces what the
// documentation says (and, where it is silent, what paykit assumes): Bearer auth (401), the
// required fields with JoPay-style error codes (400 {"error":"missing_success_url",…}), either
// body style (line_items, or amount_cents + currency), 404 for unknown sessions, and the one-hour
// expiry on an injectable clock. It answers in either published response style (SetVersion).
//
// Lifecycle helpers (Pay, Fail, Expire, ExpireDue) change a session's state and deliver a
// correctly signed webhook ("X-JoPay-Signature: t=…,v1=…") to the URL given to SetWebhook,
// retrying any non-2xx answer, and return once the delivery finished, with its record (a
// *Delivery; every one is kept in Deliveries); Redeliver sends an event again, as JoPay's
// at-least-once delivery does. A simulated hosted page
// at <URL>/checkout/<id> pays the session and redirects (303) to its success URL with
// ?session_id=<id>, so a test can follow the real redirect flow with an http.Client.
//
// Faults (FailNext, DropNext, LoseResponseNext, SetLatency, AddFault) apply to API calls, not
// to the hosted page, and so does the call log (Calls, CountCalls, ResetCalls).
package jopaycheckouttest
