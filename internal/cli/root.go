// Package cli implements the paykit command: a local fake of each provider (fake), signed
// test deliveries (trigger), signature diagnosis (verify) and Pepay event replay (events), for
// the four providers jopay, jopay-checkout, jovepay and pepay.
//
// The commands are built per call by NewRootCommand, with their output streams and the
// environment passed in, so tests run them in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Env looks up an environment variable, like os.LookupEnv.
type Env func(name string) (string, bool)

// IO holds the streams and environment a command runs with.
type IO struct {
	// In is standard input (verify reads the body from it).
	In io.Reader
	// Out receives the command's output.
	Out io.Writer
	// Err receives error messages.
	Err io.Writer
	// Env looks up environment variables; nil means none are set.
	Env Env
}

func (o IO) lookup(name string) (string, bool) {
	if o.Env == nil {
		return "", false
	}
	v, ok := o.Env(name)
	return v, ok && v != ""
}

// exitError carries a specific exit status without a message of its own (the command has
// already explained itself).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// NewRootCommand returns the paykit command with its subcommands, writing to o.Out and o.Err
// and reading secrets from flags or o.Env.
func NewRootCommand(o IO) *cobra.Command {
	if o.In == nil {
		o.In = strings.NewReader("")
	}
	root := &cobra.Command{
		Use:   "paykit",
		Short: "Test payment-provider integrations locally: fakes, signed webhooks, signature diagnosis",
		Long: `paykit does for JoPay, JoPay Checkout, JovePay and Pepay what the Stripe CLI does for Stripe:
it runs a provider's stateful fake as a standalone server, sends correctly signed webhook
deliveries of every documented event to your handler, explains why a signature does not
verify, and replays Pepay events a handler missed.

Providers: jopay, jopay-checkout, jovepay, pepay.
Secrets come from flags or environment variables and are never printed.`,
		Example: `  paykit fake jopay --addr 127.0.0.1:12111 --webhook-url http://127.0.0.1:8080/webhooks/jopay
  paykit trigger pepay invoice.updated --to http://127.0.0.1:8080/webhooks/pepay
  paykit verify jopay --header 'X-JoPay-Signature: v1=…,t=…' < body.json`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(o.Out)
	root.SetErr(o.Err)
	root.SetIn(o.In)
	root.AddCommand(newFakeCommand(o), newTriggerCommand(o), newVerifyCommand(o), newEventsCommand(o))
	return root
}

// Execute runs the paykit command with args and returns the process exit status: 0 on
// success, 1 when the command failed (after printing why to o.Err), 2 for bad usage.
func Execute(ctx context.Context, args []string, o IO) int {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Err == nil {
		o.Err = io.Discard
	}
	root := NewRootCommand(o)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(o.Err, "paykit: "+err.Error())
	return 1
}

// Main runs the paykit command with the process's arguments, streams and environment.
func Main(ctx context.Context) int {
	return Execute(ctx, os.Args[1:], IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Env: os.LookupEnv})
}

// providerArg validates the first positional argument and completes provider names.
func providerArg(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return providerNames, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// secretFrom returns the secret from the flag value or the first set environment variable,
// with a description of where it came from that never contains the secret.
func (o IO) secretFrom(flagValue, flagName string, envs ...string) (secret, source string) {
	if flagValue != "" {
		return flagValue, "from --" + flagName
	}
	for _, e := range envs {
		if v, ok := o.lookup(e); ok {
			return v, "from " + e
		}
	}
	return "", ""
}
