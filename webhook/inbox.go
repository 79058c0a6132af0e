package webhook

import (
	"context"
	"net/http"
	"time"
)

// Inbox stores verified deliveries so that a handler can answer at once and process them later, durably.
//
// The webhook/riverinbox package implements it on River, a PostgreSQL job queue. Implementations
// must be safe for concurrent use.
type Inbox interface {
	// Register tells the inbox how to process deliveries queued under endpoint. Handler constructors call it once;
	// a second registration of the same endpoint name is an error.
	Register(endpoint string, process func(ctx context.Context, d *Delivery) error) error
	// Enqueue stores d durably and returns nil only once it is committed. A delivery whose Key is not empty is stored at
	// most once per (Endpoint, Key) while an earlier one is pending, running or retained as completed.
	Enqueue(ctx context.Context, d *Delivery) error
}

// Delivery is one verified webhook delivery as the inbox stores it.
type Delivery struct {
	Endpoint   string      // the name the handler registered under
	Key        string      // dedupe key ("" = none)
	Body       []byte      // raw verified body
	Header     http.Header // request headers (the signature headers included)
	ReceivedAt time.Time   // when the handler received the delivery
}
