package pepay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
	"github.com/paykit-go/paykit/internal/transport"
)

// WSScope is the scope of a ws_token: it must match the key type.
type WSScope string

// Token scopes.
const (
	ScopeMerchant WSScope = "merchant"
	ScopeCommerce WSScope = "commerce"
)

// WSToken is a short-lived token for a WebSocket connection (?token=), for clients that cannot
// set headers (browsers, mobile). Treat Token as a credential: it is opaque (a JWT or ws_…).
type WSToken struct {
	// Token is the ws_token to send as ?token=; a credential.
	Token string `json:"token"`
	// Scope is the scope the token was minted for, merchant or commerce.
	Scope WSScope `json:"scope"`
	// MerchantID is the merchant's id (a number or string on the wire).
	MerchantID string `json:"merchant_id,omitempty"`
	// NetworkEnvironment is the environment as sent by Pepay ("devnet" or "mainnet").
	NetworkEnvironment string `json:"network_environment,omitempty"`
	// ExpiresAt is when the token expires (RFC 3339 or unix seconds on the wire).
	ExpiresAt time.Time `json:"expires_at"`
	// WSURL is the WebSocket URL as sent by Pepay; "" when absent.
	WSURL string `json:"ws_url,omitempty"`
}

// UnmarshalJSON accepts expires_at as RFC 3339 or unix seconds and merchant_id as string or number.
func (t *WSToken) UnmarshalJSON(b []byte) error {
	type plain WSToken
	*t = WSToken{}
	w := struct {
		*plain
		MerchantID jsonx.ID   `json:"merchant_id"`
		ExpiresAt  jsonx.Time `json:"expires_at"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	t.MerchantID, t.ExpiresAt = string(w.MerchantID), w.ExpiresAt.Time
	return nil
}

// String hides the token, so printing a WSToken does not leak it.
func (t WSToken) String() string {
	return "pepay.WSToken{scope:" + string(t.Scope) + ", token:[REDACTED]}"
}

// GoString implements fmt.GoStringer with the token hidden.
func (t WSToken) GoString() string { return t.String() }

// wsTokenPath is the ws_token route.
const wsTokenPath = "ws/token"

// DefaultWSTokenTTL is the ttl Stream asks for when it mints tokens.
const DefaultWSTokenTTL = 60 * time.Second

// NewWSToken mints a ws_token (POST /api/v1/ws/token). ttl is rounded up to whole seconds and
// must be positive; scope must match the key type (a merchant key gets 400 for commerce: mint
// commerce tokens with CommerceClient.NewWSToken).
func (c *Client) NewWSToken(ctx context.Context, scope WSScope, ttl time.Duration, opts ...paykit.CallOption) (*WSToken, error) {
	return mintWSToken(ctx, c.t, scope, ttl, opts)
}

func mintWSToken(ctx context.Context, t *transport.Client, scope WSScope, ttl time.Duration, opts []paykit.CallOption) (*WSToken, error) {
	if scope != ScopeMerchant && scope != ScopeCommerce {
		return nil, &paykit.ValidationError{Field: "scope", Reason: "must be merchant or commerce"}
	}
	if ttl <= 0 {
		return nil, &paykit.ValidationError{Field: "ttl_seconds", Reason: "must be positive"}
	}
	secs := int64((ttl + time.Second - 1) / time.Second)
	body := struct {
		Scope      WSScope `json:"scope"`
		TTLSeconds int64   `json:"ttl_seconds"`
	}{scope, secs}
	var out WSToken
	// Minting twice is harmless, so the call is retried like a read.
	err := doRequest(ctx, t, transport.Request{Method: http.MethodPost, Path: wsTokenPath, Route: wsTokenPath, Body: body, Idempotent: true, Options: opts}, &out)
	if err != nil {
		return nil, err
	}
	if out.Token == "" {
		return nil, fmt.Errorf("pepay: ws token: %w: no token in the response", paykit.ErrInvalidResponse)
	}
	return &out, nil
}
