package transport

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paykit-go/paykit"
)

// envelope is the union of every error body the four providers send:
//
//	{"ok":false,"error":"customer_name_required"}                       JoPay Partner API
//	{"error":"not_found","message":"…"}                                 JoPay (reference page), Checkout
//	{"statusCode":400,"code":"INVALID_REQUEST_PARAMS","message":"…"}    JovePay
//	{"success":false,"error":{"code":"API_KEY_INVALID","message":"…"}}  Pepay
//	{"error":"Failed to fetch wallets","code":"INTERNAL_SERVER_ERROR"}  Pepay (legacy)
//	{"success":false,"message":"…","error_code":"RATE_LIMIT_EXCEEDED","retry_after":"15 minutes"}
type envelope struct {
	Error     json.RawMessage `json:"error"`
	Code      json.RawMessage `json:"code"`
	ErrorCode string          `json:"error_code"`
	Message   json.RawMessage `json:"message"`
	RequestID string          `json:"request_id"`
}

type nestedError struct {
	Code    string          `json:"code"`
	Message json.RawMessage `json:"message"`
}

// decodeError builds the *paykit.Error for a non-2xx response.
func decodeError(provider string, resp *http.Response, body []byte, secrets []string) *paykit.Error {
	e := &paykit.Error{
		Provider:  provider,
		Status:    resp.StatusCode,
		RequestID: requestID(resp.Header),
	}
	if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	if len(body) > 0 {
		kept := body
		if len(kept) > paykit.MaxErrorBody {
			kept = kept[:paykit.MaxErrorBody]
		}
		e.Body = []byte(redact(string(kept), secrets))
	}
	var env envelope
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &env) == nil {
		fillFromEnvelope(e, &env)
		e.Code = redact(e.Code, secrets)
		e.Message = redact(e.Message, secrets)
		if e.Code != "" || e.Message != "" {
			return e
		}
	}
	// Not an envelope we know (an HTML page from a proxy, plain text): status text and a short,
	// sanitized excerpt.
	e.Message = http.StatusText(resp.StatusCode)
	if ex := excerpt(redact(string(trimmed), secrets), 120); ex != "" {
		if e.Message == "" {
			e.Message = ex
		} else {
			e.Message += " (" + ex + ")"
		}
	}
	return e
}

func fillFromEnvelope(e *paykit.Error, env *envelope) {
	if e.RequestID == "" {
		e.RequestID = env.RequestID
	}
	e.Message = rawText(env.Message)
	var nested nestedError
	errText := rawText(env.Error)
	if len(env.Error) > 0 && env.Error[0] == '{' && json.Unmarshal(env.Error, &nested) == nil {
		e.Code = nested.Code
		if m := rawText(nested.Message); m != "" {
			e.Message = m
		}
		errText = ""
	}
	if code := rawText(env.Code); code != "" && e.Code == "" {
		// JovePay's and Pepay's legacy "code"; in the legacy shape "error" is the message.
		e.Code = code
		if e.Message == "" {
			e.Message = errText
		}
		errText = ""
	}
	if e.Code == "" && env.ErrorCode != "" {
		e.Code = env.ErrorCode
	}
	if e.Code == "" && errText != "" {
		e.Code = errText // JoPay: "error" is the machine code
	}
}

// rawText returns a JSON string's value, a number's digits, or "" for anything else.
func rawText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func requestID(h http.Header) string {
	for _, k := range []string{"X-Request-Id", "Request-Id", "X-Correlation-Id"} {
		if v := h.Get(k); v != "" {
			return excerpt(v, 128)
		}
	}
	return ""
}

// excerpt collapses whitespace, drops control characters and markup, and cuts s to n runes.
func excerpt(s string, n int) string {
	s = stripTags(s)
	var b strings.Builder
	space := false
	count := 0
	for _, r := range s {
		if r == utf8.RuneError {
			continue
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if !unicode.IsPrint(r) {
			continue
		}
		if count >= n {
			b.WriteString("…")
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
			count++
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}

// stripTags removes <…> markup so an HTML error page reads as its text.
func stripTags(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '<':
			depth++
			b.WriteByte(' ')
		case r == '>' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// redact replaces every secret in s with [REDACTED]. Secrets shorter than 4 bytes are ignored:
// replacing them would mangle ordinary text without protecting anything.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}
