package transport

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paykit-go/paykit"
)

func TestErrorEnvelopes(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		status   int
		body     string
		headers  []string
		want     paykit.Error // Body is compared separately
		wantText string
	}{
		{
			name: "jopay", provider: "jopay", status: 400,
			body: `{"ok":false,"error":"customer_name_required"}`,
			want: paykit.Error{Code: "customer_name_required"}, wantText: "jopay: 400 customer_name_required",
		},
		{
			name: "jopay with message", provider: "jopay", status: 400,
			body:     `{"ok":false,"error":"customer_name_required","message":"customer_name is required for invoice mode"}`,
			want:     paykit.Error{Code: "customer_name_required", Message: "customer_name is required for invoice mode"},
			wantText: "jopay: 400 customer_name_required: customer_name is required for invoice mode",
		},
		{
			name: "jopay error+message reference page", provider: "jopaycheckout", status: 404,
			body:     `{"error":"not_found","message":"No session cs_123"}`,
			want:     paykit.Error{Code: "not_found", Message: "No session cs_123"},
			wantText: "jopaycheckout: 404 not_found: No session cs_123",
		},
		{
			name: "jovepay", provider: "jovepay", status: 400,
			body:     `{"status":false,"statusCode":400,"code":"INVALID_REQUEST_PARAMS","message":"\"price_amount\" must be a number"}`,
			want:     paykit.Error{Code: "INVALID_REQUEST_PARAMS", Message: `"price_amount" must be a number`},
			wantText: `jovepay: 400 INVALID_REQUEST_PARAMS: "price_amount" must be a number`,
		},
		{
			name: "pepay nested", provider: "pepay", status: 401,
			body:     `{"success":false,"error":{"code":"API_KEY_INVALID","message":"Invalid API key"}}`,
			want:     paykit.Error{Code: "API_KEY_INVALID", Message: "Invalid API key"},
			wantText: "pepay: 401 API_KEY_INVALID: Invalid API key",
		},
		{
			name: "pepay legacy", provider: "pepay", status: 500,
			body:     `{"error":"Failed to fetch wallets","code":"INTERNAL_SERVER_ERROR"}`,
			want:     paykit.Error{Code: "INTERNAL_SERVER_ERROR", Message: "Failed to fetch wallets"},
			wantText: "pepay: 500 INTERNAL_SERVER_ERROR: Failed to fetch wallets",
		},
		{
			name: "pepay rate limit", provider: "pepay", status: 429, headers: []string{"Retry-After", "900"},
			body:     `{"success":false,"message":"Too many requests","error_code":"RATE_LIMIT_EXCEEDED","retry_after":"15 minutes"}`,
			want:     paykit.Error{Code: "RATE_LIMIT_EXCEEDED", Message: "Too many requests", RetryAfter: 15 * time.Minute},
			wantText: "pepay: 429 RATE_LIMIT_EXCEEDED: Too many requests",
		},
		{
			name: "request id header", provider: "jopay", status: 409, headers: []string{"X-Request-Id", "rq_abc123"},
			body:     `{"ok":false,"error":"idempotency_conflict"}`,
			want:     paykit.Error{Code: "idempotency_conflict", RequestID: "rq_abc123"},
			wantText: "jopay: 409 idempotency_conflict",
		},
		{
			name: "request id body", provider: "jopay", status: 404,
			body:     `{"ok":false,"error":"not_found","request_id":"rq_body"}`,
			want:     paykit.Error{Code: "not_found", RequestID: "rq_body"},
			wantText: "jopay: 404 not_found",
		},
		{
			name: "numeric code", provider: "pepay", status: 400,
			body:     `{"success":false,"error":{"code":1001,"message":"bad"},"request_id":7}`,
			want:     paykit.Error{Code: "1001", Message: "bad", RequestID: "7"},
			wantText: "pepay: 400 1001: bad",
		},
		{
			name: "message only", provider: "jopaycheckout", status: 403,
			body:     `{"message":"Forbidden"}`,
			want:     paykit.Error{Message: "Forbidden"},
			wantText: "jopaycheckout: 403: Forbidden",
		},
		{
			name: "multi-line message flattened", provider: "jovepay", status: 400,
			body:     `{"code":"X","message":"line one\n\tline two\u0000"}`,
			want:     paykit.Error{Code: "X", Message: "line one line two"},
			wantText: "jovepay: 400 X: line one line two",
		},
		{
			name: "empty object", provider: "jopay", status: 502, body: `{}`,
			want: paykit.Error{Message: "Bad Gateway ({})"}, wantText: "jopay: 502: Bad Gateway ({})",
		},
		{
			name: "empty body", provider: "jopay", status: 503,
			want: paykit.Error{Message: "Service Unavailable"}, wantText: "jopay: 503: Service Unavailable",
		},
		{
			name: "html proxy page", provider: "jopay", status: 502, headers: []string{"Content-Type", "text/html"},
			body: "<html><head><title>502 Bad Gateway</title><style>body{color:red}</style><script>var x = '<b>';</script></head>" +
				"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx &amp; friends</center></body></html>",
			want:     paykit.Error{Message: "Bad Gateway (502 Bad Gateway 502 Bad Gateway nginx & friends)"},
			wantText: "jopay: 502: Bad Gateway (502 Bad Gateway 502 Bad Gateway nginx & friends)",
		},
		{
			name: "plain text", provider: "jovepay", status: 500, headers: []string{"Content-Type", "text/plain"},
			body:     "upstream connect error or disconnect/reset before headers. reset reason: overflow",
			want:     paykit.Error{Message: "Internal Server Error (upstream connect error or disconnect/reset before headers. reset reason: overflow)"},
			wantText: "jovepay: 500: Internal Server Error (upstream connect error or disconnect/reset before headers. reset reason: overflow)",
		},
		{
			name: "JSON array", provider: "jopay", status: 400, body: `["bad"]`,
			want: paykit.Error{Message: `Bad Request (["bad"])`}, wantText: `jopay: 400: Bad Request (["bad"])`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, respond(tt.status, tt.body, tt.headers...))
			s := fastSettings(t, rec.URL)
			_ = s.SetMaxRetries(0)
			c := newTestClient(t, Config{Provider: tt.provider, Settings: s})
			err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil)
			var got *paykit.Error
			require.ErrorAs(t, err, &got, "error is not a *paykit.Error")
			want := tt.want
			want.Provider, want.Status, want.Method, want.Path = tt.provider, tt.status, http.MethodGet, "/x"
			assert.Empty(t, cmp.Diff(&want, got, cmpopts.IgnoreFields(paykit.Error{}, "Body")), "error (-want +got)")
			assert.Equal(t, tt.body, string(got.Body), "Body %q, want the raw body", got.Body)
			assert.Equal(t, tt.wantText, got.Error(), "Error() = %q, want %q", err.Error(), tt.wantText)
			assert.Equal(t, tt.wantText, err.Error(), "Error() = %q, want %q", err.Error(), tt.wantText)
		})
	}
}

func TestErrorHelperFieldsAndPredicates(t *testing.T) {
	body := `{"ok":false,"error":"currency_mismatch","expected_fiat_code":"USD","required_scope":"requests:write","max":50}`
	rec := newRecorder(t, respond(422, body, "X-Request-Id", "rq_77"))
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: "requests/create", Body: []byte(`{}`)}, nil)

	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	for field, want := range map[string]string{"expected_fiat_code": "USD", "required_scope": "requests:write", "max": "50", "ok": "", "absent": ""} {
		assert.Equal(t, want, apiErr.Detail(field), "Detail(%q)", field)
	}
	require.True(t, paykit.IsStatus(err, 422), "IsStatus/IsCode disagree with %v", err)
	assert.False(t, paykit.IsStatus(err, 400), "IsStatus/IsCode disagree with %v", err)
	require.True(t, paykit.IsCode(err, "currency_mismatch"), "IsStatus/IsCode disagree with %v", err)
	assert.False(t, paykit.IsCode(err, "invalid_amount"), "IsStatus/IsCode disagree with %v", err)
	assert.Equal(t, "rq_77", apiErr.RequestID, "RequestID %q Retryable %v", apiErr.RequestID, apiErr.Retryable())
	assert.False(t, apiErr.Retryable(), "RequestID %q Retryable %v", apiErr.RequestID, apiErr.Retryable())
}

func TestErrorBodyBounded(t *testing.T) {
	long := `{"ok":false,"error":"invalid_memo","message":"` + strings.Repeat("é", 3000) + `"}`
	rec := newRecorder(t, respond(400, long))
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: "x"}, nil)
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr)
	require.Len(t, apiErr.Body, paykit.MaxErrorBody, "Body has %d bytes, want the first %d", len(apiErr.Body), paykit.MaxErrorBody)
	assert.Equal(t, long[:paykit.MaxErrorBody], string(apiErr.Body), "Body has %d bytes, want the first %d", len(apiErr.Body), paykit.MaxErrorBody)
	assert.Equal(t, "invalid_memo", apiErr.Code, "Code %q, Message of %d runes", apiErr.Code, len([]rune(apiErr.Message)))
	require.True(t, strings.HasSuffix(apiErr.Message, "é…"), "Code %q, Message of %d runes", apiErr.Code, len([]rune(apiErr.Message)))
	assert.Len(t, []rune(apiErr.Message), maxMessage+1, "Code %q, Message of %d runes", apiErr.Code, len([]rune(apiErr.Message)))
}

func TestOversizedResponse(t *testing.T) {
	const limit = 1024
	exact := `{"pad":"` + strings.Repeat("x", limit-10) + `"}`
	require.Len(t, exact, limit, "fixture is %d bytes", len(exact))
	big := `{"pad":"` + strings.Repeat("x", 5*limit) + `"}`
	html := "<html><body><h1>502 Bad Gateway</h1>" + strings.Repeat("<p>padding</p>", 500) + "</body></html>"
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/exact":
			respond(200, exact)(w, r)
		case "/big":
			respond(200, big)(w, r)
		case "/big-chunked":
			w.WriteHeader(200)
			for range 10 {
				_, _ = w.Write([]byte(strings.Repeat(" ", limit/2)))
				w.(http.Flusher).Flush()
			}
		case "/big-error":
			respond(502, html, "Content-Type", "text/html")(w, r)
		}
	})
	s := fastSettings(t, rec.URL)
	require.NoError(t, s.SetMaxResponseBytes(limit))
	c := newTestClient(t, Config{Settings: s})
	ctx := context.Background()

	var out struct{ Pad string }
	err := doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: "exact"}, &out)
	require.NoError(t, err, "a body of exactly the cap: %v", err)
	require.Len(t, out.Pad, limit-10, "a body of exactly the cap: %v", err)
	for _, path := range []string{"big", "big-chunked"} {
		err := doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: path}, &out)
		assert.ErrorIs(t, err, paykit.ErrResponseTooLarge, "%s, want ErrResponseTooLarge", path)
		_, err = c.DoRaw(ctx, Request{Method: http.MethodGet, Path: path})
		assert.ErrorIs(t, err, paykit.ErrResponseTooLarge, "DoRaw %s, want ErrResponseTooLarge", path)
	}
	// An oversized error page still reports the status.
	err = doBounded(t, ctx, c, Request{Method: http.MethodPost, Path: "big-error"}, nil)
	var apiErr *paykit.Error
	require.ErrorAs(t, err, &apiErr, "got %v", err)
	require.Equal(t, 502, apiErr.Status, "got %v", err)
	require.True(t, strings.HasPrefix(apiErr.Message, "Bad Gateway (502 Bad Gateway padding padding"), "got %v", err)
	assert.ErrorIs(t, err, paykit.ErrUnknownOutcome, "a 502 for an unkeyed write should wrap ErrUnknownOutcome")
}

func TestInvalidResponses(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/truncated":
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"id":"req_1","status":"pen`))
		case "/html":
			respond(200, "<html><body>Welcome</body></html>", "Content-Type", "text/html")(w, r)
		case "/wrong-shape":
			respond(200, `{"id":["not","a","string"]}`)(w, r)
		case "/truncated-json":
			respond(200, `{"id":"req_1"`)(w, r)
		case "/empty":
			w.WriteHeader(200)
		case "/no-content":
			w.WriteHeader(204)
		}
	})
	c := newTestClient(t, Config{Settings: fastSettings(t, rec.URL)})
	ctx := context.Background()
	for _, path := range []string{"truncated", "html", "wrong-shape", "truncated-json"} {
		var out struct{ ID string }
		err := doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: path}, &out)
		if !assert.ErrorIs(t, err, paykit.ErrInvalidResponse, "%s, want ErrInvalidResponse", path) {
			continue
		}
		assert.True(t, strings.HasPrefix(err.Error(), "jopay: GET /"+path+": paykit: invalid response"), "%s: error text %q", path, err)
	}
	_, err := c.DoRaw(ctx, Request{Method: http.MethodGet, Path: "truncated"})
	assert.ErrorIs(t, err, paykit.ErrInvalidResponse, "DoRaw truncated")
	for _, path := range []string{"empty", "no-content"} {
		var out struct{ ID string }
		assert.NoError(t, doBounded(t, ctx, c, Request{Method: http.MethodGet, Path: path}, &out), "%s", path)
	}
	resp, err := c.DoRaw(ctx, Request{Method: http.MethodGet, Path: "html"})
	require.NoError(t, err, "DoRaw: %+v, %v", resp, err)
	require.Equal(t, 200, resp.StatusCode, "DoRaw: %+v, %v", resp, err)
	require.Equal(t, "<html><body>Welcome</body></html>", string(resp.Body), "DoRaw: %+v, %v", resp, err)
	require.Equal(t, "text/html", resp.Header.Get("Content-Type"), "DoRaw: %+v, %v", resp, err)
}

// TestUnreadableAnswerToUnkeyedWrite: a 2xx whose body is cut off, not JSON, of the wrong
// shape or over the cap means the provider acted on the write; for a write with no idempotency
// mechanism the caller must look the object up, so the error wraps ErrUnknownOutcome as well as
// the reason. A keyed write can simply be sent again, so its error does not.
func TestUnreadableAnswerToUnkeyedWrite(t *testing.T) {
	big := strings.Repeat("x", 2048)
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/truncated":
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(201)
			_, _ = w.Write([]byte(`{"id":"pay_1","status":"wai`))
		case "/html":
			respond(201, "<html><body>Created</body></html>", "Content-Type", "text/html")(w, r)
		case "/wrong-shape":
			respond(201, `{"id":["not","a","string"]}`)(w, r)
		case "/oversized":
			respond(201, `{"id":"`+big+`"}`)(w, r)
		}
	})
	s := fastSettings(t, rec.URL)
	require.NoError(t, s.SetMaxResponseBytes(1024))
	c := newTestClient(t, Config{Provider: "jovepay", Settings: s})
	reasons := map[string]error{
		"truncated":   paykit.ErrInvalidResponse,
		"html":        paykit.ErrInvalidResponse,
		"wrong-shape": paykit.ErrInvalidResponse,
		"oversized":   paykit.ErrResponseTooLarge,
	}
	for path, reason := range reasons {
		var out struct{ ID string }
		err := doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: path, Body: []byte(`{}`)}, &out)
		assert.ErrorIs(t, err, paykit.ErrUnknownOutcome, "unkeyed POST /%s: got %v, want ErrUnknownOutcome and %v", path, err, reason)
		assert.ErrorIs(t, err, reason, "unkeyed POST /%s: got %v, want ErrUnknownOutcome and %v", path, err, reason)
		err = doBounded(t, context.Background(), c, Request{Method: http.MethodPost, Path: path, Body: []byte(`{}`), IdempotencyKey: "key-0123456789abcdef0123456789abcdef"}, &out)
		assert.NotErrorIs(t, err, paykit.ErrUnknownOutcome, "keyed POST /%s: got %v, want %v without ErrUnknownOutcome", path, err, reason)
		assert.ErrorIs(t, err, reason, "keyed POST /%s: got %v, want %v without ErrUnknownOutcome", path, err, reason)
	}
}

func TestDecodeErrorUnit(t *testing.T) {
	// Edge cases of the decoder that are awkward to produce over HTTP.
	resp := &http.Response{StatusCode: 418, Header: http.Header{}}
	e := decodeError("jopay", resp, []byte("\xff\xfe<p>bad\x00 bytes</p>"), nil, time.Now())
	assert.Equal(t, "I'm a teapot (bad bytes)", e.Message, "Message")
	resp = &http.Response{StatusCode: 599, Header: http.Header{"Request-Id": {strings.Repeat("r", 300)}}}
	e = decodeError("jopay", resp, []byte(`{"ok":false,"error":"x"}`), nil, time.Now())
	require.Len(t, []rune(e.RequestID), 129, "got %+v", e)
	assert.Empty(t, e.Message, "got %+v", e)
	assert.True(t, e.Retryable(), "got %+v", e)
	assert.Equal(t, "unterminated", excerpt("<div>unterminated <b", 50, newRedactor(nil)), "excerpt")
	assert.Equal(t, "word word wo…", excerpt(strings.Repeat("word ", 100), 12, newRedactor(nil)), "excerpt")
	assert.Equal(t, "a b c", excerpt("a<SCRIPT type=x>hidden</script>b<style>.c{}</STYLE>c", 50, newRedactor(nil)), "excerpt")
}

func TestErrorBodyCutAfterRedaction(t *testing.T) {
	// A credential straddling the MaxErrorBody cut must not leave its first half behind.
	const key = "jp_live_STRADDLING_KEY_0001"
	body := `{"code":"X","echo":"` + strings.Repeat("a", paykit.MaxErrorBody-30) + key + `"}`
	e := decodeError("jovepay", &http.Response{StatusCode: 400, Header: http.Header{}}, []byte(body), []string{key}, time.Now())
	require.Len(t, e.Body, paykit.MaxErrorBody, "Body ends %q", e.Body[len(e.Body)-40:])
	require.NotContains(t, string(e.Body), key[:8], "Body ends %q", e.Body[len(e.Body)-40:])
}

func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{
		`{"ok":false,"error":"customer_name_required"}`,
		`{"error":"not_found","message":"No session"}`,
		`{"statusCode":400,"code":"INVALID_REQUEST_PARAMS","message":"bad"}`,
		`{"success":false,"error":{"code":"API_KEY_INVALID","message":"Invalid API key"}}`,
		`{"error":"Failed to fetch wallets","code":"INTERNAL_SERVER_ERROR"}`,
		`{"success":false,"message":"slow","error_code":"RATE_LIMIT_EXCEEDED","retry_after":"15 minutes"}`,
		`<html><title>502</title><script>x</script><p>SECRET-TOK&#69;N-1</p></html>`,
		`{"message":"SECRET-TOK\u0045N-1 \u0000 line\nbreak"}`,
		"SECRET-TOK\x00EN-1 plain",
		``,
	} {
		f.Add(s, 502)
	}
	const secret = "SECRET-TOKEN-1"
	f.Fuzz(func(t *testing.T, body string, status int) {
		status = 400 + (status%200+200)%200 // 400–599
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {"5"}, "X-Request-Id": {body}}}
		e := decodeError("jopay", resp, []byte(body), []string{secret}, time.Now())
		require.Equal(t, status, e.Status, "got %+v", e)
		require.Equal(t, "jopay", e.Provider, "got %+v", e)
		require.Equal(t, 5*time.Second, e.RetryAfter, "got %+v", e)
		require.LessOrEqual(t, len(e.Body), paykit.MaxErrorBody, "Body %q", e.Body)
		require.NotContains(t, string(e.Body), secret, "Body %q", e.Body)
		for name, v := range map[string]string{"Code": e.Code, "Message": e.Message, "Error()": e.Error(), "RequestID": e.RequestID} {
			require.NotContains(t, v, secret, "%s %q carries the secret", name, v)
			require.False(t, strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }), "%s %q carries control characters", name, v)
			require.LessOrEqual(t, len([]rune(v)), 2*maxMessage+40, "%s: too many runes", name)
		}
	})
}
