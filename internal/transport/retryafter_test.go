package transport

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// ParseRetryAfter reads what the client's own retries read; CapRetryAfter bounds it.
func TestParseAndCapRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in     string
		limit  time.Duration
		want   time.Duration
		wantOK bool
	}{
		{"5", time.Minute, 5 * time.Second, true},
		{"86400", DefaultMaxRetryAfter, DefaultMaxRetryAfter, true}, // a day, capped at 60 s
		{"86400", 2 * time.Second, 2 * time.Second, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), time.Hour, 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), time.Hour, 0, true},
		{"3", 0, 0, true}, // a zero cap waits for nothing
		{"", time.Minute, 0, false},
		{"-1", time.Minute, 0, false},
		{"soon", time.Minute, 0, false},
	} {
		d, ok := ParseRetryAfter(tt.in, now)
		own, _ := retryAfter(tt.in, now)
		assert.Equal(t, own, d, "ParseRetryAfter(%q) disagrees with the client's own parser", tt.in)
		got := CapRetryAfter(d, tt.limit)
		assert.Equal(t, tt.want, got, "%q capped at %v = %v, %v; want %v, %v", tt.in, tt.limit, got, ok, tt.want, tt.wantOK)
		assert.Equal(t, tt.wantOK, ok, "%q capped at %v = %v, %v; want %v, %v", tt.in, tt.limit, got, ok, tt.want, tt.wantOK)
	}
	assert.Zero(t, CapRetryAfter(time.Second, -time.Second), "negative cap")
}
