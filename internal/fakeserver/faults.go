// Package fakeserver holds what the four in-process fake provider servers share: fault
// injection (failed calls with Retry-After, latency, connections dropped after the request was
// read), the call log, and signed webhook delivery with the provider's retry rules. Its types
// never appear in the fakes' exported API: each fake declares documented structs with the same
// fields (Fault, Attempt, Call) and converts.
package fakeserver

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Fault is one injected failure. The fakes' Fault types have the same fields, so that
// fakeserver.Fault(f) converts one.
type Fault struct {
	// Status is the HTTP status to answer with (ignored when Drop is set).
	Status int
	// RetryAfter, when positive, is sent as a Retry-After header in whole seconds.
	RetryAfter time.Duration
	// Drop reads the whole request and then closes the connection without answering, so the
	// client cannot know whether the server acted on it. The server did not act on it.
	Drop bool
	// LoseResponse lets the server handle the request (a create really creates) and then closes
	// the connection instead of sending the response: the case where a retry without an
	// idempotency key would act twice. Status is ignored.
	LoseResponse bool
	// Match limits the fault to requests it returns true for (nil: any request).
	Match func(*http.Request) bool
}

// Faults is a queue of injected failures plus a latency added to every request. The zero value
// injects nothing. It is safe for concurrent use.
type Faults struct {
	mu      sync.Mutex
	queue   []Fault
	latency time.Duration
	// ErrorBody renders the provider's error envelope for an injected status.
	ErrorBody func(status int) []byte
}

// FailNext makes the next n matching requests fail with status (and Retry-After when
// retryAfter > 0).
func (f *Faults) FailNext(n, status int, retryAfter time.Duration) {
	f.Add(n, Fault{Status: status, RetryAfter: retryAfter})
}

// DropNext makes the next n requests be read in full and then answered by closing the
// connection.
func (f *Faults) DropNext(n int) { f.Add(n, Fault{Drop: true}) }

// LoseResponseNext makes the next n requests be handled in full and then answered by closing
// the connection, so the client never sees the response of a request the server acted on.
func (f *Faults) LoseResponseNext(n int) { f.Add(n, Fault{LoseResponse: true}) }

// Add queues n copies of fault.
func (f *Faults) Add(n int, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < n; i++ {
		f.queue = append(f.queue, fault)
	}
}

// SetLatency delays every request by d (0 removes the delay).
func (f *Faults) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// Reset removes all queued faults and the latency.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue, f.latency = nil, 0
}

// next pops the first queued fault that matches r.
func (f *Faults) next(r *http.Request) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, fault := range f.queue {
		if fault.Match == nil || fault.Match(r) {
			f.queue = append(f.queue[:i], f.queue[i+1:]...)
			return fault, true
		}
	}
	return Fault{}, false
}

func (f *Faults) currentLatency() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latency
}

// Wrap returns next with the faults applied in front of it. The latency comes first; a fault is
// taken from the queue only once the latency has passed, so a request its caller abandoned
// during the wait does not use up a fault meant for the retry.
func (f *Faults) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if latency := f.currentLatency(); latency > 0 {
			t := time.NewTimer(latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		fault, ok := f.next(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if fault.Drop {
			DropConnection(w, r)
			return
		}
		if fault.LoseResponse {
			next.ServeHTTP(httptest.NewRecorder(), r)
			DropConnection(w, r)
			return
		}
		if fault.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((fault.RetryAfter+time.Second-1)/time.Second)))
		}
		body := []byte(`{"error":"injected_fault"}`)
		if f.ErrorBody != nil {
			body = f.ErrorBody(fault.Status)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(fault.Status)
		_, _ = w.Write(body)
	})
}

// DropConnection reads the request body and closes the connection without a response.
func DropConnection(w http.ResponseWriter, r *http.Request) {
	buf := make([]byte, 4096)
	for {
		if _, err := r.Body.Read(buf); err != nil {
			break
		}
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: aborting the handler resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
