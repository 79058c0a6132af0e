package jovepay

import (
	"encoding/json"
	"strings"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
)

// ID identifies a payment, purchase, invoice or withdrawal. JovePay sends the same id as a
// string in one response ("payment_id":"5745459419" on create) and a number in another
// ("payment_id":5745459419 on status and in IPNs); both decode to the same ID, keeping every
// digit. It encodes as a JSON string. The empty ID means absent (null).
type ID string

// UnmarshalJSON accepts a JSON string, a JSON number or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	var j jsonx.ID
	if err := j.UnmarshalJSON(b); err != nil {
		return err
	}
	*id = ID(j)
	return nil
}

// String returns the id's text.
func (id ID) String() string { return string(id) }

// IsZero reports whether the id is absent.
func (id ID) IsZero() bool { return id == "" }

// normDecimal formats d without trailing fractional zeros ("15.50" → "15.5", "15.0" → "15"), so
// the same amount sent as 15 and "15.0" gives the same text.
func normDecimal(d paykit.Decimal) string {
	s := d.String()
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// sameCurrency compares tickers case-insensitively ("BTC" and "btc"), ignoring surrounding space.
func sameCurrency(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// rawText returns a JSON string's value, a number's digits, "" for null, and the raw JSON text
// of anything else (an object where a message was expected), so nothing is lost.
func rawText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if s, ok := jsonx.Text(raw); ok {
		return s
	}
	return string(raw)
}
