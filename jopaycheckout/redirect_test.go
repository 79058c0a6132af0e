package jopaycheckout_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/paykit-go/paykit/jopaycheckout"
)

func TestSessionIDFromRedirect(t *testing.T) {
	tests := []struct {
		url     string
		want    string
		wantErr error
	}{
		{"https://shop.example/success?session_id=cs_a1b2c3", "cs_a1b2c3", nil},
		{"/success?session_id=cs_a1b2c3", "cs_a1b2c3", nil},
		{"https://shop.example/success?order=7&session_id=cs_1", "cs_1", nil},
		{"https://shop.example/success?order=7?session_id=cs_1", "cs_1", nil}, // appended as plain text
		{"https://shop.example/success?session_id=cs_1&session_id=cs_1", "cs_1", nil},
		{"https://shop.example/success?bad=%zz&session_id=cs_1", "cs_1", nil},
		{"https://shop.example/success", "", jopaycheckout.ErrMissingSessionID},
		{"https://shop.example/success?order=7", "", jopaycheckout.ErrMissingSessionID},
		{"https://shop.example/success?session_id=", "", jopaycheckout.ErrInvalidSessionID},
		{"https://shop.example/success?session_id=cs_1&session_id=cs_2", "", jopaycheckout.ErrInvalidSessionID},
		{"https://shop.example/success?session_id=..%2Fadmin", "", jopaycheckout.ErrInvalidSessionID},
		{"https://shop.example/success?session_id=cs_1%3Fx%3D1", "", jopaycheckout.ErrInvalidSessionID},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := jopaycheckout.SessionIDFromRedirect(u)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("SessionIDFromRedirect(%s) = %q, %v; want %q, %v", tt.url, got, err, tt.want, tt.wantErr)
		}
		got2, err2 := jopaycheckout.SessionIDFromRedirectURL(tt.url)
		if got2 != got || (err2 == nil) != (err == nil) {
			t.Errorf("SessionIDFromRedirectURL(%s) = %q, %v; SessionIDFromRedirect gave %q, %v", tt.url, got2, err2, got, err)
		}
	}
	if _, err := jopaycheckout.SessionIDFromRedirect(nil); !errors.Is(err, jopaycheckout.ErrMissingSessionID) {
		t.Errorf("nil URL: %v", err)
	}
	if _, err := jopaycheckout.SessionIDFromRedirectURL("http://[::1"); !errors.Is(err, jopaycheckout.ErrMissingSessionID) {
		t.Errorf("unparsable URL: %v", err)
	}
}
