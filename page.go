package paykit

import "errors"

// Page is one page of a list endpoint, the same shape in every provider package: each
// List…Page method returns a *Page, and its NextCursor goes into the params' Cursor field to
// fetch the page after it. The List… iterators walk the pages for you.
type Page[T any] struct {
	// Data holds the page's items, in the order the provider sent them.
	Data []T
	// HasMore reports whether the provider has more items after this page.
	HasMore bool
	// NextCursor is the cursor of the next page (put it in the params' Cursor field), or ""
	// when there is no next page or the provider sent none.
	NextCursor string
}

// ErrPaginationStuck is wrapped when a list iterator stops because the provider's pages do not
// move past the cursor (the same cursor or ids again, empty pages that still report more): the
// iterator ends with this error instead of looping. Test with errors.Is.
var ErrPaginationStuck = errors.New("paykit: pagination did not advance")
