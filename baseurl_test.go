package paykit_test

import (
	"strings"
	"testing"

	"github.com/paykit-go/paykit/jopay"
	"github.com/paykit-go/paykit/jopaycheckout"
	"github.com/paykit-go/paykit/jovepay"
	"github.com/paykit-go/paykit/pepay"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBaseURLRule checks the one base URL rule of every provider: WithBaseURL takes the API
// root including its version path; a URL that cannot be right is refused when the client is
// built, with an error naming the provider and the option and showing the expected form.
func TestBaseURLRule(t *testing.T) {
	build := map[string]func(base string) (string, error){
		"jopay": func(base string) (string, error) {
			c, err := jopay.NewClient("jo_test_x", jopay.WithBaseURL(base))
			if err != nil {
				return "", err
			}
			return c.BaseURL(), nil
		},
		"jopaycheckout": func(base string) (string, error) {
			c, err := jopaycheckout.NewClient("sk_test_x", jopaycheckout.WithBaseURL(base))
			if err != nil {
				return "", err
			}
			return c.BaseURL(), nil
		},
		"jovepay": func(base string) (string, error) {
			c, err := jovepay.NewClient("key", jovepay.WithBaseURL(base))
			if err != nil {
				return "", err
			}
			return c.BaseURL(), nil
		},
		"pepay": func(base string) (string, error) {
			c, err := pepay.NewClient("pk_x", pepay.WithBaseURL(base))
			if err != nil {
				return "", err
			}
			return c.BaseURL(), nil
		},
	}
	version := map[string]string{"jopay": "/api/v1", "jopaycheckout": "/api/checkout/v1", "jovepay": "/v1", "pepay": "/api/v1"}
	want := map[string]string{
		"jopay": jopay.AdminBaseURL, "jopaycheckout": jopaycheckout.DefaultBaseURL,
		"jovepay": jovepay.DefaultBaseURL, "pepay": pepay.DefaultBaseURL,
	}
	for provider, newClient := range build {
		v := version[provider]
		tests := []struct {
			name, base, got, errHas string
		}{
			{name: "API root", base: "https://proxy.example" + v, got: "https://proxy.example" + v},
			{name: "trailing slash", base: "https://proxy.example/p" + v + "/", got: "https://proxy.example/p" + v},
			{name: "doubled version path", base: "https://proxy.example" + v + v, errHas: "repeats " + v},
			{name: "missing version path", base: "https://proxy.example/other", errHas: "has no " + v + " path"},
			{name: "query", base: "https://proxy.example" + v + "?a=1", errHas: "query"},
			{name: "fragment", base: "https://proxy.example" + v + "#x", errHas: "fragment"},
			{name: "scheme", base: "ftp://proxy.example" + v, errHas: "scheme"},
		}
		if provider == "pepay" {
			// Pepay's bare host, the form older releases documented, is completed.
			tests = append(tests, struct{ name, base, got, errHas string }{name: "bare host", base: "https://proxy.example", got: "https://proxy.example/api/v1"})
		} else {
			tests = append(tests, struct{ name, base, got, errHas string }{name: "bare host", base: "https://proxy.example", errHas: "has no " + v + " path"})
		}
		for _, tc := range tests {
			t.Run(provider+"/"+tc.name, func(t *testing.T) {
				got, err := newClient(tc.base)
				if tc.errHas == "" {
					require.NoError(t, err, "BaseURL()")
					require.Equal(t, tc.got, got, "BaseURL()")
					return
				}
				require.Error(t, err, "%q accepted as %q", tc.base, got)
				msg := err.Error()
				assert.True(t, strings.HasPrefix(msg, provider+": WithBaseURL: "), "error %q, want %q: WithBaseURL: …", msg, provider)
				assert.Contains(t, msg, tc.errHas)
				if strings.Contains(tc.errHas, v) {
					assert.Contains(t, msg, "want "+want[provider], "error does not show the expected form")
				}
			})
		}
	}
}

// TestConstructorErrorsNameTheOption checks that a refused option is reported by name, never
// by position.
func TestConstructorErrorsNameTheOption(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{second(jopay.NewClient("jo_test_x", jopay.WithSlug("a"), jopay.WithMaxRetries(11))), "jopay: WithMaxRetries: "},
		{second(jopay.NewClient("jo_test_x", jopay.WithSlug("A"))), "jopay: WithSlug: "},
		{second(jopaycheckout.NewClient("sk_test_x", jopaycheckout.WithIdempotencyHeader(""))), "jopaycheckout: WithIdempotencyHeader: "},
		{second(jovepay.NewClient("key", jovepay.WithCredentials("", "pw"))), "jovepay: WithCredentials: "},
		{second(pepay.NewClient("pk_x", pepay.WithEnvironment("testnet"))), "pepay: WithEnvironment: "},
		{second(pepay.NewClient("pk_x", pepay.WithLogger(nil))), "pepay: WithLogger: "},
	} {
		if assert.Error(t, tc.err, "want an error starting with %q", tc.want) {
			assert.True(t, strings.HasPrefix(tc.err.Error(), tc.want), "error %v, want it to start with %q", tc.err, tc.want)
			assert.NotContains(t, tc.err.Error(), "option ")
		}
	}
}

func second[T any](_ T, err error) error { return err }
