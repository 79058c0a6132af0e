package paykit_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/paykit-go/paykit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVersionMatchesChangelog: paykit.Version (and so every User-Agent) agrees with the top
// section of CHANGELOG.md — "X.Y.Z-dev" under "## [Unreleased]" whose text names X.Y.Z as the
// next release, or exactly the newest released "## [X.Y.Z]".
func TestVersionMatchesChangelog(t *testing.T) {
	b, err := os.ReadFile("CHANGELOG.md")
	require.NoError(t, err)
	heading := regexp.MustCompile(`(?m)^## \[([^\]]+)\]`)
	m := heading.FindSubmatchIndex(b)
	require.NotNil(t, m, "CHANGELOG.md has no ## [version] section")
	top := string(b[m[2]:m[3]])
	if top != "Unreleased" {
		assert.Equal(t, paykit.Version, top, "Version = %q, newest CHANGELOG release is %q", paykit.Version, top)
		return
	}
	next, ok := strings.CutSuffix(paykit.Version, "-dev")
	require.True(t, ok, "Version = %q, want <next release>-dev while CHANGELOG has an Unreleased section", paykit.Version)
	section := b[m[1]:]
	if n := heading.FindIndex(section); n != nil {
		section = section[:n[0]]
	}
	assert.Contains(t, string(section), "paykit.Version` is "+"`"+paykit.Version+"`", "the Unreleased section does not give paykit.Version")
	assert.Contains(t, string(section), next, "the Unreleased section does not say it becomes %s", next)
}
