// Package jovepaytest is an in-process fake of the JovePay API for tests and examples, in the
// spirit of net/http/httptest: NewServer starts it on 127.0.0.1, NewClient returns a
// jovepay.Client pointed at it, and Close stops it.
//
// It serves every endpoint of the standard and invoice flows under /v1 with JovePay's rules:
// x-api-key on everything but /status and /auth; a JWT from POST /auth (HS256-shaped, with iat
// and exp, lifetime WithJWTLifetime, checked against WithClock) on the payments list; required
// fields and the minimum amount (AMOUNT_MINIMAL_ERROR) validated; errors in JovePay's envelope
// {"statusCode","code","message"}; string ids in create responses and numeric ids elsewhere;
// 0-based pagination with limit 1–500, sortBy, orderBy, dateFrom/dateTo and invoiceId.
//
// Lifecycle helpers play the customer and JovePay: Pay (in full), PayAmount (any amount: from
// pay_amount up it finishes, below it is partially_paid), SetStatus, Expire, Fail, Refund,
// Redeposit (a repeated deposit: a child payment with parent_payment_id, in the original
// asset), PayWrongAsset (a deposit in another supported asset or network, held for manual
// resolution or auto-processed; its doc says what the IPNs carry and what JovePay leaves
// undocumented), ChooseCurrency (on a hosted invoice) and Redeliver. Together they produce
// every case JovePay's guide on repeated and wrong-asset deposits warns about, for testing
// jovepay.CheckIPN end to end. Each status change is delivered as an IPN to the payment's
// ipn_callback_url, signed with the IPN secret in the reference form chosen with
// WithSignatureForm or SetSignatureForm (Node, PHP or Python), retried on any non-2xx answer,
// and recorded (Deliveries); a helper returns once its IPNs were delivered, with the last one's
// *Delivery. FailNext, DropNext, LoseResponseNext, AddFault and SetLatency inject faults; every
// request is logged (Calls, CountCalls, ResetCalls), including failed and dropped ones.
package jovepaytest
