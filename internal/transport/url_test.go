package transport

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
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
		if got := c.BaseURL(); got != host+b.prefix {
			t.Errorf("BaseURL(%q) = %q", b.base, got)
		}
		for _, p := range paths {
			want := host + b.prefix + p.want
			if got := c.URL(p.path, nil); got != want {
				t.Errorf("URL(%q + %q) = %q, want %q", b.base, p.path, got, want)
			}
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
		if got := c.URL(q.path, q.q); got != q.want {
			t.Errorf("URL(%q, %v) = %q, want %q", q.path, q.q, got, q.want)
		}
	}
}

func TestURLOnTheWire(t *testing.T) {
	rec := newRecorder(t, respond(200, `{}`))
	for _, base := range []string{rec.URL + "/api/v1", rec.URL + "/api/v1/"} {
		c := newTestClient(t, Config{Settings: fastSettings(t, base)})
		for _, path := range []string{"requests/create", "/requests/create"} {
			if err := doBounded(t, context.Background(), c, Request{Method: http.MethodGet, Path: path, Query: url.Values{"q": {"a b"}}}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, a := range rec.Attempts() {
		if a.Path != "/api/v1/requests/create" || a.Query != "q=a+b" {
			t.Errorf("request %d: %s ? %s", i, a.Path, a.Query)
		}
	}
}

func TestValidateBaseURL(t *testing.T) {
	good := []string{
		"https://acme.jopay.app/api/v1", "https://acme.jopay.app/api/v1/", "http://127.0.0.1:8080",
		"https://[::1]:8443/x", "https://api.jovepay.io/v1",
	}
	for _, u := range good {
		if err := ValidateBaseURL(u); err != nil {
			t.Errorf("ValidateBaseURL(%q) = %v", u, err)
		}
		var s Settings
		if err := s.SetBaseURL(u); err != nil || s.BaseURL != u {
			t.Errorf("SetBaseURL(%q) = %v, BaseURL %q", u, err, s.BaseURL)
		}
	}
	bad := []string{
		"", "acme.jopay.app", "/api/v1", "ftp://acme.jopay.app", "https://", "https:///path", "http://:8080",
		"https://acme.jopay.app/api?x=1", "https://acme.jopay.app/api?", "https://acme.jopay.app/#frag", "https://acme.jopay.app#",
		"https://user:s3cretpass@acme.jopay.app", "https://acme.jopay.app/\x7f", " https://acme.jopay.app", "https://acme.jopay.app:port",
		"mailto:a@b.c",
	}
	for _, u := range bad {
		err := ValidateBaseURL(u)
		if err == nil {
			t.Errorf("ValidateBaseURL(%q) accepted it", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cretpass") {
			t.Errorf("error repeats the password: %v", err)
		}
		s := DefaultSettings("https://kept.example")
		if s.SetBaseURL(u) == nil || s.BaseURL != "https://kept.example" {
			t.Errorf("SetBaseURL(%q) changed the settings", u)
		}
		if _, err := New(Config{Provider: "jopay", Settings: DefaultSettings(u)}); err == nil {
			t.Errorf("New accepted base URL %q", u)
		}
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
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok %v", tt.name, err, tt.ok)
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
	if s != want {
		t.Errorf("DefaultSettings = %+v, want %+v", s, want)
	}
	// New fills what a zero Settings leaves unusable.
	c, err := New(Config{Provider: "jopay", Settings: Settings{BaseURL: "https://api.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.maxBody != DefaultMaxResponseBytes || c.waitMin != DefaultRetryWaitMin || c.waitMax != DefaultRetryWaitMax || c.Provider() != "jopay" {
		t.Errorf("zero settings gave maxBody %d wait %v–%v", c.maxBody, c.waitMin, c.waitMax)
	}
	if _, err := New(Config{Settings: s}); err == nil {
		t.Error("New accepted a config without a provider name")
	}
}
