package paykit

import "context"

// Observer watches a client's calls, for tracing and metrics. A client built with an Observer
// (each provider's WithObserver option) tells it when each logical call starts, when each
// attempt starts and ends, and how the call ended. The paykitotel package implements Observer
// with OpenTelemetry; the core packages depend on nothing but this interface.
//
// Observer methods run on the calling goroutine, in the call's path: keep them quick. They must
// be safe for concurrent use.
type Observer interface {
	// StartCall is called once per logical call, before any rate-limit wait or attempt. The
	// context it returns is used for the rest of the call (attach a span to it); the
	// CallObserver it returns hears about the call's attempts and end, and must not be nil.
	StartCall(ctx context.Context, call CallStart) (context.Context, CallObserver)
}

// CallStart identifies a logical call. It never holds an id, a query or a credential.
type CallStart struct {
	// Provider is the provider's package name ("jopay", "jopaycheckout", "jovepay", "pepay").
	Provider string
	// Method is the HTTP method ("GET").
	Method string
	// Route is the URL path template relative to the base URL, with a leading slash and every
	// id replaced by a placeholder: "/requests/{id}", never "/requests/req_123".
	Route string
}

// CallObserver follows one logical call started by Observer.StartCall.
type CallObserver interface {
	// StartAttempt is called before attempt number n (1 for the first) is sent. The context
	// it returns is the attempt's: its values (a child span) reach the request's RoundTripper.
	StartAttempt(ctx context.Context, n int) context.Context
	// EndAttempt is called when attempt n has ended, with the HTTP status (0 when no response
	// arrived) and the transport error (nil when a response arrived).
	EndAttempt(ctx context.Context, n int, status int, err error)
	// End is called once when the call ends, with what the caller's WithResponseInfo would
	// receive and the error the call returns (nil on success). err is a *Error for an API
	// error; its Code is the provider's error code.
	End(ctx context.Context, info ResponseInfo, err error)
}
