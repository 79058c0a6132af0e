package paykit

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{Provider: "jopay", Status: 400, Code: "customer_name_required", Message: "customer name is required"}, "jopay: 400 customer_name_required: customer name is required"},
		{Error{Provider: "jopay", Status: 400, Code: "customer_name_required"}, "jopay: 400 customer_name_required"},
		{Error{Provider: "jopay", Status: 400, Code: "same", Message: "same"}, "jopay: 400 same"},
		{Error{Provider: "pepay", Status: 502, Message: "Bad Gateway (nginx)"}, "pepay: 502: Bad Gateway (nginx)"},
		{Error{Status: 500}, "500"},
		{Error{Provider: "jovepay", Status: 401, Code: "AUTH_REQUIRED", RequestID: "rq_1", RetryAfter: time.Second, Body: []byte(`{}`)}, "jovepay: 401 AUTH_REQUIRED"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error(), "Error()")
	}
}

func TestErrorRetryable(t *testing.T) {
	want := map[int]bool{
		200: false, 400: false, 401: false, 403: false, 404: false, 408: true, 409: false, 422: false,
		429: true, 500: true, 501: false, 502: true, 503: true, 504: true, 599: true,
	}
	for status, retryable := range want {
		assert.Equal(t, retryable, (&Error{Status: status}).Retryable(), "Retryable() for %d", status)
	}
}

func TestErrorDetail(t *testing.T) {
	e := &Error{Body: []byte(`{"ok":false,"error":"currency_mismatch","expected_fiat_code":"USD","limit":50,"nested":{"a":1},"flag":true,"null":null}`)}
	for field, want := range map[string]string{
		"expected_fiat_code": "USD", "limit": "50", "error": "currency_mismatch",
		"nested": "", "flag": "", "null": "", "missing": "",
	} {
		assert.Equal(t, want, e.Detail(field), "Detail(%q)", field)
	}
	for _, body := range []string{``, `<html>`, `[1]`, `{"cut":"of`} {
		assert.Equal(t, "", (&Error{Body: []byte(body)}).Detail("cut"), "Detail on %q", body)
	}
}

func TestIsStatusIsCode(t *testing.T) {
	apiErr := &Error{Provider: "jopay", Status: 409, Code: "idempotency_conflict"}
	wrapped := fmt.Errorf("create request: %w", apiErr)
	joined := fmt.Errorf("%w: %w", ErrUnknownOutcome, &Error{Status: 503, Code: "busy"})
	tests := []struct {
		err        error
		status     int
		code       string
		wantStatus bool
		wantCode   bool
	}{
		{apiErr, 409, "idempotency_conflict", true, true},
		{wrapped, 409, "idempotency_conflict", true, true},
		{wrapped, 400, "not_found", false, false},
		{joined, 503, "busy", true, true},
		{errors.New("409 idempotency_conflict"), 409, "idempotency_conflict", false, false},
		{nil, 0, "", false, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.wantStatus, IsStatus(tt.err, tt.status), "IsStatus(%v, %d)", tt.err, tt.status)
		assert.Equal(t, tt.wantCode, IsCode(tt.err, tt.code), "IsCode(%v, %q)", tt.err, tt.code)
	}
	assert.ErrorIs(t, joined, ErrUnknownOutcome, "joined error lost ErrUnknownOutcome")
}

func TestValidationError(t *testing.T) {
	sentinel := errors.New("invalid idempotency key")
	err := fmt.Errorf("jopay: %w", &ValidationError{Field: "idempotency_key", Reason: "must be 32–64 characters", Err: sentinel})
	assert.Equal(t, "jopay: invalid idempotency_key: must be 32–64 characters", err.Error(), "Error() = %q", err)
	var ve *ValidationError
	if assert.ErrorAs(t, err, &ve) {
		assert.Equal(t, "idempotency_key", ve.Field)
	}
	assert.ErrorIs(t, err, sentinel)
	assert.NoError(t, (&ValidationError{Field: "memo", Reason: "too long"}).Unwrap(), "Unwrap without Err should be nil")
}
