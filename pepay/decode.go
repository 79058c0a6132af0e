package pepay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// doRequest sends req through the shared transport and decodes the 2xx body into out (nil
// discards it) with decodeResponse. A 2xx body with "success": false becomes the transport's
// *paykit.Error for a failed success (redacted, bounded, with method and path).
func doRequest(ctx context.Context, t *transport.Client, req transport.Request, out any) error {
	resp, err := t.DoRaw(ctx, req)
	if err != nil {
		return err
	}
	if out == nil || resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(resp.Body)) == 0 {
		if out != nil {
			return fmt.Errorf("%s: %s /%s: %w: empty body", Provider, req.Method, req.Path, paykit.ErrInvalidResponse)
		}
		return nil
	}
	failed, err := decodeResponse(resp.Body, out)
	if failed != nil {
		return t.FailedSuccess(req, resp.StatusCode, failed.code, failed.message, resp.Body)
	}
	if err != nil {
		return fmt.Errorf("%s: %s /%s: %w: %w", Provider, req.Method, req.Path, paykit.ErrInvalidResponse, err)
	}
	return nil
}

// failure is what a 2xx body with "success": false says about the failure.
type failure struct{ code, message string }

// decodeResponse decodes a body that may or may not be wrapped in Pepay's
// {"success":…,"data":…} envelope: events, ws-token and payor responses are wrapped, invoice
// responses are not, and the docs are not consistent about which is which. A body with
// "success": false is not decoded: its failure is returned instead.
func decodeResponse(b []byte, out any) (*failure, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var probe struct {
			Success *bool           `json:"success"`
			Data    json.RawMessage `json:"data"`
			Error   json.RawMessage `json:"error"`
			Message string          `json:"message"`
		}
		if err := json.Unmarshal(b, &probe); err != nil {
			return nil, err
		}
		if probe.Success != nil {
			if !*probe.Success {
				return failureOf(probe.Error, probe.Message), nil
			}
			if len(probe.Data) > 0 && !bytes.Equal(probe.Data, []byte("null")) {
				b = probe.Data
			}
		}
	}
	return nil, json.Unmarshal(b, out)
}

// failureOf reads the code and message of a failed success: "error" is an object with code and
// message, or a string.
func failureOf(errField []byte, msg string) *failure {
	f := &failure{message: msg}
	var nested struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	var s string
	switch {
	case json.Unmarshal(errField, &nested) == nil:
		f.code = nested.Code
		if nested.Message != "" {
			f.message = nested.Message
		}
	case json.Unmarshal(errField, &s) == nil && f.message == "":
		f.message = s
	}
	return f
}
