package transport

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestURLJoining(t *testing.T) {
	bases := []struct{ base, prefix string }{
		{"https://acme.jopay.app", ""},
		{"https://acme.jopay.app/", ""},
		{"https://acme.jopay.app/api/v1", "/api/v1"},
		{"https://acme.jopay.app/api/v1/", "/api/v1"},
		{"https://acme.jopay.app/api/v1//", "/api/v1"},
		{"http://127.0.0.1:8080/v1", "/v1"},
	}
	paths := []struct{ path, want string }{
		{"requests/create", "/requests/create"},
		{"/requests/create", "/requests/create"},
		{"//requests/create", "/requests/create"},
		{"payment/", "/payment/"}, // trailing slash kept (JovePay's list is GET /payment/)
		{"/payment/", "/payment/"},
		{"requests/" + url.PathEscape("req/1 2"), "/requests/req%2F1%202"},
		{"", "/"},
	}
	for _, b := range bases {
		c := newTestClient(t, Config{Settings: DefaultSettings(b.base)})
		host := strings.TrimRight(strings.TrimSuffix(strings.TrimRight(b.base, "/"), b.prefix), "/")
		assert.Equal(t, host+b.prefix, c.BaseURL(), "BaseURL(%q)", b.base)
		for _, p := range paths {
			want := host + b.prefix + p.want
			assert.Equal(t, want, c.URL(p.path, nil), "URL(%q + %q)", b.base, p.path)
		}
	}

	c := newTestClient(t, Config{Settings: DefaultSettings("https://api.example.com/api/v1")})
	queries := []struct {
		path string
		q    url.Values
		want string
	}{
		{"invoices", url.Values{"limit": {"10"}, "cursor": {"a b&c=d/é"}}, "https://api.example.com/api/v1/invoices?cursor=a+b%26c%3Dd%2F%C3%A9&limit=10"},
		{"invoices", url.Values{"status": {"paid", "expired"}}, "https://api.example.com/api/v1/invoices?status=paid&status=expired"},
		{"invoices", url.Values{}, "https://api.example.com/api/v1/invoices"},
		{"invoices?environment=devnet", url.Values{"limit": {"5"}}, "https://api.example.com/api/v1/invoices?environment=devnet&limit=5"},
	}
	for _, q := range queries {
		assert.Equal(t, q.want, c.URL(q.path, q.q), "URL(%q, %v)", q.path, q.q)
	}
}

func TestURLOnTheWire(t *testing.T) {
	rec := newRecorder(t, respond(200, `{}`))
	for _, base := range []string{rec.URL + "/api/v1", rec.URL + "/api/v1/"} {
		c := newTestClient(t, Config{Settings: fastSettings(t, base)})
		for _, path := range []string{"requests/create", "/requests/create"} {
			require.NoError(t, doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: path, Query: url.Values{"q": {"a b"}}}, nil))
		}
	}
	for i, a := range rec.Attempts() {
		assert.Equal(t, "/api/v1/requests/create", a.Path, "request %d: %s ? %s", i, a.Path, a.Query)
		assert.Equal(t, "q=a+b", a.Query, "request %d: %s ? %s", i, a.Path, a.Query)
	}
}

func TestValidateBaseURL(t *testing.T) {
	good := []string{
		"https://acme.jopay.app/api/v1", "https://acme.jopay.app/api/v1/", "http://127.0.0.1:8080",
		"https://[::1]:8443/x", "https://api.jovepay.io/v1",
	}
	for _, u := range good {
		assert.NoError(t, ValidateBaseURL(u), "ValidateBaseURL(%q)", u)
		var s Settings
		err := s.SetBaseURL(u)
		require.NoError(t, err, "SetBaseURL(%q) = %v, BaseURL %q", u, err, s.BaseURL)
		assert.Equal(t, u, s.BaseURL, "SetBaseURL(%q) = %v, BaseURL %q", u, err, s.BaseURL)
	}
	bad := []string{
		"", "acme.jopay.app", "/api/v1", "ftp://acme.jopay.app", "https://", "https:///path", "http://:8080",
		"https://acme.jopay.app/api?x=1", "https://acme.jopay.app/api?", "https://acme.jopay.app/#frag", "https://acme.jopay.app#",
		"https://user:s3cretpass@acme.jopay.app", "https://acme.jopay.app/\x7f", " https://acme.jopay.app", "https://acme.jopay.app:port",
		"mailto:a@b.c",
	}
	for _, u := range bad {
		err := ValidateBaseURL(u)
		if !assert.Error(t, err, "ValidateBaseURL(%q) accepted it", u) {
			continue
		}
		assert.NotContains(t, err.Error(), "s3cretpass", "error repeats the password: %v", err)
		s := DefaultSettings("https://kept.example")
		require.Error(t, s.SetBaseURL(u), "SetBaseURL(%q) changed the settings", u)
		assert.Equal(t, "https://kept.example", s.BaseURL, "SetBaseURL(%q) changed the settings", u)
		_, err = New(Config{Provider: "jopay", Settings: DefaultSettings(u)})
		assert.Error(t, err, "New accepted base URL %q", u)
	}
}

func TestSettingsSetters(t *testing.T) {
	type setter struct {
		name  string
		apply func(*Settings) error
		ok    bool
		check func(Settings) bool
	}
	logger := slog.New(slog.DiscardHandler)
	hc := &http.Client{}
	tests := []setter{
		{"retries 0", func(s *Settings) error { return s.SetMaxRetries(0) }, true, func(s Settings) bool { return s.MaxRetries == 0 }},
		{"retries 10", func(s *Settings) error { return s.SetMaxRetries(10) }, true, func(s Settings) bool { return s.MaxRetries == 10 }},
		{"retries 11", func(s *Settings) error { return s.SetMaxRetries(11) }, false, nil},
		{"retries -1", func(s *Settings) error { return s.SetMaxRetries(-1) }, false, nil},
		{"wait ok", func(s *Settings) error { return s.SetRetryWait(time.Second, 2*time.Second) }, true, func(s Settings) bool { return s.RetryWaitMin == time.Second && s.RetryWaitMax == 2*time.Second }},
		{"wait equal", func(s *Settings) error { return s.SetRetryWait(time.Second, time.Second) }, true, nil},
		{"wait zero min", func(s *Settings) error { return s.SetRetryWait(0, time.Second) }, false, nil},
		{"wait max < min", func(s *Settings) error { return s.SetRetryWait(2*time.Second, time.Second) }, false, nil},
		{"retry-after 0", func(s *Settings) error { return s.SetMaxRetryAfter(0) }, true, func(s Settings) bool { return s.MaxRetryAfter == 0 }},
		{"retry-after 5m", func(s *Settings) error { return s.SetMaxRetryAfter(5 * time.Minute) }, true, func(s Settings) bool { return s.MaxRetryAfter == 5*time.Minute }},
		{"retry-after negative", func(s *Settings) error { return s.SetMaxRetryAfter(-time.Second) }, false, nil},
		{"max bytes", func(s *Settings) error { return s.SetMaxResponseBytes(1) }, true, func(s Settings) bool { return s.MaxResponseBytes == 1 }},
		{"max bytes 0", func(s *Settings) error { return s.SetMaxResponseBytes(0) }, false, nil},
		{"max bytes negative", func(s *Settings) error { return s.SetMaxResponseBytes(-1) }, false, nil},
		{"user agent", func(s *Settings) error { return s.SetUserAgent("shop/1.0 (+https://shop.example)") }, true, func(s Settings) bool { return s.UserAgent == "shop/1.0 (+https://shop.example)" }},
		{"user agent empty", func(s *Settings) error { return s.SetUserAgent(" ") }, false, nil},
		{"user agent CRLF", func(s *Settings) error { return s.SetUserAgent("a\r\nX-Evil: 1") }, false, nil},
		{"user agent NUL", func(s *Settings) error { return s.SetUserAgent("a\x00b") }, false, nil},
		{"user agent DEL", func(s *Settings) error { return s.SetUserAgent("a\x7fb") }, false, nil},
		{"logger", func(s *Settings) error { return s.SetLogger(logger) }, true, func(s Settings) bool { return s.Logger == logger }},
		{"logger nil", func(s *Settings) error { return s.SetLogger(nil) }, false, nil},
		{"http client", func(s *Settings) error { return s.SetHTTPClient(hc) }, true, func(s Settings) bool { return s.HTTPClient == hc }},
		{"http client nil", func(s *Settings) error { return s.SetHTTPClient(nil) }, false, nil},
	}
	for _, tt := range tests {
		s := DefaultSettings("https://api.example.com")
		before := s
		err := tt.apply(&s)
		if !assert.Equal(t, tt.ok, err == nil, "%s: err = %v", tt.name, err) {
			continue
		}
		if !tt.ok && s != before {
			t.Errorf("%s: a refused value changed the settings", tt.name)
		}
		if tt.ok && tt.check != nil && !tt.check(s) {
			t.Errorf("%s: not applied: %+v", tt.name, s)
		}
	}
}

func TestDefaults(t *testing.T) {
	s := DefaultSettings("https://api.example.com")
	want := Settings{BaseURL: "https://api.example.com", MaxRetries: 3, RetryWaitMin: 500 * time.Millisecond,
		RetryWaitMax: 8 * time.Second, MaxRetryAfter: time.Minute, MaxResponseBytes: 10 << 20}
	assert.Equal(t, want, s, "DefaultSettings")
	// New fills what a zero Settings leaves unusable.
	c, err := New(Config{Provider: "jopay", Settings: Settings{BaseURL: "https://api.example.com"}})
	require.NoError(t, err)
	assert.Equal(t, int64(DefaultMaxResponseBytes), c.maxBody, "zero settings gave maxBody %d wait %v–%v", c.maxBody, c.waitMin, c.waitMax)
	assert.Equal(t, DefaultRetryWaitMin, c.waitMin, "zero settings gave maxBody %d wait %v–%v", c.maxBody, c.waitMin, c.waitMax)
	assert.Equal(t, DefaultRetryWaitMax, c.waitMax, "zero settings gave maxBody %d wait %v–%v", c.maxBody, c.waitMin, c.waitMax)
	assert.Equal(t, "jopay", c.Provider(), "zero settings gave maxBody %d wait %v–%v", c.maxBody, c.waitMin, c.waitMax)
	_, err = New(Config{Settings: s})
	assert.Error(t, err, "New accepted a config without a provider name")
}
