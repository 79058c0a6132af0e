package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
)

const (
	secretAPIKey   = "jp_live_APIKEY_0123456789"
	secretPassword = `hunter2<&>"\/pw`
)

// secretForms are the credential values and every escaped form a server might echo.
func secretForms(tokens ...string) []string {
	jsonEsc, _ := json.Marshal(secretPassword) // Go escapes <>& as \u003c…
	plain := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(secretPassword)
	out := []string{
		secretAPIKey, secretPassword,
		strings.Trim(string(jsonEsc), `"`),
		plain,                                // JSON without HTML escaping
		strings.ReplaceAll(plain, "/", `\/`), // PHP's json_encode
		url.QueryEscape(secretPassword),
	}
	return append(out, tokens...)
}

// echo answers with every credential it received (and the password the test knows), raw and
// escaped, in the given status and format: a careless provider or proxy.
func echo(status int, format string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		seen := fmt.Sprintf("auth=%s key=%s password=%s", r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"), secretPassword)
		var body string
		switch format {
		case "json":
			b, _ := json.Marshal(map[string]string{"code": "INVALID_REQUEST_PARAMS", "message": seen})
			body = string(b)
		case "php":
			b, _ := json.Marshal(map[string]string{"code": "INVALID_REQUEST_PARAMS", "message": seen, "echo": seen})
			body = strings.ReplaceAll(string(b), "/", `\/`)
		case "html":
			w.Header().Set("Content-Type", "text/html")
			body = "<html><body><h1>Bad gateway</h1><pre>" + seen + "</pre><p>" + url.QueryEscape(secretPassword) + "</p></body></html>"
		case "text":
			w.Header().Set("Content-Type", "text/plain")
			body = seen + "\x00" + secretAPIKey[:10] + "\x00" + secretAPIKey[10:]
		}
		if status == 429 {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func assertNoSecret(t *testing.T, where, text string, forms []string) {
	t.Helper()
	for _, f := range forms {
		assert.NotContains(t, text, f, "%s contains credential form", where)
	}
}

func TestRedaction(t *testing.T) {
	rec := newRecorder(t,
		echo(401, "json"), // first JWT refused: re-auth
		echo(503, "json"),
		echo(502, "html"),
		echo(429, "text"),
		echo(500, "php"),
	)
	var logins atomic.Int64
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		return fmt.Sprintf("eyJhbGciOiJIUzI1NiJ9.SECRET-%d.c2lnbmF0dXJl", logins.Add(1)), time.Time{}, nil
	}, 0, nil)
	var logs logCapture
	s := fastSettings(t, rec.URL+"/v1")
	s.Logger = logs.Logger()
	c := newTestClient(t, Config{
		Provider: "jovepay", Settings: s,
		Auth:    Chain(Header("x-api-key", secretAPIKey), BearerToken(cache)),
		Secrets: []string{secretPassword},
	})
	forms := secretForms("eyJhbGciOiJIUzI1NiJ9.SECRET-1.c2lnbmF0dXJl", "eyJhbGciOiJIUzI1NiJ9.SECRET-2.c2lnbmF0dXJl", "SECRET-1", "SECRET-2")
	forms = forms[:len(forms)-2] // the bare middle parts are not credentials on their own

	err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "payment/", Query: url.Values{"limit": {"10"}}}, nil)
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr, "got %v", err)
	require.Equal(t, 500, apiErr.Status, "got %v", err)
	require.Equal(t, "INVALID_REQUEST_PARAMS", apiErr.Code, "got %v", err)
	require.Equal(t, 5, rec.Count(), "%d attempts, %d logins; want 5 and 2", rec.Count(), logins.Load())
	require.Equal(t, int64(2), logins.Load(), "%d attempts, %d logins; want 5 and 2", rec.Count(), logins.Load())
	// The provider did see the credentials (so the echo is real) …
	require.Equal(t, "Bearer eyJhbGciOiJIUzI1NiJ9.SECRET-2.c2lnbmF0dXJl", rec.Attempts()[4].Header.Get("Authorization"), "last attempt")
	// … but none of them comes back out.
	assertNoSecret(t, "err.Error()", err.Error(), forms)
	assertNoSecret(t, "Error.Body", string(apiErr.Body), forms)
	assertNoSecret(t, "Error.Message", apiErr.Message, forms)
	assert.Contains(t, apiErr.Message, "auth=[REDACTED] key=[REDACTED] password=[REDACTED]", "Message: expected the echo with placeholders")
	assertNoSecret(t, "log", logs.String(), forms)

	// The other shapes, one call each with retries off, so each error is inspected.
	for _, format := range []string{"html", "text", "json"} {
		rec := newRecorder(t, echo(400, format))
		s := fastSettings(t, rec.URL)
		s.Logger = logs.Logger()
		c := newTestClient(t, Config{Provider: "jovepay", Settings: s, Auth: Chain(Header("x-api-key", secretAPIKey), BearerToken(cache)), Secrets: []string{secretPassword}})
		err := doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "payment", Body: map[string]string{"password": secretPassword}}, nil)
		require.ErrorAs(t, err, &apiErr, "%s", format)
		assertNoSecret(t, format+" err.Error()", err.Error(), forms)
		assertNoSecret(t, format+" Error.Body", string(apiErr.Body), forms)
		if format == "html" {
			assert.False(t, strings.ContainsAny(apiErr.Message, "<>"), "html: Message keeps markup: %q", apiErr.Message)
		}
	}
	assertNoSecret(t, "log", logs.String(), forms)
}

func TestRedactionOfTransportErrors(t *testing.T) {
	// A dropped connection: net/http's error repeats the URL, query string included.
	rec := newRecorder(t, hangUp)
	var logs logCapture
	s := fastSettings(t, rec.URL)
	s.Logger = logs.Logger()
	c := newTestClient(t, Config{Provider: "pepay", Settings: s, Auth: Header("x-api-key", secretAPIKey), Secrets: []string{secretPassword}})
	q := url.Values{"api_key": {secretAPIKey}, "p": {secretPassword}}
	for _, req := range []Request{
		{Method: http.MethodGet, Path: "api/v1/invoices", Query: q},
		{Method: http.MethodPost, Path: "api/v1/invoices", Query: q, Body: []byte(`{}`)},
	} {
		err := doBounded(t, context.Background(), c, req, nil)
		require.Error(t, err, "no error")
		assertNoSecret(t, "err.Error()", err.Error(), secretForms())
		var uerr *url.Error
		assert.ErrorAs(t, err, &uerr, "the *url.Error is no longer reachable")
	}
	assertNoSecret(t, "log", logs.String(), secretForms())
	assert.NotContains(t, logs.String(), "api_key=", "log carries the query string")
	assert.Equal(t, "key [REDACTED] pw [REDACTED]", c.Redact("key "+secretAPIKey+" pw "+secretPassword), "Redact")
}

func TestAttemptLogLines(t *testing.T) {
	rec := newRecorder(t, respond(503, `{}`), respond(429, `{}`), respond(200, `{"id":"x"}`))
	var logs logCapture
	s := fastSettings(t, rec.URL+"/api/v1")
	s.Logger = logs.Logger()
	c := newTestClient(t, Config{Settings: s, Auth: Bearer("jo_live_logkey")})
	require.NoError(t, doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "requests/create", Query: url.Values{"email": {"a@b.c"}}, Body: []byte(`{}`), IdempotencyKey: "k-123456789", IdempotencyHeader: "Idempotency-Key"}, nil))
	var debug, info []map[string]any
	for _, l := range logs.Lines(t) {
		switch l["level"] {
		case "DEBUG":
			debug = append(debug, l)
		case "INFO":
			info = append(info, l)
		default:
			t.Errorf("unexpected line %v", l)
		}
	}
	require.Len(t, debug, 3, "%d debug and %d info lines, want 3 and 2:\n%s", len(debug), len(info), logs.String())
	require.Len(t, info, 2, "%d debug and %d info lines, want 3 and 2:\n%s", len(debug), len(info), logs.String())
	for i, l := range debug {
		want := map[string]any{"msg": "paykit: request attempt", "provider": "jopay", "method": "POST", "path": "/requests/create", "attempt": float64(i + 1), "status": float64([]int{503, 429, 200}[i])}
		for k, v := range want {
			assert.Equal(t, v, l[k], "debug line %d: %s", i+1, k)
		}
		if d, ok := l["duration"].(float64); !ok || d <= 0 {
			t.Errorf("debug line %d: duration %v", i+1, l["duration"])
		}
	}
	for i, l := range info {
		assert.Equal(t, "paykit: retrying request", l["msg"], "info line %d: %v", i+1, l)
		assert.Equal(t, float64(i+2), l["attempt"], "info line %d: %v", i+1, l)
		assert.Equal(t, []string{"status 503", "status 429"}[i], l["reason"], "info line %d: %v", i+1, l)
	}
	for _, bad := range []string{"jo_live_logkey", "a@b.c", "k-123456789", "Authorization"} {
		assert.NotContains(t, logs.String(), bad, "log contains")
	}
}

func TestSilentByDefault(t *testing.T) {
	// No logger configured: nothing to assert but that nothing panics on the log paths.
	rec := newRecorder(t, respond(503, `{}`), hangUp, respond(200, `{}`))
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	require.NoError(t, doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil))
}

func TestRedactorUnit(t *testing.T) {
	for _, tt := range []struct {
		secrets []string
		in      string
		want    string
	}{
		// Short values are never replaced: they would mangle ordinary text.
		{[]string{"abc"}, "abc abc", "abc abc"},
		{[]string{"", "key-1234"}, "a key-1234 b", "a [REDACTED] b"},
		// A credential containing another is replaced whole.
		{[]string{"tok-12345", "Bearer tok-12345"}, "Bearer tok-12345", "[REDACTED]"},
		// Overlapping and adjacent matches become one placeholder.
		{[]string{"abcdabcd"}, "xabcdabcdabcdy", "x[REDACTED]y"},
		{[]string{"key-1234"}, "key-1234key-1234", "[REDACTED]"},
		// Escapes spanning the credential are replaced whole, the text around them kept.
		{[]string{"a/b<c"}, `x a\/b\u003cc y`, "x [REDACTED] y"},
		{[]string{"a/b<c"}, "x a%2Fb%3cc y", "x [REDACTED] y"},
		{[]string{"a/b<c"}, "x a&#47;b&lt;c y", "x [REDACTED] y"},
		{[]string{"a b c d"}, "q=a+b+c+d&r=1", "q=[REDACTED]&r=1"},
		// An escape of another kind right before a credential does not hide it.
		{[]string{"ab+cdef"}, `50%ab\u002Bcdef`, "50%[REDACTED]"},
		{[]string{"not-key-1"}, `a&not\u002Dkey-1`, "a&[REDACTED]"},
		// A replacement that changes how the text before it decodes is searched again.
		{[]string{"0000"}, "1&#48&#48&#48&#4800000000", "1[REDACTED]"},
		// Things that look like escapes but are not pass through.
		{[]string{"key-1234"}, `50% & \q &#; &nosuch; %zz \u12`, `50% & \q &#; &nosuch; %zz \u12`},
		// An escape cut off by the end of the text.
		{[]string{"key-1234"}, `key-123\u00`, `key-123\u00`},
		{[]string{"key-1234"}, `key-123&#52`, "[REDACTED]"},
	} {
		assert.Equal(t, tt.want, newRedactor(tt.secrets).redact(tt.in), "redact(%q) with %q", tt.in, tt.secrets)
	}
}

func TestDecodeOnce(t *testing.T) {
	for in, want := range map[string]string{
		`\u0041\u00e9\uD83D\uDE00\"\\\/\b\f\n\r\t`:                            "Aé😀\"\\/\b\f\n\r\t",
		`\uD83D\u0041 \uDE00 \uD83Dx`:                                         "\uFFFDA \uFFFD \uFFFDx",
		"%41%e9%C3%A9%2b%":                                                    "A\xe9é+%",
		"&#65;&#x41;&#X41;&#0065;&#65 &lt;&amp;&AMP;&semi;&notit;&lt&nosuch;": "AAAAA <&&;¬it;<&nosuch;",
		"&#1114112;&#0;&#xD800;":                                              "\uFFFD\uFFFD\uFFFD",
		`%5Cu0041`:                                                            `\u0041`,
	} {
		assert.Equal(t, want, decodeOnce(in), "decodeOnce(%q)", in)
	}
}

func TestRedactionOfReplacedToken(t *testing.T) {
	// Another goroutine replaced the JWT while this call was in flight: the token the server
	// echoes is no longer the cache's current one, but it was sent, so it is still redacted.
	var logins atomic.Int64
	cache := NewTokenCache(func(context.Context) (string, time.Time, error) {
		return fmt.Sprintf("eyJ.replaced-token-%d.sig", logins.Add(1)), time.Time{}, nil
	}, 0, nil)
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		sent := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		cache.Invalidate(sent)
		_, err := cache.Token(r.Context())
		assert.NoError(t, err)
		respond(400, `{"code":"BAD","message":"token `+sent+` not allowed here"}`)(w, r)
	})
	c := newTestClient(t, Config{Provider: "jovepay", Settings: fastSettings(t, rec.URL), Auth: BearerToken(cache)})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "payment/"}, nil)
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr, "got %v", err)
	require.Equal(t, "token [REDACTED] not allowed here", apiErr.Message, "got %v", err)
	assertNoSecret(t, "Error.Body", string(apiErr.Body), []string{"eyJ.replaced-token-1.sig"})
}
