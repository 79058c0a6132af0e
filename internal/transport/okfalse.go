package transport

import (
	"github.com/paykit-go/paykit"
)

// FailedSuccess builds the *paykit.Error for a 2xx answer whose body says the call failed
// (JoPay's {"ok":false,"error":…}, Pepay's {"success":false,"error":…}). Status is the 2xx
// status the provider sent; Code and Message are the body's, cut to one line and redacted;
// Body is a bounded copy of body with every credential of the call redacted before it is cut;
// Method and Path are req's, as on every other *paykit.Error.
func (c *Client) FailedSuccess(req Request, status int, code, message string, body []byte) *paykit.Error {
	red := newRedactor(c.secretsFor(&req, nil))
	e := &paykit.Error{
		Provider: c.provider,
		Method:   req.Method,
		Path:     logPath(req.Path),
		Status:   status,
		Code:     oneLine(code, maxMessage, red),
		Message:  oneLine(message, maxMessage, red),
	}
	if len(body) > 0 {
		clean := red.redact(string(body))
		if len(clean) > paykit.MaxErrorBody {
			clean = clean[:paykit.MaxErrorBody]
		}
		e.Body = []byte(clean)
	}
	return e
}
