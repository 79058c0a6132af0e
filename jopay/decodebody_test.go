package jopay_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stretchr/testify/assert"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/jopay"
)

// TestUndecodableAnswers: the transport hands 2xx bodies to the response types' DecodeBody
// without validating them first; every body json.Unmarshal refuses is still an invalid response.
func TestUndecodableAnswers(t *testing.T) {
	bodies := map[string]string{
		"truncated": `{"ok":true,"request_id":"x","status":"requ`,
		"html":      `<html><body>Welcome</body></html>`,
		"trailing":  `{"ok":true,"request_id":"x"} {"request_id":"y"}`,
		"garbage":   `{"ok":true,"request_id":"x"}x`,
		"metadata":  `{"ok":true,"request_id":"x","metadata":{"a":"b",}}`,
		"array":     `[{"request_id":"x"}]`,
	}
	c, mux := setup(t)
	mux.HandleFunc("/api/v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(bodies[r.PathValue("id")]))
	})
	mux.HandleFunc("/api/v1/requests", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(bodies[r.URL.Query().Get("merchant_id")]))
	})
	ctx := context.Background()
	for id := range bodies {
		_, err := c.GetRequest(ctx, id)
		assert.ErrorIs(t, err, paykit.ErrInvalidResponse, "GetRequest %s", id)
		_, err = c.ListRequestsPage(ctx, jopay.ListRequestsParams{MerchantID: id})
		assert.ErrorIs(t, err, paykit.ErrInvalidResponse, "ListRequestsPage %s", id)
	}
	// Whitespace around the value is fine, as it is for json.Unmarshal.
	bodies["spaced"] = " \n{\"ok\":true,\"request_id\":\"x\",\"metadata\":{ \"a\" : \"b\" }}\n "
	r, err := c.GetRequest(ctx, "spaced")
	require.NoError(t, err, "spaced")
	assert.Equal(t, "x", r.ID, "spaced: %+v", r)
	assert.Equal(t, "b", r.Metadata["a"], "spaced: %+v", r)
}
