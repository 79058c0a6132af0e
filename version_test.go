package paykit_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/paykit-go/paykit"
)

// TestVersionMatchesChangelog: paykit.Version (and so every User-Agent) agrees with the top
// section of CHANGELOG.md — "X.Y.Z-dev" under "## [Unreleased]" whose text names X.Y.Z as the
// next release, or exactly the newest released "## [X.Y.Z]".
func TestVersionMatchesChangelog(t *testing.T) {
	b, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile(`(?m)^## \[([^\]]+)\]`)
	m := heading.FindSubmatchIndex(b)
	if m == nil {
		t.Fatal("CHANGELOG.md has no ## [version] section")
	}
	top := string(b[m[2]:m[3]])
	if top != "Unreleased" {
		if paykit.Version != top {
			t.Errorf("Version = %q, newest CHANGELOG release is %q", paykit.Version, top)
		}
		return
	}
	next, ok := strings.CutSuffix(paykit.Version, "-dev")
	if !ok {
		t.Fatalf("Version = %q, want <next release>-dev while CHANGELOG has an Unreleased section", paykit.Version)
	}
	section := b[m[1]:]
	if n := heading.FindIndex(section); n != nil {
		section = section[:n[0]]
	}
	if !strings.Contains(string(section), "paykit.Version` is "+"`"+paykit.Version+"`") || !strings.Contains(string(section), next) {
		t.Errorf("the Unreleased section does not say it becomes %s (paykit.Version is %s)", next, paykit.Version)
	}
}
