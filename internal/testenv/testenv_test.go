package testenv_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/paykit-go/paykit/internal/testenv"
)

// fakeTB records how a helper ended the test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.skipped = true
	f.msg = args[0].(string)
	panic(f)
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = format
	panic(f)
}

func run(fn func(tb testing.TB)) (f *fakeTB) {
	f = &fakeTB{}
	defer func() {
		if r := recover(); r != nil && r != f {
			panic(r)
		}
	}()
	fn(f)
	return f
}

func TestMissingSkipsOrFails(t *testing.T) {
	const unset = "PAYKIT_TESTENV_SURELY_UNSET"
	t.Setenv(testenv.RequireExternalEnv, "")
	f := run(func(tb testing.TB) { testenv.Getenv(tb, unset, "hint") })
	assert.True(t, f.skipped, "not required: skipped=%v failed=%v, want a skip", f.skipped, f.failed)
	assert.False(t, f.failed, "not required: skipped=%v failed=%v, want a skip", f.skipped, f.failed)
	f = run(func(tb testing.TB) { testenv.LookPath(tb, "paykit-no-such-tool", "hint") })
	assert.True(t, f.skipped, "missing tool not skipped")
	t.Setenv(testenv.RequireExternalEnv, "1")
	f = run(func(tb testing.TB) { testenv.Getenv(tb, unset, "hint") })
	assert.True(t, f.failed, "required: skipped=%v failed=%v, want a failure", f.skipped, f.failed)
	assert.False(t, f.skipped, "required: skipped=%v failed=%v, want a failure", f.skipped, f.failed)
	f = run(func(tb testing.TB) { testenv.LookPath(tb, "paykit-no-such-tool", "hint") })
	assert.True(t, f.failed, "required missing tool did not fail")
	t.Setenv(unset, "127.0.0.1:1")
	assert.Equal(t, "127.0.0.1:1", testenv.Getenv(t, unset, "hint"), "Getenv")
}
