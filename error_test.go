package paykit

import (
	"errors"
	"fmt"
	"testing"
	"time"
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
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorRetryable(t *testing.T) {
	want := map[int]bool{
		200: false, 400: false, 401: false, 403: false, 404: false, 408: true, 409: false, 422: false,
		429: true, 500: true, 501: false, 502: true, 503: true, 504: true, 599: true,
	}
	for status, retryable := range want {
		if got := (&Error{Status: status}).Retryable(); got != retryable {
			t.Errorf("Retryable() for %d = %v, want %v", status, got, retryable)
		}
	}
}

func TestErrorDetail(t *testing.T) {
	e := &Error{Body: []byte(`{"ok":false,"error":"currency_mismatch","expected_fiat_code":"USD","limit":50,"nested":{"a":1},"flag":true,"null":null}`)}
	for field, want := range map[string]string{
		"expected_fiat_code": "USD", "limit": "50", "error": "currency_mismatch",
		"nested": "", "flag": "", "null": "", "missing": "",
	} {
		if got := e.Detail(field); got != want {
			t.Errorf("Detail(%q) = %q, want %q", field, got, want)
		}
	}
	for _, body := range []string{``, `<html>`, `[1]`, `{"cut":"of`} {
		if got := (&Error{Body: []byte(body)}).Detail("cut"); got != "" {
			t.Errorf("Detail on %q = %q", body, got)
		}
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
		if got := IsStatus(tt.err, tt.status); got != tt.wantStatus {
			t.Errorf("IsStatus(%v, %d) = %v", tt.err, tt.status, got)
		}
		if got := IsCode(tt.err, tt.code); got != tt.wantCode {
			t.Errorf("IsCode(%v, %q) = %v", tt.err, tt.code, got)
		}
	}
	if !errors.Is(joined, ErrUnknownOutcome) {
		t.Error("joined error lost ErrUnknownOutcome")
	}
}

func TestValidationError(t *testing.T) {
	sentinel := errors.New("invalid idempotency key")
	err := fmt.Errorf("jopay: %w", &ValidationError{Field: "idempotency_key", Reason: "must be 32–64 characters", Err: sentinel})
	if err.Error() != "jopay: invalid idempotency_key: must be 32–64 characters" {
		t.Errorf("Error() = %q", err)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "idempotency_key" || !errors.Is(err, sentinel) {
		t.Errorf("errors.As/Is failed on %v", err)
	}
	if (&ValidationError{Field: "memo", Reason: "too long"}).Unwrap() != nil {
		t.Error("Unwrap without Err should be nil")
	}
}
