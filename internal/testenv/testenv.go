// Package testenv lets a test that needs an external server or tool skip where it is missing
// — so `go test ./...` passes on any machine — while CI, which provides all of them, turns
// every such skip into a failure: a missing PostgreSQL or php-cli there must not hide a bug.
//
// CI sets PAYKIT_TEST_REQUIRE_EXTERNAL=1. Tests call Getenv or LookPath instead of t.Skip.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireExternalEnv names the environment variable that, set to 1, makes every missing
// external dependency a test failure instead of a skip.
const RequireExternalEnv = "PAYKIT_TEST_REQUIRE_EXTERNAL"

// Required reports whether missing external dependencies fail tests (PAYKIT_TEST_REQUIRE_EXTERNAL=1).
func Required() bool { return os.Getenv(RequireExternalEnv) == "1" }

// Getenv returns the environment variable name, which holds a server's address. When it is
// unset the test is skipped with hint (how to provide it), or fails when Required.
func Getenv(t testing.TB, name, hint string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Missing(t, "%s is not set (%s)", name, hint)
	}
	return v
}

// LookPath returns the path of the program tool. When it is not installed the test is
// skipped with hint (how to install it), or fails when Required.
func LookPath(t testing.TB, tool, hint string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		Missing(t, "%s is not installed (%s): %v", tool, hint, err)
	}
	return p
}

// Missing skips the test because an external dependency is missing, or fails it when
// Required. It does not return.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s; %s=1 requires every external dependency", msg, RequireExternalEnv)
	}
	t.Skip(msg)
}
