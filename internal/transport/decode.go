package transport

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"slices"
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

// decodeError builds the *paykit.Error for a non-2xx response. Every credential in secrets (and
// its escaped forms) is replaced before anything of the body is kept.
func decodeError(provider string, resp *http.Response, body []byte, secrets []string, now time.Time) *paykit.Error {
	e := &paykit.Error{
		Provider:  provider,
		Status:    resp.StatusCode,
		RequestID: requestID(resp.Header),
	}
	if d, ok := retryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	variants := secretVariants(secrets)
	e.RequestID = redact(e.RequestID, variants)
	// Redact the whole body before cutting it, so a credential straddling the cut cannot leave
	// its first half behind.
	clean := redact(string(body), variants)
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
		// Unescaping JSON can rebuild a credential the raw-text pass could not see.
		e.Code = redact(oneLine(e.Code, maxMessage), variants)
		e.Message = redact(oneLine(e.Message, maxMessage), variants)
		if e.RequestID == "" {
			e.RequestID = redact(oneLine(rawText(env.RequestID), 128), variants)
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
	if ex := redact(excerpt(head, 120), variants); ex != "" {
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

// excerpt turns a non-JSON body into one short line of text: markup, script and style
// contents, control characters and invalid UTF-8 dropped, entities decoded, whitespace
// collapsed, cut to n runes.
func excerpt(s string, n int) string {
	if strings.IndexByte(s, '<') >= 0 {
		s = html.UnescapeString(stripTags(s))
	}
	return oneLine(s, n)
}

// oneLine collapses whitespace, drops control characters and invalid UTF-8, and cuts s to n
// runes (marking the cut with "…"), so provider text cannot forge log lines or flood them.
func oneLine(s string, n int) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean && len(s) <= n && !strings.Contains(s, "  ") && strings.TrimSpace(s) == s {
		return s
	}
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

// secretVariants expands credentials into every form a server might echo them in: as is,
// JSON-escaped (with and without HTML escaping, and with PHP's escaped slash) and URL-escaped.
// Values shorter than 4 bytes are ignored: replacing them would mangle ordinary text without
// protecting anything. Longer values come first, so a credential that contains another is
// replaced whole.
func secretVariants(secrets []string) []string {
	var out []string
	add := func(v string) {
		if len(v) >= 4 && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		add(sec)
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if enc.Encode(sec) == nil {
			plain := strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:]
			add(plain)
			add(strings.ReplaceAll(plain, "/", `\/`))
			var h bytes.Buffer
			json.HTMLEscape(&h, []byte(plain))
			add(h.String())
		}
		add(url.QueryEscape(sec))
		add(url.PathEscape(sec))
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// redact replaces every value in variants (see secretVariants) in s with [REDACTED].
func redact(s string, variants []string) string {
	for _, v := range variants {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
		}
	}
	return s
}
