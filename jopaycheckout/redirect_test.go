package jopaycheckout_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.NoError(t, err)
		got, err := jopaycheckout.SessionIDFromRedirect(u)
		assert.Equal(t, tt.want, got, "SessionIDFromRedirect(%s)", tt.url)
		if tt.wantErr == nil {
			assert.NoError(t, err, "SessionIDFromRedirect(%s)", tt.url)
		} else {
			assert.ErrorIs(t, err, tt.wantErr, "SessionIDFromRedirect(%s)", tt.url)
		}
		got2, err2 := jopaycheckout.SessionIDFromRedirectURL(tt.url)
		assert.Equal(t, got, got2, "SessionIDFromRedirectURL(%s) and SessionIDFromRedirect differ", tt.url)
		assert.Equal(t, err == nil, err2 == nil, "SessionIDFromRedirectURL(%s) = %v; SessionIDFromRedirect gave %v", tt.url, err2, err)
	}
	_, err := jopaycheckout.SessionIDFromRedirect(nil)
	assert.ErrorIs(t, err, jopaycheckout.ErrMissingSessionID, "nil URL")
	_, err = jopaycheckout.SessionIDFromRedirectURL("http://[::1")
	assert.ErrorIs(t, err, jopaycheckout.ErrMissingSessionID, "unparsable URL")
}
