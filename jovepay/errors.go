package jovepay

import (
	"errors"

	"github.com/paykit-go/paykit"
)

// Error is the API error every call returns for a non-2xx answer, decoded from JovePay's
// envelope {"statusCode":400,"code":"INVALID_REQUEST_PARAMS","message":"…"}. It is paykit.Error,
// so errors.As works the same for every provider:
//
//	var apiErr *jovepay.Error
//	if errors.As(err, &apiErr) && apiErr.Code == jovepay.CodeAmountMinimal { … }
type Error = paykit.Error

// ValidationError reports a request refused before sending because a field breaks a documented
// rule (a missing currency, a limit above 500). Nothing was sent.
type ValidationError = paykit.ValidationError

// Error codes seen in JovePay's envelope. Only INVALID_REQUEST_PARAMS has been seen in a real
// response; the others are [assumed] from NOWPayments' behaviour. Switch on Code, not Status.
const (
	CodeInvalidRequestParams = "INVALID_REQUEST_PARAMS" // 400: a parameter is missing or malformed
	CodeAmountMinimal        = "AMOUNT_MINIMAL_ERROR"   // 400: below /min-amount for the pair
	CodeInvalidAPIKey        = "INVALID_API_KEY"        // 401/403: x-api-key missing or wrong
	CodeAuthRequired         = "AUTH_REQUIRED"          // 401: JWT missing or expired
	CodeAccessDenied         = "ACCESS_DENIED"          // 403: /auth refused the email or password
	CodeNotFound             = "NOT_FOUND"              // 404: no such payment or invoice
)

var (
	// ErrUnknownOutcome is wrapped when CreatePayment, CreateInvoice or CreateInvoicePayment
	// failed after the request may have reached JovePay (a 5xx, a dropped connection, a
	// timeout). JovePay has no idempotency key, so the client did not retry: the payment may or
	// may not exist. See CreatePaymentOnce and FindPaymentByOrderID.
	ErrUnknownOutcome = paykit.ErrUnknownOutcome

	// ErrCredentialsRequired is returned, before anything is sent, by the calls that need a JWT
	// (ListPayments, FindPaymentByOrderID, CreatePaymentOnce) on a client built without
	// WithCredentials.
	ErrCredentialsRequired = errors.New("jovepay: email and password required for this call")

	// ErrPaymentNotFound is returned by FindPaymentByOrderID when no payment carries the order id.
	ErrPaymentNotFound = errors.New("jovepay: no payment with this order id")

	// ErrNotOK is returned by Status when /status answers 2xx with a message other than "OK".
	ErrNotOK = errors.New("jovepay: API status not OK")
)
