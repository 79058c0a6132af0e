package pepay

import (
	"bytes"
	"encoding/json"
	"sort"

	"github.com/paykit-go/paykit"
)

// Totals holds Pepay's invoice aggregates. The response's fields are not documented, so every
// top-level number (or numeric string) is kept by name in Values, exactly, and the whole object in
// Raw. Amount fields follow the invoice convention (integers in usd_millis) unless their name
// ends in _decimal.
type Totals struct {
	// Values maps each numeric field to its exact value ("count" → 12, "amount_paid" → 250000).
	Values map[string]paykit.Decimal
	// Raw is the response object as received (unwrapped from {success, data}).
	Raw json.RawMessage
}

// Names returns the field names in Values, sorted.
func (t *Totals) Names() []string {
	names := make([]string, 0, len(t.Values))
	for k := range t.Values {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// USDMillis returns the named field as USDMillis, and whether it was present and an integer.
func (t *Totals) USDMillis(name string) (USDMillis, bool) {
	d, ok := t.Values[name]
	if !ok {
		return 0, false
	}
	v, ok := d.Int64Scaled(0)
	return USDMillis(v), ok
}

// UnmarshalJSON keeps every numeric top-level field; objects, arrays, strings that are not
// numbers and booleans stay in Raw only.
func (t *Totals) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	t.Raw = append(json.RawMessage(nil), bytes.TrimSpace(b)...)
	t.Values = make(map[string]paykit.Decimal, len(fields))
	for k, raw := range fields {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] == '{' || raw[0] == '[' || raw[0] == 't' || raw[0] == 'f' || raw[0] == 'n' {
			continue
		}
		var d paykit.Decimal
		if d.UnmarshalJSON(raw) == nil {
			t.Values[k] = d
		}
	}
	return nil
}
