package apitest

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/paykit-go/paykit"
)

// Observer is a paykit.Observer that records the CallStart of every call and the ResponseInfo
// it ended with, for the per-call-option tables of the provider packages. It is safe for
// concurrent use; the zero value is ready.
type Observer struct {
	mu     sync.Mutex
	starts []paykit.CallStart
	ends   []paykit.ResponseInfo
}

// StartCall records cs.
func (o *Observer) StartCall(ctx context.Context, cs paykit.CallStart) (context.Context, paykit.CallObserver) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.starts = append(o.starts, cs)
	return ctx, observedCall{o}
}

// Starts returns the recorded CallStarts, oldest first.
func (o *Observer) Starts() []paykit.CallStart {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.starts)
}

// Take returns the recorded CallStarts and forgets them.
func (o *Observer) Take() []paykit.CallStart {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.starts
	o.starts = nil
	return out
}

// Routes returns "METHOD /route" for every recorded call, oldest first.
func (o *Observer) Routes() []string {
	var out []string
	for _, s := range o.Starts() {
		out = append(out, s.Method+" "+s.Route)
	}
	return out
}

// Ends returns the ResponseInfo of every call that ended, oldest first.
func (o *Observer) Ends() []paykit.ResponseInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.ends)
}

type observedCall struct{ o *Observer }

func (observedCall) StartAttempt(ctx context.Context, _ int) context.Context { return ctx }
func (observedCall) EndAttempt(context.Context, int, int, error)             {}
func (c observedCall) End(_ context.Context, info paykit.ResponseInfo, _ error) {
	c.o.mu.Lock()
	defer c.o.mu.Unlock()
	c.o.ends = append(c.o.ends, info)
}

var callOptionsType = reflect.TypeFor[[]paykit.CallOption]()

// MethodTable checks that a per-call-option table covers a client type: table names exactly
// typ's exported methods except skip (methods that send nothing), and every covered method
// takes trailing ...paykit.CallOption, except those in ownOptions (a waiter takes its own
// options and hands call options on through them).
func MethodTable(t testing.TB, typ reflect.Type, table, skip, ownOptions []string) {
	t.Helper()
	var exported []string
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if slices.Contains(skip, m.Name) {
			continue
		}
		exported = append(exported, m.Name)
		if slices.Contains(ownOptions, m.Name) {
			continue
		}
		ft := m.Type
		if !ft.IsVariadic() || ft.In(ft.NumIn()-1) != callOptionsType {
			t.Errorf("%s.%s does not take trailing ...paykit.CallOption: %v", typ, m.Name, ft)
		}
	}
	table = slices.Sorted(slices.Values(table))
	if diff := cmp.Diff(exported, table); diff != "" {
		t.Fatalf("methods of %s minus %v in the table (-reflect +table):\n%s", typ, skip, diff)
	}
}
