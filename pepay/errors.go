package pepay

import (
	"errors"
	"strconv"
)

// Sentinel errors, wrapped with detail; test with errors.Is.
var (
	// ErrIdempotencyConflict means Pepay answered 409: the Idempotency-Key was already used for
	// a different request body. The error also wraps the *paykit.Error with Pepay's code and message.
	// Use a new key (or fix the body so it matches the first request).
	ErrIdempotencyConflict = errors.New("pepay: idempotency key reused with a different request")
	// ErrInvalidEvent means a payload is not a Pepay event envelope (not a JSON object, no id,
	// object other than "event", or a malformed invoice/payment object). ParseEvent's errors wrap
	// it and webhook.ErrInvalidPayload, so the webhook handler answers 400.
	ErrInvalidEvent = errors.New("pepay: invalid event payload")
)

// StreamError is a failure reported by a Pepay WebSocket (merchant, commerce or payor): a
// ws_error frame ({"object":"ws_error","code":…,"message":…}) or a refused upgrade (HTTPStatus
// set). The Stream methods return it when it is terminal (bad credentials, forbidden, invalid
// query); other stream errors only cause a reconnect and are reported to OnStatus.
type StreamError struct {
	// Code is Pepay's error code ("API_KEY_INVALID", "INTERNAL_ERROR"), or "HTTP_<status>" for a
	// refused upgrade without a JSON body.
	Code string
	// Message is Pepay's message; it never contains a credential.
	Message string
	// HTTPStatus is the upgrade response status when the handshake was refused, else 0.
	HTTPStatus int
}

// Error reads like "pepay: stream error API_KEY_INVALID: Invalid API key".
func (e *StreamError) Error() string {
	s := "pepay: stream error"
	if e.HTTPStatus != 0 {
		s += " (HTTP " + strconv.Itoa(e.HTTPStatus) + ")"
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" && e.Message != e.Code {
		s += ": " + e.Message
	}
	return s
}

// Terminal reports whether reconnecting cannot help: the credentials, scope or query were
// refused (401/400/403/404 upgrades, or a redirect to another host that was not followed; codes such as API_KEY_INVALID, UNAUTHORIZED, FORBIDDEN,
// VALIDATION_ERROR, INVALID_*). Server-side failures, rate limits, shutdowns and codes the SDK
// does not know are not terminal: Stream reconnects with backoff. (Pepay does not publish its
// ws_error codes; this split is the SDK's documented choice.)
func (e *StreamError) Terminal() bool {
	switch e.HTTPStatus {
	case 400, 401, 403, 404:
		return true
	case 301, 302, 303, 307, 308: // a redirect that was not followed: the URL is wrong
		return true
	case 0:
	default:
		return false
	}
	switch e.Code {
	case "API_KEY_INVALID", "API_KEY_REQUIRED", "API_KEY_MISSING", "UNAUTHORIZED", "AUTH_FAILED",
		"AUTHENTICATION_FAILED", "FORBIDDEN", "SCOPE_MISMATCH", "INVALID_SCOPE", "VALIDATION_ERROR",
		"INVALID_TOKEN", "TOKEN_INVALID", "TOKEN_EXPIRED", "MAINNET_ACCESS_REQUIRED", "INVALID_FORMAT",
		"INVALID_QUERY", "INVALID_FILTER":
		return true
	}
	return false
}

// tokenProblem reports whether the error is about a ws_token, which a fresh token may fix.
func (e *StreamError) tokenProblem() bool {
	switch e.Code {
	case "INVALID_TOKEN", "TOKEN_INVALID", "TOKEN_EXPIRED":
		return true
	}
	return e.HTTPStatus == 401
}

// HandlerError is returned by Stream when the handler kept failing for one event. The stream
// never moved past that event: restart it with StreamParams.Since = Resume to try again from
// there.
type HandlerError struct {
	// EventID is the event the handler failed on.
	EventID string
	// Resume is the id of the last event handled successfully (the stream's Since), or the
	// original Since when none was.
	Resume string
	// Attempts is how many times the handler ran for the event.
	Attempts int
	// Err is the handler's last error.
	Err error
}

// Error reads like "pepay: stream handler failed 3 times for evt_…: <err>".
func (e *HandlerError) Error() string {
	return "pepay: stream handler failed " + strconv.Itoa(e.Attempts) + " times for " + e.EventID + ": " + e.Err.Error()
}

// Unwrap returns the handler's error.
func (e *HandlerError) Unwrap() error { return e.Err }
