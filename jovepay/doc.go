// Package jovepay is a client for JovePay, a non-custodial crypto payment API compatible with
// NOWPayments: API status, currencies, minimum amounts and estimates, payments with a deposit
// address, hosted invoices, the JWT-only payments list, and Instant Payment Notifications (IPN).
//
// # Flows
//
// Standard flow (as JovePay's "Getting Started" guide describes it): Status → Currencies → MinAmount → Estimate
// (check it is at least the minimum) → CreatePayment (show PayAddress and PayAmount) → IPNs
// and GetPayment until the status is final. Invoice flow: CreateInvoice with a SuccessURL,
// send the customer to InvoiceURL, then track the payment as above.
//
// # Authentication
//
// Every call but Status and the login itself sends the API key as x-api-key. ListPayments (and
// the helpers built on it) also need a JWT: build the client WithCredentials(email, password)
// and the client logs in with POST /auth, caches the token until 30 s before its exp, lets one
// login serve every goroutine waiting for a token, and logs in again once if JovePay answers
// 401. The password, the API key and tokens never appear in errors or logs.
//
// # Money and ids
//
// Amounts are paykit.Decimal (paykit.Decimal): exact, whether JovePay sent a number or a string.
// Ids are ID: payment_id is a string in create responses and a number elsewhere; both decode
// to the same ID.
//
// # Creating payments safely
//
// POST /payment and POST /invoice have no idempotency mechanism. The client never retries them
// once the request may have reached JovePay; such a failure wraps paykit.ErrUnknownOutcome. Give every
// payment a unique OrderID, and recover with FindPaymentByOrderID, or let CreatePaymentOnce do
// the lookup-then-retry for you.
//
// # Per-call options
//
// Every method that sends a request takes trailing paykit.CallOptions: WithHeader,
// WithTimeout, WithMaxRetries and WithResponseInfo (status, headers, request id, attempts,
// duration and rate-limit headers of the last response). JovePay documents no idempotency
// mechanism, so paykit.WithIdempotencyKey fails with a *paykit.ValidationError on every call,
// before anything is sent. Methods that send several requests (ListPayments,
// FindPaymentByOrderID, CreatePaymentOnce, WaitForPayment's polls) apply the options to each
// and fill WithResponseInfo from the last. The JWT login a call may trigger is the client's own
// request: it carries none of the options, but the call's WithTimeout bounds it.
//
// Do and DoJWT reach endpoints the client does not wrap; WaitForPayment polls a payment until
// its status is final. WithRateLimiter paces the client (JovePay publishes no limits, so there
// is no default limiter) and WithObserver reports every call to a tracer.
//
// # IPN
//
// Mount NewIPNHandler at the ipn_callback_url you pass when creating payments. It verifies the
// x-jovepay-sig signature (HMAC-SHA512 over key-sorted JSON, accepting a signature made by any of
// JovePay's Node, PHP and Python reference signers), parses the body with ParseIPN into a payment, withdrawal or
// custodial-recurring IPN, drops duplicates and calls your function. Fulfil an order only when
// the status IsPaid (finished) and CheckIPN finds the amount and asset right: partially_paid
// is never paid, repeated deposits (parent_payment_id) and wrong-asset deposits need a human.
// The fake in jovepaytest reproduces each of these (PayAmount short of pay_amount, Redeposit,
// PayWrongAsset with or without auto-processing) with signed IPNs, so the checks can be tested
// end to end.
//
// What JovePay does not document, paykit assumes and keeps configurable or tolerant: the
// sandbox host (SandboxBaseURL), the
// x-nowpayments-sig header (also accepted), the raw-body HMAC-SHA256 signature (opt-in), the
// "selectedCurrencies" name of the merchant coins list (accepted with "currencies"), and every
// error code but INVALID_REQUEST_PARAMS.
package jovepay
