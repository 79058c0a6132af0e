package transport

import (
	"encoding/json"
	"github.com/paykit-go/paykit/internal/jsonx"
	"html"
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
	ErrorCode json.RawMessage `json:"error_code"`
	Message   json.RawMessage `json:"message"`
	RequestID json.RawMessage `json:"request_id"`
}

type nestedError struct {
	Code    json.RawMessage `json:"code"`
	Message json.RawMessage `json:"message"`
}

// maxMessage bounds Error.Message and Error.Code taken from a body, in runes.
const maxMessage = 512

// decodeError builds the *paykit.Error for a non-2xx response. Every credential in secrets, in
// any escaping (see redactor), is replaced before anything of the body is kept, and every text
// taken from the body is redacted again after decoding and before it is cut short, so neither
// an unescaping nor a cut can bring part of a credential back.
func decodeError(provider string, resp *http.Response, body []byte, secrets []string, now time.Time) *paykit.Error {
	red := newRedactor(secrets)
	e := &paykit.Error{
		Provider:  provider,
		Status:    resp.StatusCode,
		RequestID: requestID(resp.Header, red),
	}
	if d, ok := retryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	// Redact the whole body before cutting it, so a credential straddling the cut cannot leave
	// its first half behind.
	clean := red.redact(string(body))
	if len(clean) > 0 {
		kept := clean
		if len(kept) > paykit.MaxErrorBody {
			kept = kept[:paykit.MaxErrorBody]
		}
		e.Body = []byte(kept)
	}
	var env envelope
	trimmed := strings.TrimSpace(clean)
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal([]byte(trimmed), &env) == nil {
		fillFromEnvelope(e, &env)
		e.Code = oneLine(e.Code, maxMessage, red)
		e.Message = oneLine(e.Message, maxMessage, red)
		if e.RequestID == "" {
			e.RequestID = oneLine(rawText(env.RequestID), 128, red)
		}
		if e.Code != "" || e.Message != "" {
			return e
		}
	}
	// Not an envelope we know (an HTML page from a proxy, plain text): status text and a short,
	// sanitized excerpt.
	e.Message = http.StatusText(resp.StatusCode)
	head := trimmed
	if len(head) > 64<<10 { // an excerpt needs the start of the page only
		head = head[:64<<10]
	}
	if ex := excerpt(head, 120, red); ex != "" {
		if e.Message == "" {
			e.Message = ex
		} else {
			e.Message += " (" + ex + ")"
		}
	}
	return e
}

func fillFromEnvelope(e *paykit.Error, env *envelope) {
	e.Message = rawText(env.Message)
	var nested nestedError
	errText := rawText(env.Error)
	if len(env.Error) > 0 && env.Error[0] == '{' && json.Unmarshal(env.Error, &nested) == nil {
		e.Code = rawText(nested.Code)
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
	if e.Code == "" {
		e.Code = rawText(env.ErrorCode)
	}
	if e.Code == "" && errText != "" {
		e.Code = errText // JoPay: "error" is the machine code
	}
}

// rawText returns a JSON string's value, a number's digits, or "" for anything else.
func rawText(raw json.RawMessage) string {
	s, _ := jsonx.Text(raw)
	return s
}

func requestID(h http.Header, red *redactor) string {
	for _, k := range []string{"X-Request-Id", "Request-Id", "X-Correlation-Id"} {
		if v := h.Get(k); v != "" {
			return oneLine(v, 128, red)
		}
	}
	return ""
}

// excerpt turns a non-JSON body into one short line of text: markup, script and style
// contents, control characters and invalid UTF-8 dropped, entities decoded, credentials
// redacted, whitespace collapsed, cut to n runes.
func excerpt(s string, n int, red *redactor) string {
	if strings.IndexByte(s, '<') >= 0 {
		s = html.UnescapeString(stripTags(s))
	}
	return oneLine(s, n, red)
}

// oneLine makes provider text safe to keep: credentials redacted, whitespace collapsed,
// control characters and invalid UTF-8 dropped, and cut to n runes (marking the cut with "…"),
// so provider text cannot forge log lines or flood them. It redacts again after dropping
// characters (a credential split by NUL bytes comes back together) and before cutting (a cut
// must not leave part of one behind).
func oneLine(s string, n int, red *redactor) string {
	return cutRunes(red.redact(flatten(red.redact(s))), n)
}

// flatten collapses whitespace and drops control characters and invalid UTF-8.
func flatten(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean && !strings.Contains(s, "  ") && strings.TrimSpace(s) == s {
		return s
	}
	var b strings.Builder
	space := false
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
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cutRunes cuts s to n runes, marking a cut with "…".
func cutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n {
			return strings.TrimRight(s[:i], " ") + "…"
		}
		count++
	}
	return s
}

// stripTags removes <…> markup, and the contents of script and style elements, so an HTML
// error page reads as its text. Every tag becomes a space, so words on both sides stay apart.
func stripTags(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		s = s[i:]
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return b.String() // an unterminated tag: drop the rest
		}
		tag := strings.ToLower(s[1:end])
		s = s[end+1:]
		for _, skip := range [...]string{"script", "style"} {
			if tag == skip || strings.HasPrefix(tag, skip+" ") {
				closeTag := "</" + skip
				if j := strings.Index(strings.ToLower(s), closeTag); j >= 0 {
					s = s[j:]
				} else {
					s = ""
				}
			}
		}
	}
}
