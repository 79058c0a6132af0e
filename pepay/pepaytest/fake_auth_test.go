package pepaytest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/paykit-go/paykit/pepay"
	"github.com/paykit-go/paykit/pepay/pepaytest"
)

// The fake's auth rules for the dashboard JWT, the account routes and commerce tokens.
func TestDashboardAndCommerceAuth(t *testing.T) {
	srv := pepaytest.NewServer(pepaytest.WithDashboardToken("jwt_custom"), pepaytest.WithCommerceKey("ck_custom"), pepaytest.WithMainnetAccess(true))
	defer srv.Close()
	key := map[string]string{"x-api-key": srv.APIKey}
	jwt := map[string]string{"Authorization": "Bearer jwt_custom"}
	ck := map[string]string{"x-commerce-api-key": "ck_custom"}
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		body               string
		status             int
		code               string
	}{
		{"invoice list with JWT", "GET", "/api/v1/invoices", jwt, "", 200, ""},
		{"invoice list with wrong JWT", "GET", "/api/v1/invoices", map[string]string{"Authorization": "Bearer nope"}, "", 401, "TOKEN_INVALID"},
		{"status with key", "GET", "/api/v1/user/mainnet-access/status", key, "", 403, "AUTH_MODE_MISMATCH"},
		{"status without auth", "GET", "/api/v1/user/mainnet-access/status", nil, "", 401, "UNAUTHORIZED"},
		{"status with JWT", "GET", "/api/v1/user/mainnet-access/status", jwt, "", 200, ""},
		{"bad environment", "PUT", "/api/v1/user/environment", jwt, `{"environment":"testnet"}`, 400, "VALIDATION_ERROR"},
		{"wrong field name", "PUT", "/api/v1/user/environment", jwt, `{"env":"mainnet"}`, 400, "VALIDATION_ERROR"},
		{"switch", "PUT", "/api/v1/user/environment", jwt, `{"environment":"mainnet"}`, 200, ""},
		{"commerce token with commerce key", "POST", "/api/v1/ws/token", ck, `{"scope":"commerce","ttl_seconds":60}`, 200, ""},
		{"merchant token with commerce key", "POST", "/api/v1/ws/token", ck, `{"scope":"merchant","ttl_seconds":60}`, 400, "VALIDATION_ERROR"},
		{"commerce token with merchant key", "POST", "/api/v1/ws/token", key, `{"scope":"commerce","ttl_seconds":60}`, 400, "VALIDATION_ERROR"},
		{"wrong commerce key", "POST", "/api/v1/ws/token", map[string]string{"x-commerce-api-key": "ck_x"}, `{"scope":"commerce","ttl_seconds":60}`, 401, "API_KEY_INVALID"},
		{"events with JWT", "GET", "/api/v1/events", jwt, "", 401, "API_KEY_REQUIRED"},
		{"commerce stream without key", "GET", "/ws/commerce/events", nil, "", 401, "API_KEY_REQUIRED"},
		{"payor stream without token", "GET", "/ws/payment", nil, "", 401, "TOKEN_REQUIRED"},
	} {
		status, body := do(t, srv, tc.method, tc.path, tc.hdr, tc.body)
		if !assert.Equal(t, tc.status, status, "%s: status (body %s)", tc.name, body) {
			continue
		}
		if tc.code != "" {
			assert.Equal(t, tc.code, code(t, body), "%s: code", tc.name)
		}
	}
	assert.Equal(t, pepay.EnvironmentMainnet, srv.AccountEnvironment(), "environment")
	srv.SetMainnetAccess(false)
	assert.Equal(t, pepay.EnvironmentDevnet, srv.AccountEnvironment(), "environment after withdrawal")
}
