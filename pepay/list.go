package pepay

import (
	"context"
	"fmt"
	"iter"

	"github.com/paykit-go/paykit"
	"github.com/paykit-go/paykit/internal/transport"
)

// wireList is a Pepay list envelope: {"object":"list","data":[…],"has_more":…}.
type wireList[T any] struct {
	Data    []*T `json:"data"`
	HasMore bool `json:"has_more"`
}

// listPage fetches one page of a list endpoint with req (a GET with its query, route and call
// options). NextCursor is the id that continues the walk: the last item's (older pages) or,
// when newer is set, the first item's.
func listPage[T any](ctx context.Context, t *transport.Client, req transport.Request, id func(*T) string, newer bool) (*paykit.Page[*T], error) {
	var w wireList[T]
	if err := doRequest(ctx, t, req, &w); err != nil {
		return nil, err
	}
	page := &paykit.Page[*T]{Data: w.Data, HasMore: w.HasMore}
	if page.Data == nil {
		page.Data = []*T{}
	}
	if w.HasMore && len(w.Data) > 0 {
		if newer {
			page.NextCursor = id(w.Data[0])
		} else {
			page.NextCursor = id(w.Data[len(w.Data)-1])
		}
	}
	return page, nil
}

// paginate turns a page fetcher into an iterator. cursor is "" for the first page, then the
// previous page's NextCursor; a page that does not move the cursor ends the walk with
// paykit.ErrPaginationStuck.
func paginate[T any](fetch func(cursor string) (*paykit.Page[*T], error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		cursor := ""
		for {
			page, err := fetch(cursor)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, it := range page.Data {
				if !yield(it, nil) {
					return
				}
			}
			if !page.HasMore {
				return
			}
			if len(page.Data) == 0 {
				yield(nil, fmt.Errorf("%w: empty page with has_more", paykit.ErrPaginationStuck))
				return
			}
			next := page.NextCursor
			if next == "" || next == cursor {
				yield(nil, fmt.Errorf("%w: cursor %q repeated", paykit.ErrPaginationStuck, next))
				return
			}
			cursor = next
		}
	}
}

func errSeq[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}
