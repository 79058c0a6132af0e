package jovepay

import (
	"errors"
)

// Error codes seen in JovePay's envelope. Only INVALID_REQUEST_PARAMS has been seen in a real
// response; JovePay does not document the others; paykit assumes them from NOWPayments' behaviour. Switch on Code, not Status.
const (
	CodeInvalidRequestParams = "INVALID_REQUEST_PARAMS" // 400: a parameter is missing or malformed
	CodeAmountMinimal        = "AMOUNT_MINIMAL_ERROR"   // 400: below /min-amount for the pair
	CodeInvalidAPIKey        = "INVALID_API_KEY"        // 401/403: x-api-key missing or wrong
	CodeAuthRequired         = "AUTH_REQUIRED"          // 401: JWT missing or expired
	CodeAccessDenied         = "ACCESS_DENIED"          // 403: /auth refused the email or password
	CodeNotFound             = "NOT_FOUND"              // 404: no such payment or invoice
)

var (
	// ErrCredentialsRequired is returned, before anything is sent, by the calls that need a JWT
	// (ListPayments, FindPaymentByOrderID, CreatePaymentOnce) on a client built without
	// WithCredentials.
	ErrCredentialsRequired = errors.New("jovepay: email and password required for this call")

	// ErrPaymentNotFound is returned by FindPaymentByOrderID when no payment carries the order id.
	ErrPaymentNotFound = errors.New("jovepay: no payment with this order id")

	// ErrNotOK is returned by Status when /status answers 2xx with a message other than "OK".
	ErrNotOK = errors.New("jovepay: API status not OK")
)
