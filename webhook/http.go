package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
)

// preGrowMax bounds the buffer ReadBody allocates up front for a declared Content-Length.
const preGrowMax = 1 << 20

// ReadBody reads the whole request body, refusing bodies larger than max bytes (max <= 0 means
// DefaultMaxPayloadBytes) with an error wrapping ErrPayloadTooLarge. It never returns a
// truncated body: either all of it or an error. A declared Content-Length above max is refused
// before reading anything. Webhook signatures cover the exact bytes, so the result must be
// verified and parsed as is.
func ReadBody(r *http.Request, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxPayloadBytes
	}
	if r.Body == nil || r.Body == http.NoBody {
		return []byte{}, nil
	}
	if r.ContentLength > max {
		return nil, fmt.Errorf("%w: Content-Length %d exceeds the %d-byte limit", ErrPayloadTooLarge, r.ContentLength, max)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// +1: room to detect a body longer than declared. A declaration costs the sender
		// nothing, so beyond preGrowMax the buffer grows as the bytes actually arrive.
		buf.Grow(int(min(r.ContentLength, preGrowMax)) + 1)
	}
	// Read one byte past the limit: a body of exactly max bytes is fine, max+1 is too large
	// (no byte can follow math.MaxInt64 of them, and max+1 would overflow).
	limit := max
	if limit < math.MaxInt64 {
		limit++
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("webhook: reading request body: %w", err)
	}
	if n > max {
		return nil, fmt.Errorf("%w: body exceeds the %d-byte limit", ErrPayloadTooLarge, max)
	}
	return buf.Bytes(), nil
}

// VerifyRequest reads r's body (limited by WithMaxPayloadBytes), verifies the signature found
// in the named header (for example "X-JoPay-Signature") and returns the raw body bytes for
// parsing. Errors are those of ReadBody and Verify; map them to a response with StatusCode.
func (v *TimestampVerifier) VerifyRequest(r *http.Request, header string) ([]byte, error) {
	body, err := ReadBody(r, v.maxPayloadBytes)
	if err != nil {
		return nil, err
	}
	if err := v.Verify(body, r.Header.Get(header)); err != nil {
		return nil, err
	}
	return body, nil
}

// VerifyFunc returns an Endpoint.Verify function that checks the signature header named
// header (for example "X-JoPay-Signature") with Verify.
func (v *TimestampVerifier) VerifyFunc(header string) func(payload []byte, h http.Header) error {
	return func(payload []byte, h http.Header) error { return v.Verify(payload, h.Get(header)) }
}

// VerifyHeader checks the signature carried in h against payload with Verify. It reads the
// headers set with WithSignatureHeaders (default SortedJSONHeader, then
// SortedJSONHeaderNOWPayments): each one present is tried, and any one that verifies is
// enough, so a wrong value in one does not hide a right one in another. With none present it
// returns ErrMissingSignature; otherwise the first header's error. It has the shape of
// Endpoint.Verify.
func (v *SortedJSONVerifier) VerifyHeader(payload []byte, h http.Header) error {
	var first error
	for _, name := range v.headers {
		sig := h.Get(name)
		if sig == "" {
			continue
		}
		err := v.Verify(payload, sig)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		return fmt.Errorf("%w: no %s header", ErrMissingSignature, strings.Join(v.headers, " or "))
	}
	return first
}

// matchRawBody reports whether signature is the hex HMAC-SHA256 of the raw payload under one
// of the WithRawBodyFallback keys, compared in constant time.
func (v *SortedJSONVerifier) matchRawBody(payload []byte, signature string) bool {
	var want [sha256.Size]byte
	if !decodeSig(&want, strings.TrimSpace(signature)) {
		return false
	}
	for _, key := range v.rawKeys {
		m := hmac.New(sha256.New, key)
		m.Write(payload)
		if hmac.Equal(m.Sum(nil), want[:]) {
			return true
		}
	}
	return false
}

// StatusCode maps an error from verification, parsing, Deduper.Do or a handler to the HTTP
// status a webhook endpoint should answer, chosen for how providers retry (JoPay abandons a
// delivery on any 4xx except 429, and retries 5xx):
//
//   - nil, ErrDuplicate → 200 (done, or already done: stop redelivering)
//   - ErrPayloadTooLarge → 413
//   - ErrMissingSignature, ErrMalformedSignature, ErrSignatureMismatch,
//     ErrTimestampOutOfTolerance, ErrInvalidPayload → 400 (redelivering cannot help)
//   - ErrInFlight → 503 (another worker is on it: retry later)
//   - anything else (a handler or store error) → 500, so the provider redelivers.
func StatusCode(err error) int {
	switch {
	case err == nil, errors.Is(err, ErrDuplicate):
		return http.StatusOK
	case errors.Is(err, ErrPayloadTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrMissingSignature), errors.Is(err, ErrMalformedSignature),
		errors.Is(err, ErrSignatureMismatch), errors.Is(err, ErrTimestampOutOfTolerance),
		errors.Is(err, ErrInvalidPayload):
		return http.StatusBadRequest
	case errors.Is(err, ErrInFlight):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// responseText is the short plain-text body for err. It is a fixed string per outcome and never
// echoes the error, the payload or anything secret. The 400 texts follow Pepay's documented
// receiver replies.
func responseText(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrDuplicate):
		return "duplicate"
	case errors.Is(err, ErrPayloadTooLarge):
		return "payload_too_large"
	case errors.Is(err, ErrTimestampOutOfTolerance):
		return "timestamp_out_of_range"
	case errors.Is(err, ErrMissingSignature), errors.Is(err, ErrMalformedSignature),
		errors.Is(err, ErrSignatureMismatch):
		return "invalid_signature"
	case errors.Is(err, ErrInvalidPayload):
		return "invalid_payload"
	case errors.Is(err, ErrInFlight):
		return "in_flight"
	default:
		return "internal_error"
	}
}

func writeText(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, text+"\n")
}
