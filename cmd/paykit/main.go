// Command paykit tests payment-provider integrations locally, as the Stripe CLI does for
// Stripe, for JoPay, JoPay Checkout, JovePay and Pepay:
//
//	paykit fake <provider> [--addr 127.0.0.1:12111] [--webhook-url URL] [--webhook-secret S]
//	paykit trigger <provider> <event> --to URL [--secret S] [--set key=value]... [--repeat N] [--stale] [--form node|php|python]
//	paykit verify <provider> [--secret S] [--previous-secret S] --header 'Name: value'... < body
//	paykit events pepay --since evt_… --deliver-to URL [--secret S]
//
// Install with go install github.com/paykit-go/paykit/cmd/paykit@latest, or run it from a
// checkout with go run ./cmd/paykit. Every command has --help with examples.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/paykit-go/paykit/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx)
	stop()
	os.Exit(code)
}
