// Package ratelimit is paykit's default client-side rate limiter. It keeps a client within a
// provider's documented "n requests per window" when the provider counts requests in a sliding
// window: it admits one request every window/n (the generic cell rate algorithm, a token bucket
// with a burst of one), so no window ever holds more than n admissions. Limiters made from one
// Group can admit a request on several of them at the same instant (Group.All), which a route
// with a quota of its own inside the key's quota needs: JoPay's POST /merchants counts against
// both its own 30 per minute and the key's 60. Waits that would outlast the caller's deadline are
// refused at once (paykit.ErrRateLimited), and the clock is injectable so tests drive it.
//
// golang.org/x/time/rate cannot do the joint admission (its reservations are taken at "now", so
// a request admitted by one bucket and then delayed by another is counted early by the first);
// a *rate.Limiter still fits paykit.RateLimiter for callers who bring their own.
package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/paykit-go/paykit"
)

// Clock is the time source of a Group. The zero Clock is the real one.
type Clock struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c Clock) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Clock) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Group is a set of limiters sharing one lock and one clock, so that a request can be admitted
// by several of them at the same instant. Its zero value is not usable; use NewGroup.
type Group struct {
	mu    sync.Mutex
	clock Clock
}

// NewGroup returns a Group running on clock.
func NewGroup(clock Clock) *Group { return &Group{clock: clock} }

// Limiter admits at most n requests in any window of its length (see PerWindow). It implements
// paykit.RateLimiter and is safe for concurrent use.
type Limiter struct {
	g        *Group
	interval time.Duration
	next     time.Time // the earliest instant of the next admission; guarded by g.mu
}

// PerWindow returns a Limiter of g admitting n requests per window: one every window/n,
// rounded up.
func (g *Group) PerWindow(n int, window time.Duration) *Limiter {
	if n <= 0 || window <= 0 {
		panic("ratelimit: n and window must be positive")
	}
	return &Limiter{g: g, interval: (window + time.Duration(n) - 1) / time.Duration(n)}
}

// PerWindow returns a Limiter of a Group of its own on clock.
func PerWindow(n int, window time.Duration, clock Clock) *Limiter {
	return NewGroup(clock).PerWindow(n, window)
}

// Wait blocks until one more request may be sent (see Joint.Wait).
func (l *Limiter) Wait(ctx context.Context) error { return wait(ctx, l.g, l) }

// Joint admits a request on several limiters of one Group at the same instant.
type Joint struct {
	g  *Group
	ls []*Limiter
}

// All returns the Joint of ls, which must all belong to g.
func (g *Group) All(ls ...*Limiter) *Joint {
	for _, l := range ls {
		if l.g != g {
			panic("ratelimit: All over limiters of another Group")
		}
	}
	return &Joint{g: g, ls: ls}
}

// Wait blocks until one more request may be sent on every limiter of j. When that moment lies
// past ctx's deadline it returns at once with an error wrapping paykit.ErrRateLimited, having
// taken nothing; when ctx ends while waiting it returns ctx's error and gives back what it took
// unless a later request has been admitted after it.
func (j *Joint) Wait(ctx context.Context) error { return wait(ctx, j.g, j.ls...) }

func wait(ctx context.Context, g *Group, ls ...*Limiter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.mu.Lock()
	now := g.clock.now()
	at := now
	for _, l := range ls {
		if l.next.After(at) {
			at = l.next
		}
	}
	d := at.Sub(now)
	if dl, ok := ctx.Deadline(); ok && d > 0 && time.Until(dl) < d {
		g.mu.Unlock()
		return fmt.Errorf("%w: the next request may be sent in %v, after the context's deadline", paykit.ErrRateLimited, d.Round(time.Millisecond))
	}
	prev := make([]time.Time, len(ls))
	for i, l := range ls {
		prev[i] = l.next
		l.next = at.Add(l.interval)
	}
	g.mu.Unlock()
	if d <= 0 {
		return nil
	}
	if err := g.clock.sleep(ctx, d); err != nil {
		g.mu.Lock()
		for i, l := range ls {
			if l.next.Equal(at.Add(l.interval)) { // nobody was admitted after this request
				l.next = prev[i]
			}
		}
		g.mu.Unlock()
		return err
	}
	return nil
}
