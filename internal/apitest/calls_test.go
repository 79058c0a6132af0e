package apitest

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/paykit-go/paykit"
)

type sample struct{}

func (*sample) BaseURL() string                                         { return "" }
func (*sample) Get(context.Context, string, ...paykit.CallOption) error { return nil }
func (*sample) Wait(context.Context, string, ...int) error              { return nil }
func (*sample) Forgot(context.Context, string) error                    { return nil }

// recorder is a testing.TB that records failures; Fatalf ends its goroutine like t.Fatalf.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
	panic(r)
}

func runTable(table, skip, own []string) (msgs []string) {
	r := &recorder{TB: &testing.T{}}
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		msgs = r.msgs
	}()
	MethodTable(r, reflect.TypeFor[*sample](), table, skip, own)
	return r.msgs
}

func TestMethodTable(t *testing.T) {
	typ := []string{"Forgot", "Get", "Wait"}
	assert.Len(t, runTable(typ, []string{"BaseURL"}, []string{"Wait"}), 1, "Forgot takes no call options")
	assert.Empty(t, runTable([]string{"Get", "Wait"}, []string{"BaseURL", "Forgot"}, []string{"Wait"}))
	msgs := runTable([]string{"Get"}, []string{"BaseURL", "Forgot"}, []string{"Wait"})
	if assert.Len(t, msgs, 1) {
		assert.Contains(t, msgs[0], "-reflect +table", "a method missing from the table")
	}
	assert.NotEmpty(t, runTable([]string{"Get", "Wait", "Extra"}, []string{"BaseURL", "Forgot"}, []string{"Wait"}), "a table entry that is no method")
}

func TestObserverRecords(t *testing.T) {
	var o Observer
	_, c := o.StartCall(context.Background(), paykit.CallStart{Provider: "jopay", Method: "GET", Route: "/requests/{id}"})
	c.End(context.Background(), paykit.ResponseInfo{StatusCode: 200}, nil)
	assert.Equal(t, []string{"GET /requests/{id}"}, o.Routes())
	assert.Equal(t, 200, o.Ends()[0].StatusCode)
	assert.Len(t, o.Take(), 1)
	assert.Empty(t, o.Starts())
}
