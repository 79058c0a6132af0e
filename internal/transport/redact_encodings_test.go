package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
)

// The credentials of the encoding table. The password holds every character class an escaping
// treats specially: HTML's <&>"', JSON's " \ /, form encoding's space and '+', something that
// looks like a percent escape, non-ASCII and a character outside the BMP.
const (
	encKey      = "jp_live_ENCKEY_9876543210"
	encPassword = `hun<&>"'\/ +%41é😀ter2`
)

// jsonAll escapes every UTF-16 code unit as \uXXXX.
func jsonAll(s string, upper bool) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		h := fmt.Sprintf("%04x", u)
		if upper {
			h = strings.ToUpper(h)
		}
		b.WriteString(`\u` + h)
	}
	return b.String()
}

// jsonMinimal is a JSON string's content with only the escapes JSON requires.
func jsonMinimal(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:]
}

// jsonEveryOther \u-escapes every other character and leaves the rest as JSON requires.
func jsonEveryOther(s string) string {
	var b strings.Builder
	i := 0
	for _, r := range s {
		if i%2 == 0 {
			b.WriteString(jsonAll(string(r), false))
		} else {
			b.WriteString(jsonMinimal(string(r)))
		}
		i++
	}
	return b.String()
}

// aspNet mimics System.Text.Json's default encoder: non-ASCII and HTML-sensitive characters
// (<>&'"+ and `) as \uXXXX in upper case, surrogate pairs for characters outside the BMP.
func aspNet(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r > 0x7e || r < 0x20 || strings.ContainsRune("<>&'\"+`", r):
			b.WriteString(jsonAll(string(r), true))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// pctAll percent-encodes every byte.
func pctAll(s string, upper bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		h := fmt.Sprintf("%%%02x", s[i])
		if upper {
			h = strings.ToUpper(h)
		}
		b.WriteString(h)
	}
	return b.String()
}

// htmlNumeric writes every character as a numeric reference.
func htmlNumeric(s string, format string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, format, r)
	}
	return b.String()
}

// htmlNamed escapes HTML's specials with named references.
var htmlNamed = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;", "é", "&eacute;").Replace

// encodings are the ways a server may echo a credential. jsonSafe marks outputs that can go
// into a JSON string as they are; the others are JSON-escaped once more for the JSON body.
var encodings = []struct {
	name     string
	enc      func(string) string
	jsonSafe bool
}{
	{"raw", func(s string) string { return s }, false},
	{"json_go_default", func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }, true},
	{"json_minimal", jsonMinimal, true},
	{"json_php_slashes", func(s string) string { return strings.ReplaceAll(jsonMinimal(s), "/", `\/`) }, true},
	{"json_u_all_lower", func(s string) string { return jsonAll(s, false) }, true},
	{"json_u_all_upper", func(s string) string { return jsonAll(s, true) }, true},
	{"json_u_every_other", jsonEveryOther, true},
	{"json_aspnet", aspNet, true},
	{"query_escape", url.QueryEscape, true},
	{"path_escape", url.PathEscape, true},
	{"query_escape_lower", func(s string) string {
		return strings.NewReplacer("%2B", "%2b", "%2F", "%2f", "%3C", "%3c", "%3E", "%3e", "%5C", "%5c", "%C3", "%c3", "%A9", "%a9", "%F0", "%f0", "%9F", "%9f").Replace(url.QueryEscape(s))
	}, true},
	{"pct_all_upper", func(s string) string { return pctAll(s, true) }, true},
	{"pct_all_lower", func(s string) string { return pctAll(s, false) }, true},
	{"html_escape_string", html.EscapeString, false},
	{"html_named", htmlNamed, false},
	{"html_decimal", func(s string) string { return htmlNumeric(s, "&#%d;") }, true},
	{"html_decimal_zeros", func(s string) string { return htmlNumeric(s, "&#%07d;") }, true},
	{"html_hex_lower", func(s string) string { return htmlNumeric(s, "&#x%x;") }, true},
	{"html_hex_upper", func(s string) string { return htmlNumeric(s, "&#X%X;") }, true},
	{"html_decimal_no_semicolon", func(s string) string { return htmlNumeric(s, "&#%d") }, true},
	{"json_of_query", func(s string) string { return jsonAll(url.QueryEscape(s), false) }, true},
	{"html_of_query", func(s string) string { return htmlNumeric(url.QueryEscape(s), "&#%d;") }, true},
	{"query_of_query", func(s string) string { return url.QueryEscape(url.QueryEscape(s)) }, true},
	{"json_of_json", func(s string) string { return jsonAll(jsonAll(s, false), true) }, true},
	{"json_of_query_of_query", func(s string) string { return aspNet(jsonAll(url.QueryEscape(url.QueryEscape(s)), false)) }, true},
	{"query_of_html", func(s string) string { return url.QueryEscape(htmlNumeric(s, "&#x%x;")) }, true},
}

// decodings of text by the standard library, independently of the redactor: what a reader of
// an error could do to it.
func decodings(s string) []string {
	out := []string{s}
	for depth := 0; depth < 4; depth++ {
		for _, v := range out {
			for _, d := range []string{
				html.UnescapeString(v),
				func() string { u, _ := url.QueryUnescape(v); return u }(),
				func() string { u, _ := url.PathUnescape(v); return u }(),
				func() string { u, _ := strconv.Unquote(`"` + strings.ReplaceAll(v, `"`, `\"`) + `"`); return u }(),
				func() string { var u string; _ = json.Unmarshal([]byte(`"`+v+`"`), &u); return u }(),
			} {
				if d != "" && !containsString(out, d) {
					out = append(out, d)
				}
			}
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// leak returns a piece of secret — in the encoding the server used or any decoding of it — that
// text carries: any run of 8 bytes (or the whole form, if shorter) of such a form.
func leak(text, secret, encoded string) string {
	forms := append(decodings(encoded), secret)
	for _, f := range forms {
		w := min(8, len(f))
		for i := 0; i+w <= len(f); i++ {
			if piece := f[i : i+w]; strings.Contains(text, piece) && !strings.Contains("[REDACTED]", piece) {
				return piece
			}
		}
	}
	return ""
}

func TestRedactionEncodingTable(t *testing.T) {
	for _, e := range encodings {
		key, pw := e.enc(encKey), e.enc(encPassword)
		jsonKey, jsonPW := key, pw
		if !e.jsonSafe {
			jsonKey, jsonPW = jsonMinimal(key), jsonMinimal(pw)
		}
		bodies := map[string]string{
			"json": `{"code":"ECHO","message":"key=` + jsonKey + ` pw=` + jsonPW + `","echo":"key=` + jsonKey + ` pw=` + jsonPW + `"}`,
			"html": "<html><body><p>key=" + key + "</p><p>pw=" + pw + "</p></body></html>",
		}
		for format, body := range bodies {
			t.Run(e.name+"/"+format, func(t *testing.T) {
				t.Parallel()
				if format == "json" && !json.Valid([]byte(body)) {
					t.Fatalf("test bug: invalid JSON body %s", body)
				}
				rec := newRecorder(t, respond(400, body))
				var logs logCapture
				s := fastSettings(t, rec.URL)
				s.Logger = logs.Logger()
				c := newTestClient(t, Config{Provider: "jovepay", Settings: s, Auth: Header("x-api-key", encKey), Secrets: []string{encPassword}})
				err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "payment/1"}, nil)
				var apiErr *paykit.Error
				require.ErrorAs(t, err, &apiErr, "got %v", err)
				require.Equal(t, 400, apiErr.Status, "got %v", err)
				require.Equal(t, encKey, rec.Attempts()[0].Header.Get("X-Api-Key"), "the server did not receive the key, so its echo proves nothing")
				texts := map[string]string{
					"Error()":         err.Error(),
					"Body":            string(apiErr.Body),
					"Message":         apiErr.Message,
					"Detail(echo)":    apiErr.Detail("echo"),
					"Detail(message)": apiErr.Detail("message"),
					"log":             logs.String(),
				}
				for where, text := range texts {
					for _, sec := range [][2]string{{encKey, key}, {encPassword, pw}} {
						assert.Empty(t, leak(text, sec[0], sec[1]), "%s carries part of the %s-encoded credential:\n%s", where, e.name, text)
					}
				}
				if format == "json" {
					assert.Contains(t, apiErr.Detail("echo"), "key=[REDACTED] pw=[REDACTED]", "Detail(echo): the echo should survive with placeholders")
				}
				if format == "html" {
					assert.Contains(t, apiErr.Message, "key=[REDACTED] pw=[REDACTED]", "Message: the excerpt should survive with placeholders")
				}
			})
		}
	}
}

// failingTransport fails every request with an error quoting the credentials in the given
// encoding: a proxy or middleware whose error text repeats what it saw.
type failingTransport struct{ key, pw string }

func (f failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("proxy refused key=" + f.key + " pw=" + f.pw)
}

func TestRedactionEncodingTableTransportErrors(t *testing.T) {
	// Error texts that never came from a response body go to Error() and to the attempt log.
	for _, e := range encodings {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			key, pw := e.enc(encKey), e.enc(encPassword)
			var logs logCapture
			s := fastSettings(t, "https://api.example.com")
			s.Logger = logs.Logger()
			s.HTTPClient = &http.Client{Transport: failingTransport{key: key, pw: pw}}
			require.NoError(t, s.SetMaxRetries(1))
			c := newTestClient(t, Config{Provider: "jovepay", Settings: s, Auth: Header("x-api-key", encKey), Secrets: []string{encPassword}})
			err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "payment/1"}, nil)
			require.Error(t, err, "got %v", err)
			require.Contains(t, err.Error(), "proxy refused", "got %v", err)
			require.Contains(t, logs.String(), "proxy refused", "no attempt line with the error")
			for where, text := range map[string]string{"Error()": err.Error(), "log": logs.String(), "Redact": c.Redact(key + " " + pw)} {
				for _, sec := range [][2]string{{encKey, key}, {encPassword, pw}} {
					assert.Empty(t, leak(text, sec[0], sec[1]), "%s carries part of the %s-encoded credential:\n%s", where, e.name, text)
				}
			}
		})
	}
}

// TestRedactionOfCustomCredentialHeader covers the header-name layer of redaction alone: the
// credential is sent in a header the caller adds (no Auth knows it), directly or by the
// caller's http.Client, and echoed in a 4xx body.
func TestRedactionOfCustomCredentialHeader(t *testing.T) {
	const key = "cust_live_HEADERKEY_13579"
	for _, tt := range []struct {
		name   string
		header string
		viaRT  bool // set by the caller's RoundTripper instead of Request.Header
	}{
		{"api-key", "Api-Key", false},
		{"x-api-key", "X-Api-Key", false},
		{"apikey", "X-Merchant-Apikey", false},
		{"api-key_by_round_tripper", "X-Partner-Api-Key", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				got := r.Header.Get(tt.header)
				b, _ := json.Marshal(map[string]string{"code": "KEY_INVALID", "message": "key " + got + " unknown", "echo": got, "escaped": jsonAll(got, true)})
				respond(401, string(b))(w, r)
			})
			var logs logCapture
			s := fastSettings(t, rec.URL)
			s.Logger = logs.Logger()
			req := Request{Method: http.MethodGet, Path: "x"}
			if tt.viaRT {
				s.HTTPClient = &http.Client{Transport: headerSetter{name: tt.header, value: key}}
			} else {
				req.Header = http.Header{tt.header: {key}}
			}
			c := newTestClient(t, Config{Provider: "pepay", Settings: s})
			err := doBounded(t, context.Background(), c, req, nil)
			var apiErr *paykit.Error
			require.ErrorAs(t, err, &apiErr, "got %v", err)
			require.Equal(t, 401, apiErr.Status, "got %v", err)
			require.Equal(t, key, rec.Attempts()[0].Header.Get(tt.header), "the key was not sent")
			assert.Equal(t, "[REDACTED]", apiErr.Detail("echo"), "Detail(echo), want [REDACTED]")
			for where, text := range map[string]string{
				"Error()": err.Error(), "Body": string(apiErr.Body), "Message": apiErr.Message,
				"Detail(echo)": apiErr.Detail("echo"), "Detail(escaped)": apiErr.Detail("escaped"), "log": logs.String(),
			} {
				assert.Empty(t, leak(text, key, jsonAll(key, true)), "%s carries a credential:\n%s", where, text)
			}
		})
	}
}

// headerSetter is a caller's RoundTripper that adds a credential header to the request it is
// given, the way simple authentication middleware does.
type headerSetter struct{ name, value string }

func (h headerSetter) RoundTrip(r *http.Request) (*http.Response, error) {
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}
