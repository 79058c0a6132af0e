package jovepay

import (
	"context"
	"fmt"
	"strings"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// Status checks that the API is up (GET /status, sent without the API key). It returns nil when
// JovePay answers {"message":"OK"}, an error wrapping ErrNotOK for any other message, and the
// usual *paykit.Error or transport error otherwise.
func (c *Client) Status(ctx context.Context, opts ...paykit.CallOption) error {
	var out struct {
		Message string `json:"message"`
	}
	if err := c.t.Do(ctx, transport.Request{Method: "GET", Path: "status", Route: "status", NoAuth: true, Options: opts}, &out); err != nil {
		return err
	}
	if !strings.EqualFold(strings.TrimSpace(out.Message), "OK") {
		return fmt.Errorf("%w: message %q", ErrNotOK, truncate(out.Message, 120))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
