package jovepaytest

import (
	"encoding/json"
	"net/http"
)

// envelope is JovePay's error body. "status":false is what responses observed in the wild add
// to the documented {"statusCode","code","message"}; clients must tolerate it.
type envelope struct {
	Status     bool   `json:"status"`
	StatusCode int    `json:"statusCode"`
	Code       string `json:"code"`
	Message    string `json:"message"`
}

// apiError is a failure a handler answers with.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "INVALID_REQUEST_PARAMS", msg}
}

func notFound(msg string) *apiError { return &apiError{http.StatusNotFound, "NOT_FOUND", msg} }

func errorBody(status int, code, message string) []byte {
	b, _ := json.Marshal(envelope{StatusCode: status, Code: code, Message: message})
	return b
}

// faultBody renders the envelope for an injected fault.
func faultBody(status int) []byte {
	code := "INTERNAL_ERROR"
	switch {
	case status == http.StatusTooManyRequests:
		code = "TOO_MANY_REQUESTS"
	case status == http.StatusUnauthorized:
		code = "AUTH_REQUIRED"
	case status == http.StatusForbidden:
		code = "INVALID_API_KEY"
	case status == http.StatusNotFound:
		code = "NOT_FOUND"
	case status < 500:
		code = "INVALID_REQUEST_PARAMS"
	}
	return errorBody(status, code, "injected fault: "+http.StatusText(status))
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_, _ = w.Write(errorBody(e.status, e.code, e.message))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, &apiError{http.StatusInternalServerError, "INTERNAL_ERROR", "encoding response"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
