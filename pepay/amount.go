package pepay

import (
	"strconv"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/jsonx"
)

// USDMillis is an amount in thousandths of a US dollar ("amount_unit": "usd_millis"), the unit
// of every integer amount on an invoice: 25000 is $25.000. It decodes from a JSON number or a
// numeric string without going through float64.
type USDMillis int64

// MillisPerUSD is the number of USDMillis in one dollar.
const MillisPerUSD = 1000

// paykit.Decimal returns the amount in dollars as an exact decimal with three places (25000 → 25.000).
func (m USDMillis) Decimal() paykit.Decimal { return paykit.NewDecimal(int64(m), 3) }

// String formats the amount in dollars with three places, like Pepay's amount_decimal
// ("25.000").
func (m USDMillis) String() string { return m.Decimal().String() }

// USDMillisFromDecimal converts a dollar amount to USDMillis. ok is false when d has more than
// three decimal places (it would round) or does not fit in an int64.
func USDMillisFromDecimal(d paykit.Decimal) (m USDMillis, ok bool) {
	v, ok := d.Int64Scaled(3)
	return USDMillis(v), ok
}

// UnmarshalJSON accepts a JSON number, a numeric string or null (0). Fractions are refused:
// usd_millis are integers, and silently rounding money is worse than failing.
func (m *USDMillis) UnmarshalJSON(b []byte) error {
	var n jsonx.Int64
	if err := n.UnmarshalJSON(b); err != nil {
		return err
	}
	*m = USDMillis(n)
	return nil
}

// MarshalJSON writes the integer.
func (m USDMillis) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, int64(m), 10), nil }
