package jovepay

import (
	"github.com/paykit-go/paykit"
	"net/url"
	"strings"
)

// Client-side checks of documented rules, so a request that cannot succeed is never sent.

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return &paykit.ValidationError{Field: field, Reason: "required"}
	}
	return nil
}

func positive(field string, d paykit.Decimal) error {
	if d.Sign() <= 0 {
		return &paykit.ValidationError{Field: field, Reason: "must be greater than 0"}
	}
	return nil
}

// callbackURL checks an optional URL JovePay will call or redirect to: absolute http(s) with a
// host ("must start with http/https" in the docs).
func callbackURL(field, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &paykit.ValidationError{Field: field, Reason: "must be an absolute http:// or https:// URL"}
	}
	return nil
}
