package jopay

import (
	"errors"

	"github.com/paykit-go/paykit"
)

// Error codes of the Partner API (the "error" field of {"ok":false,"error":"…"}).
const (
	CodeUnauthorized          = "unauthorized"       // 401: bad or revoked key
	CodeInsufficientScope     = "insufficient_scope" // 403: see RequiredScope
	CodeInvalidMerchantID     = "invalid_merchant_id"
	CodeInvalidFiatAmount     = "invalid_fiat_amount"
	CodeInvalidEmail          = "invalid_email"
	CodeInvalidWalletAddress  = "invalid_wallet_address"
	CodeInvalidCountry        = "invalid_country"
	CodeInvalidAccountType    = "invalid_account_type"
	CodeInvalidIdempotencyKey = "invalid_idempotency_key"
	CodeInvalidMemo           = "invalid_memo"
	CodeMetadataTooManyKeys   = "metadata_too_many_keys"
	CodeMetadataKeyTooLong    = "metadata_key_too_long"
	CodeMetadataValueTooLong  = "metadata_value_too_long"
	CodeCurrencyMismatch      = "currency_mismatch" // 400: see ExpectedFiatCode
	CodeInvalidAmount         = "invalid_amount"
	CodeInvalidCurrency       = "invalid_currency"
	CodeCustomerNameRequired  = "customer_name_required"  // 400: invoice mode without a name
	CodeRateLimited           = "rate_limited"            // 429: retried by the client
	CodeNotFound              = "not_found"               // 404; JoPay does not document this code, paykit assumes it
	CodeIdempotencyConflict   = "idempotency_conflict"    // 409: key reused with another body (undocumented code, assumed)
	CodeNotCancellable        = "request_not_cancellable" // 409: paid, proof attached or expired (undocumented code, assumed)
)

// RequiredScope returns the scope a 403 insufficient_scope error names ("requests:write"), or "".
func RequiredScope(err error) string { return detail(err, "required_scope") }

// ExpectedFiatCode returns the partner's currency from a 400 currency_mismatch error, or "".
func ExpectedFiatCode(err error) string { return detail(err, "expected_fiat_code") }

func detail(err error, name string) string {
	var e *paykit.Error
	if errors.As(err, &e) {
		return e.Detail(name)
	}
	return ""
}

// Errors of the list iterator (test with errors.Is). When more requests share one created_at
// than fit in a page (even at Limit 100), or the server repeats its cursor, the iterator stops
// with an error wrapping paykit.ErrPaginationStuck instead of looping: raise
// ListRequestsParams.Limit, or narrow the filters.
var (
	// ErrUnorderedPage means a page without next_cursor was not sorted by created_at, oldest
	// first; a since cursor taken from it could skip requests, so the iterator stops.
	ErrUnorderedPage = errors.New("jopay: list page not sorted by created_at")
)
