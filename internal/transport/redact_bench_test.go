package transport

import (
	"strings"
	"testing"
)

// BenchmarkRedact measures the redaction of a 1 MiB error body against a baseline in the same
// run: replacing the raw credentials with strings.ReplaceAll, which finds no escaped form.
func BenchmarkRedact(b *testing.B) {
	secrets := []string{"jp_live_ENCKEY_9876543210", encPassword, "eyJhbGciOiJIUzI1NiJ9.SECRET-1.c2lnbmF0dXJl"}
	bodies := []struct{ name, body string }{
		{"plain", strings.Repeat(`{"id":"abc","amount":"12.50","note":"hello world"},`, 1<<20/51)},
		{"escaped", strings.Repeat(`{"id":"abc","url":"https:\/\/x.example\/a?b=1&amp;c=%20d","n":"\u00e9"},`, 1<<20/72)},
	}
	for _, body := range bodies {
		b.Run(body.name+"/redactor", func(b *testing.B) {
			b.SetBytes(int64(len(body.body)))
			for b.Loop() {
				RedactSecrets(body.body, secrets)
			}
		})
		b.Run(body.name+"/baseline_replaceall", func(b *testing.B) {
			b.SetBytes(int64(len(body.body)))
			for b.Loop() {
				s := body.body
				for _, v := range secrets {
					s = strings.ReplaceAll(s, v, "[REDACTED]")
				}
			}
		})
	}
}
