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

// doRequest sends req through the shared transport and decodes the 2xx body into out (nil discards it)
// with decodeResponse.
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
	if err := decodeResponse(resp.StatusCode, resp.Body, out); err != nil {
		var apiErr *paykit.Error
		if asAPIError(err, &apiErr) {
			return err
		}
		return fmt.Errorf("%s: %s /%s: %w: %v", Provider, req.Method, req.Path, paykit.ErrInvalidResponse, err)
	}
	return nil
}

func asAPIError(err error, target **paykit.Error) bool {
	e, ok := err.(*paykit.Error)
	if ok {
		*target = e
	}
	return ok
}

// decodeResponse decodes a body that may or may not be wrapped in Pepay's
// {"success":…,"data":…} envelope: events, ws-token and payor responses are wrapped, invoice
// responses are not, and the docs are not consistent about which is which. A 2xx body with
// "success": false becomes a *paykit.Error.
func decodeResponse(status int, b []byte, out any) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var probe struct {
			Success *bool           `json:"success"`
			Data    json.RawMessage `json:"data"`
			Error   json.RawMessage `json:"error"`
			Message string          `json:"message"`
		}
		if err := json.Unmarshal(b, &probe); err != nil {
			return err
		}
		if probe.Success != nil {
			if !*probe.Success {
				return successFalse(status, b, probe.Error, probe.Message)
			}
			if len(probe.Data) > 0 && !bytes.Equal(probe.Data, []byte("null")) {
				b = probe.Data
			}
		}
	}
	return json.Unmarshal(b, out)
}

// successFalse builds the *paykit.Error for a 2xx answer that says it failed.
func successFalse(status int, body, errField []byte, msg string) error {
	e := &paykit.Error{Provider: Provider, Status: status, Message: msg}
	var nested struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	var s string
	switch {
	case json.Unmarshal(errField, &nested) == nil:
		e.Code = nested.Code
		if nested.Message != "" {
			e.Message = nested.Message
		}
	case json.Unmarshal(errField, &s) == nil && e.Message == "":
		e.Message = s
	}
	if len(body) > paykit.MaxErrorBody {
		body = body[:paykit.MaxErrorBody]
	}
	e.Body = append([]byte(nil), body...)
	return e
}
