package jopaycheckout

import (
	"errors"
)

// Sentinel errors, wrapped with detail; test with errors.Is.
var (
	// ErrMissingSessionID means a success redirect carried no session_id query parameter.
	ErrMissingSessionID = errors.New("jopaycheckout: no session_id in the redirect URL")
	// ErrInvalidSessionID means a session id is empty, too long or has characters JoPay does
	// not use in ids. Session ids in redirects come from the buyer's browser: treat them as
	// untrusted input.
	ErrInvalidSessionID = errors.New("jopaycheckout: invalid session id")
	// ErrInvalidEvent means a webhook payload is not a checkout event (not a JSON object, no
	// "event", or a known event without a session id). ParseEvent's errors wrap both it and
	// webhook.ErrInvalidPayload, so a webhook handler answers 400 for them.
	ErrInvalidEvent = errors.New("jopaycheckout: invalid event payload")
)
